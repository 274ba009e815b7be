// One row per optimiser: a checkbox in its colour and a slider (with a number box) for each
// hyperparameter. A change calls onChange(name, key, value) or onToggle(name, checked).

const LABELS = {
  lr: "learning rate",
  momentum: "momentum μ",
  alpha: "smoothing α",
  eps: "ε",
  damping: "damping",
  weight_decay: "weight decay",
};

// 3 significant digits: slider values stay short in the address bar and round-trip exactly
export function round3(value) {
  return Number(Number(value).toPrecision(3));
}

function slider(id, label, range, value, onInput) {
  const wrap = document.createElement("div");
  wrap.className = "hyper";
  const log = Boolean(range.log) && range.min > 0;
  const toSlider = (v) => (log ? Math.log10(v) : v);
  const fromSlider = (s) => round3(log ? 10 ** s : s);
  const span = range.max - range.min;

  const name = document.createElement("label");
  name.htmlFor = id;
  name.textContent = label;
  const input = document.createElement("input");
  input.type = "range";
  input.id = `${id}-slider`;
  input.min = String(toSlider(range.min));
  input.max = String(toSlider(range.max));
  input.step = log ? "0.01" : String(span <= 1 ? 0.001 : span / 1000);
  input.value = String(toSlider(value));
  input.setAttribute("aria-label", `${label}${log ? " (log scale)" : ""}`);
  const box = document.createElement("input");
  box.type = "number";
  box.id = id;
  box.step = "any";
  box.min = String(range.min);
  box.max = String(range.max);
  box.value = String(value);
  box.className = "num";

  input.addEventListener("input", () => {
    const v = fromSlider(Number(input.value));
    box.value = String(v);
    box.removeAttribute("aria-invalid");
    onInput(v);
  });
  box.addEventListener("change", () => {
    const v = Number(box.value);
    if (box.value === "" || !Number.isFinite(v) || v < range.min || v > range.max) {
      box.setAttribute("aria-invalid", "true");
      box.title = `${label} must be between ${range.min} and ${range.max}`;
      return;
    }
    box.removeAttribute("aria-invalid");
    box.title = "";
    input.value = String(toSlider(v));
    onInput(v);
  });
  wrap.append(name, input, box);
  return { wrap, set: (v) => { box.value = String(v); input.value = String(toSlider(v)); } };
}

/**
 * Build the optimiser rows into `container`. `optimizers` is /api/optimizers' list; `state`
 * gives selected names and hyperparameters (state.hyper[name][key]). Returns { setAll } to
 * redraw the controls from the state.
 */
export function buildOptimizerControls(container, optimizers, state, { onToggle, onChange }) {
  container.replaceChildren();
  const setters = {};
  for (const opt of optimizers) {
    const row = document.createElement("div");
    row.className = "opt";
    row.dataset.name = opt.name;
    row.style.setProperty("--color", opt.color);

    const head = document.createElement("label");
    head.className = "opt-name";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `opt-${opt.name}`;
    box.checked = state.selected.includes(opt.name);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.setAttribute("aria-hidden", "true");
    head.append(box, swatch, document.createTextNode(opt.label));

    const hypers = document.createElement("div");
    hypers.className = "hypers";
    hypers.hidden = !box.checked;
    const rowSetters = {};
    const values = state.hyper[opt.name];
    for (const [key, fallback] of Object.entries(opt.hyperparameters)) {
      const ranges = opt.ranges || {};
      const value = values[key] ?? fallback;
      const id = `${opt.name}-${key}`;
      if (Array.isArray(fallback)) {
        // betas: one slider per coefficient, ranged by "betas" or by "beta1", "beta2"
        const singular = key.replace(/s$/, "");
        const partRanges = fallback.map((_, i) => ranges[key] || ranges[`${singular}${i + 1}`]);
        if (partRanges.some((r) => !r)) continue;
        const parts = fallback.map((_, i) =>
          slider(`${id}-${i}`, `β${"₁₂₃"[i] || i + 1}`, partRanges[i], value[i], (v) => {
            const next = state.hyper[opt.name][key].slice();
            next[i] = v;
            onChange(opt.name, key, next);
          }),
        );
        parts.forEach((p) => hypers.append(p.wrap));
        rowSetters[key] = (v) => parts.forEach((p, i) => p.set(v[i]));
      } else if (ranges[key] && typeof fallback === "number") {
        const part = slider(id, LABELS[key] || key, ranges[key], value, (v) => onChange(opt.name, key, v));
        hypers.append(part.wrap);
        rowSetters[key] = part.set;
      }
      // a hyperparameter without a range (eps) keeps its default: the page does not tune it
    }
    setters[opt.name] = { box, hypers, values: rowSetters };
    box.addEventListener("change", () => {
      hypers.hidden = !box.checked;
      onToggle(opt.name, box.checked);
    });
    row.append(head, hypers);
    container.append(row);
  }
  return {
    setAll() {
      for (const [name, s] of Object.entries(setters)) {
        s.box.checked = state.selected.includes(name);
        s.hypers.hidden = !s.box.checked;
        for (const [key, set] of Object.entries(s.values)) set(state.hyper[name][key]);
      }
    },
  };
}
