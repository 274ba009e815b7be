// The page's state in the address bar, so that a copied link (or a reload) brings it back.
//
//   ?surface=rosenbrock | ?formula=x**2%2B3*y**2
//   &start=-1.2,1 &steps=500 &view=3d &show=adam
//   &opt=sgd,momentum,adam &adam.lr=0.05 &adam.betas=0.9,0.999 &momentum.momentum=0.9

function numbers(text) {
  if (text == null || text === "") return null;
  const values = text.split(",").map(Number);
  return values.every(Number.isFinite) ? values : null;
}

/** The state written in `search` (a location.search string); fields not there are left out. */
export function readState(search) {
  const params = new URLSearchParams(search);
  const state = { hyper: {} };
  if (params.has("formula")) state.formula = params.get("formula");
  else if (params.has("surface")) state.surface = params.get("surface");
  const start = numbers(params.get("start"));
  if (start && start.length === 2) state.start = start;
  const steps = Number(params.get("steps"));
  if (params.has("steps") && Number.isInteger(steps) && steps > 0) state.steps = steps;
  if (params.get("view") === "3d") state.view = "3d";
  if (params.has("show")) state.show = params.get("show");
  if (params.has("opt")) state.selected = params.get("opt").split(",").filter(Boolean);
  for (const [key, value] of params) {
    const dot = key.indexOf(".");
    if (dot <= 0) continue;
    const name = key.slice(0, dot);
    const hyper = key.slice(dot + 1);
    const parsed = numbers(value);
    if (!parsed) continue;
    state.hyper[name] = state.hyper[name] || {};
    state.hyper[name][hyper] = parsed.length === 1 ? parsed[0] : parsed;
  }
  return state;
}

// short, exact enough to restore the same path: 6 significant digits
function short(value) {
  return Array.isArray(value) ? value.map(short).join(",") : String(Number(value.toPrecision(6)));
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The query string of `state`: the selected optimisers' hyperparameters, those that differ from
 * `defaults` (name -> {key: value}) only, so a shared link stays short.
 */
export function writeState(state, defaults = {}) {
  const params = new URLSearchParams();
  if (state.formula != null) params.set("formula", state.formula);
  else if (state.surface) params.set("surface", state.surface);
  if (state.start) params.set("start", short(state.start));
  params.set("steps", String(state.steps));
  if (state.view === "3d") params.set("view", "3d");
  params.set("opt", state.selected.join(","));
  for (const name of state.selected) {
    for (const [hyper, value] of Object.entries(state.hyper[name] || {})) {
      if (same(value, (defaults[name] || {})[hyper])) continue;
      params.set(`${name}.${hyper}`, short(value));
    }
  }
  if (state.show) params.set("show", state.show);
  return "?" + params.toString().replace(/%2C/g, ",");
}
