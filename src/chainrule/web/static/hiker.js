// The hiker: pick a surface, click a start, watch the optimisers walk downhill.
// Every number comes from the chainrule server (its autodiff and optimisers); this file only
// asks, draws and animates. On the 2-D map the paths live on a canvas over the plot (see
// overlay.js), so a frame of animation never makes plotly redraw the contour.

import { api, ApiError } from "./api.js";
import { buildOptimizerControls, round3 } from "./controls.js";
import { mapPng, paintedPaths, paintOverlay } from "./overlay.js";
import * as panels from "./panels.js";
import * as plots from "./plots.js";
import { readState, writeState } from "./urlstate.js";

const $ = (id) => document.getElementById(id);
const SPEEDS = [10, 25, 60, 120, 250, 500, 1000]; // steps drawn per second
const GRID_RESOLUTION = 100;
const FORMULA_BOUNDS = { x: [-3, 3], y: [-3, 3] };
const TABLE_ROWS = 1000;
const RERUN_DELAY_MS = 250;

const catalog = { surfaces: [], surface: {}, optimizers: [], optimizer: {} };
const state = {
  surface: null, formula: null, start: null, steps: 500, view: "2d",
  selected: [], hyper: {}, show: null,
};
let grid = null; // the last /api/grid answer
let runs = []; // the last /api/trajectories runs, each with its label
let runCount = 0; // how many answers of /api/trajectories have been drawn
let frame = 0;
let playing = false;
let drawing = false; // a path update is on its way to the screen
let controls = null;
let busyCount = 0;
const pending = { grid: null, run: null, explain: null }; // AbortControllers of requests in flight
let rerunTimer = 0;
let explained = ""; // the surface and start the chain-rule report was asked for

// ---------------------------------------------------------------- small helpers

function announce(text) {
  $("announce").textContent = "";
  // a fresh text node so screen readers read the same message twice in a row
  requestAnimationFrame(() => { $("announce").textContent = text; });
}

function showError(message) {
  $("error-text").textContent = message;
  $("error-banner").hidden = false;
}

function clearError() {
  $("error-banner").hidden = true;
}

function busy(delta) {
  busyCount = Math.max(0, busyCount + delta);
  $("busy").hidden = busyCount === 0;
  $("map").setAttribute("aria-busy", String(busyCount > 0));
  document.body.dataset.busy = String(busyCount);
}

async function ask(kind, call) {
  // one request of each kind at a time: a newer one cancels the older
  if (pending[kind]) pending[kind].abort();
  const controller = new AbortController();
  pending[kind] = controller;
  busy(+1);
  try {
    return await call(controller.signal);
  } finally {
    busy(-1);
    if (pending[kind] === controller) pending[kind] = null;
  }
}

function source() {
  return state.formula != null ? { formula: state.formula } : { surface: state.surface };
}

function currentSurface() {
  return state.formula == null ? catalog.surface[state.surface] : null;
}

function bounds() {
  const surface = currentSurface();
  return surface ? { x: surface.domain[0], y: surface.domain[1] } : FORMULA_BOUNDS;
}

function syncUrl() {
  const defaults = Object.fromEntries(catalog.optimizers.map((o) => [o.name, o.hyperparameters]));
  history.replaceState(null, "", writeState(state, defaults) + location.hash);
}

// snap a clicked coordinate to a tidy number (4 digits of the domain's scale)
function tidy(value, span) {
  const unit = 10 ** (Math.floor(Math.log10(span)) - 3);
  return Number((Math.round(value / unit) * unit).toPrecision(12));
}

// ---------------------------------------------------------------- the map

function lastFrame() {
  return runs.reduce((m, r) => Math.max(m, r.points.length - 1), 0);
}

function renderMap() {
  if (!grid) return Promise.resolve();
  const surface = currentSurface();
  const minima = surface ? surface.minima : [];
  const traces = plots.mapTraces(grid, state.view, runs, frame, state.start, minima);
  const layout = plots.mapLayout(grid, state.view, grid.bounds);
  const gd = $("map");
  $("paths").hidden = state.view === "3d";
  return Plotly.react(gd, traces, layout, {
    responsive: true, displaylogo: false, scrollZoom: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
  }).then(() => {
    if (!gd.dataset.wired) {
      gd.on("plotly_click", onMapClick);
      // any redraw (zoom, pan, resize) moves the axes: the overlay follows
      gd.on("plotly_afterplot", paintPaths);
      gd.on("plotly_relayout", onZoom);
      gd.on("plotly_relayouting", onDragging);
      gd.dataset.wired = "true";
    }
    paintPaths();
  });
}

// new runs: in 2-D only the overlay changes; in 3-D the paths are plotly traces
function redrawRuns() {
  if (state.view === "3d") return renderMap();
  paintPaths();
  return Promise.resolve();
}

function paintPaths() {
  $("map-hint").hidden = Boolean(state.start) || !grid;
  if (state.view === "3d") return;
  paintOverlay($("paths"), $("map"), runs, frame, state.start);
}

function traceIndex(uid) {
  return $("map").data.findIndex((t) => t.uid === uid);
}

// move the paths and heads to `frame` without redrawing the surface
function drawPaths() {
  if (state.view !== "3d") {
    paintPaths();
    return Promise.resolve();
  }
  const gd = $("map");
  if (!gd.data || !runs.length) return Promise.resolve();
  const lift = plots.heightOf(grid);
  const indices = [];
  const data = [];
  for (const run of runs) {
    indices.push(traceIndex(`path-${run.name}`), traceIndex(`head-${run.name}`));
    data.push(plots.pathUpTo(run, frame, lift), plots.headAt(run, frame, lift));
  }
  if (indices.some((i) => i < 0)) return renderMap();
  // WebGL redraws the scene on restyle; `drawing` keeps frames from queueing behind it
  return Plotly.restyle(gd, { x: data.map((d) => d.x), y: data.map((d) => d.y), z: data.map((d) => d.z) }, indices);
}

let cursorTimer = 0;
function setFrame(k) {
  frame = Math.max(0, Math.min(k, lastFrame()));
  $("frame").textContent = `step ${frame} of ${lastFrame()}`;
  document.body.dataset.frame = String(frame);
  drawing = true;
  Promise.resolve(drawPaths()).catch(() => {}).finally(() => { drawing = false; });
  // the loss chart's cursor and the table's highlight follow at a calmer pace
  if (!cursorTimer) {
    cursorTimer = setTimeout(() => {
      cursorTimer = 0;
      if ($("loss").data) Plotly.relayout("loss", { shapes: [plots.cursor(frame)] });
      if (!playing) highlightRow();
    }, playing ? 250 : 0);
  }
}

// ---------------------------------------------------------------- playing

let lastTime = 0;
let carry = 0;

// who asked their system for less motion sees each run drawn whole, at once
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

function setPlaying(on) {
  if (on && reducedMotion.matches && runs.length) {
    setFrame(lastFrame());
    on = false;
  }
  const wasPlaying = playing;
  playing = on && runs.length > 0;
  const button = $("play");
  // the name says what a press does next (no aria-pressed: it would read "Pause, pressed")
  button.textContent = playing ? "Pause" : "Play";
  button.setAttribute("aria-label", playing ? "Pause" : "Play");
  document.body.dataset.playing = String(playing);
  if (playing && !wasPlaying) {
    if (frame >= lastFrame()) setFrame(0);
    lastTime = 0;
    carry = 0;
    requestAnimationFrame(tick);
  } else if (!playing) {
    highlightRow();
  }
}

function tick(now) {
  if (!playing) return;
  carry += lastTime ? ((now - lastTime) / 1000) * SPEEDS[Number($("speed").value)] : 1;
  lastTime = now;
  if (!drawing && carry >= 1) {
    const advance = Math.floor(carry);
    carry -= advance;
    setFrame(frame + advance);
  }
  if (frame >= lastFrame()) {
    setPlaying(false);
    announce("The run is drawn to its last step.");
    return;
  }
  requestAnimationFrame(tick);
}

// ---------------------------------------------------------------- asking the server

async function drawSurface() {
  clearError();
  clearFormulaError();
  const region = bounds();
  let answer;
  try {
    answer = await ask("grid", (signal) =>
      api.grid({ ...source(), bounds: region, resolution: GRID_RESOLUTION }, signal));
  } catch (error) {
    if (error.name === "AbortError") return false;
    reportFailure(error);
    return false;
  }
  if (pending.run) pending.run.abort();
  setPlaying(false);
  grid = { ...answer, bounds: region };
  runs = [];
  frame = 0;
  describeSurface();
  clearResults();
  await renderMap();
  syncUrl();
  if (state.start) await run();
  return true;
}

function runBody() {
  return {
    ...source(),
    start: state.start,
    steps: state.steps,
    optimizers: state.selected.map((name) => ({ name, ...state.hyper[name] })),
  };
}

async function run() {
  clearError();
  syncUrl();
  if (!state.start || !grid) return;
  if (!state.selected.length) {
    runs = [];
    await redrawRuns();
    clearResults();
    $("badges").innerHTML = '<li class="hint">Choose at least one optimiser.</li>';
    return;
  }
  setPlaying(false);
  const where = JSON.stringify([source(), state.start]);
  if (where !== explained) {
    explained = where; // a new learning rate does not change the chain rule at the start
    explainStart();
  }
  let answer;
  try {
    answer = await ask("run", (signal) => api.trajectories(runBody(), signal));
  } catch (error) {
    if (error.name === "AbortError") return;
    return reportFailure(error);
  }
  runs = answer.runs.map((r) => ({ ...r, label: catalog.optimizer[r.name]?.label || r.name }));
  frame = 0;
  if (!runs.some((r) => r.name === state.show)) state.show = runs[0]?.name ?? null;
  await redrawRuns();
  renderLoss();
  renderBadges();
  renderTable();
  syncUrl();
  setFrame(0);
  runCount += 1;
  setPlaying(true);
}

async function explainStart() {
  const report = $("report");
  const [x, y] = state.start;
  panels.renderNote(report, "computing…");
  let answer;
  try {
    answer = await ask("explain", (signal) => api.explain({ ...source(), point: { x, y } }, signal));
  } catch (error) {
    if (error.name === "AbortError") return;
    panels.renderNote(report, `No chain-rule report here: ${error.message}`, "inline-error");
    return;
  }
  panels.renderReport(report, answer, state.start, names());
}

function reportFailure(error) {
  if (error instanceof ApiError && error.status === 400 && error.detail && error.detail.field === "formula") {
    showFormulaError(error.detail);
  } else {
    showError(error.message || String(error));
  }
}

// ---------------------------------------------------------------- the panels

function describeSurface() {
  const surface = currentSurface();
  const [xName, yName] = grid.variables || ["x", "y"];
  $("start-x-name").textContent = xName;
  $("start-y-name").textContent = yName;
  const lesson = $("lesson");
  const formula = grid ? grid.formula : state.formula;
  lesson.innerHTML = "";
  const f = document.createElement("code");
  f.textContent = `f(${xName}, ${yName}) = ${formula}`;
  lesson.append(f);
  if (surface && surface.lesson) {
    lesson.append(document.createElement("br"), document.createTextNode(surface.lesson));
  }
}

function clearResults() {
  $("badges").innerHTML = state.start ? "" : '<li class="hint">Click the map (or press Run) to start.</li>';
  $("steps-table").replaceChildren();
  $("table-optimizer").replaceChildren();
  $("report").innerHTML = '<p class="hint">Set a start to see the chain rule at that point.</p>';
  explained = "";
  $("frame").textContent = "step 0";
  Plotly.purge("loss");
  $("loss").innerHTML = '<p class="hint">The loss of each optimiser, step by step, appears here.</p>';
}

function names() {
  return (grid && grid.variables) || ["x", "y"];
}

function renderBadges() {
  panels.renderBadges($("badges"), runs, currentSurface(), grid);
}

function renderTable() {
  const select = $("table-optimizer");
  select.replaceChildren(...runs.map((r) => new Option(r.label, r.name, false, r.name === state.show)));
  panels.renderStepTable($("steps-table"), runs.find((r) => r.name === state.show), names(), TABLE_ROWS);
}

function highlightRow() {
  panels.highlightStep($("steps-table"), frame);
}

function showFormulaError(detail) {
  panels.showFormulaError($("formula-error"), $("formula"), detail);
}

function clearFormulaError() {
  panels.clearFormulaError($("formula-error"), $("formula"));
}

function renderLoss() {
  const surface = currentSurface();
  const scale = plots.lossScale(runs, surface ? surface.minimum : null);
  $("loss").innerHTML = "";
  Plotly.react("loss", plots.lossTraces(runs, scale), plots.lossLayout(scale, frame), {
    responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"],
  });
}

// ---------------------------------------------------------------- the formula

async function useFormula() {
  const text = $("formula").value.trim();
  if (!text) {
    showFormulaError({ message: "Type a formula in x and y, for example x**2 + 3*y**2", formula: "" });
    return;
  }
  const before = { formula: state.formula, surface: state.surface, start: state.start };
  state.formula = text;
  state.start = null;
  if (!(await drawSurface())) {
    // a formula the server refused changes nothing but the error under the box
    Object.assign(state, before);
    return;
  }
  ensureCustomOption();
  $("surface").value = "";
  suggestStart();
}

function ensureCustomOption() {
  const select = $("surface");
  if (!select.querySelector('option[value=""]')) {
    select.prepend(new Option("(your formula)", ""));
  }
}

function suggestStart() {
  const surface = currentSurface();
  const [x, y] = surface ? surface.start : [2, 2];
  $("start-x").value = String(state.start ? state.start[0] : x);
  $("start-y").value = String(state.start ? state.start[1] : y);
}

// ---------------------------------------------------------------- events

function onMapClick(event) {
  if (!grid) return;
  const gd = $("map");
  let x;
  let y;
  if (state.view === "3d") {
    const point = event.points && event.points[0];
    if (!point || point.x == null || point.y == null) return;
    [x, y] = [point.x, point.y];
  } else {
    // plotly reports the nearest grid point; the pixel under the pointer is more exact
    const e = event.event || {};
    const touch = e.changedTouches && e.changedTouches[0];
    const clientX = touch ? touch.clientX : e.clientX;
    const clientY = touch ? touch.clientY : e.clientY;
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    const box = gd.getBoundingClientRect();
    if (clientX == null || !xa || !ya) return;
    x = xa.p2d(clientX - box.left - xa._offset);
    y = ya.p2d(clientY - box.top - ya._offset);
  }
  const [xr, yr] = [grid.bounds.x, grid.bounds.y];
  state.start = [tidy(x, xr[1] - xr[0]), tidy(y, yr[1] - yr[0])];
  suggestStart();
  // the old paths go at once, the new start shows while the server computes
  runs = [];
  frame = 0;
  setPlaying(false);
  paintPaths();
  run();
}

// while a pan is dragged plotly moves its picture, not yet its axes: follow the drag's ranges
function onDragging(change) {
  if (state.view === "3d") return;
  const range = (axis) => (change[`${axis}.range[0]`] != null
    ? [change[`${axis}.range[0]`], change[`${axis}.range[1]`]] : null);
  const layout = $("map")._fullLayout;
  const ranges = { x: range("xaxis") || layout.xaxis.range, y: range("yaxis") || layout.yaxis.range };
  paintOverlay($("paths"), $("map"), runs, frame, state.start, ranges);
}

// zooming in asks for a finer grid over the new region; a double click (autorange) goes back
function onZoom(change) {
  if (state.view === "3d" || !grid) return;
  const range = (axis) =>
    change[`${axis}.range[0]`] != null ? [change[`${axis}.range[0]`], change[`${axis}.range[1]`]] : change[`${axis}.range`];
  let region = null;
  if (change["xaxis.autorange"] || change["yaxis.autorange"]) region = bounds();
  else if (range("xaxis") || range("yaxis")) region = { x: range("xaxis") || grid.bounds.x, y: range("yaxis") || grid.bounds.y };
  if (!region || JSON.stringify(region) === JSON.stringify(grid.bounds)) return;
  regrid(region);
}

async function regrid(region) {
  let answer;
  try {
    answer = await ask("grid", (signal) =>
      api.grid({ ...source(), bounds: region, resolution: GRID_RESOLUTION }, signal));
  } catch (error) {
    if (error.name !== "AbortError") reportFailure(error);
    return;
  }
  grid = { ...answer, bounds: region };
  await renderMap();
}

function scheduleRerun() {
  syncUrl();
  clearTimeout(rerunTimer);
  if (state.start) rerunTimer = setTimeout(run, RERUN_DELAY_MS);
}

function wire() {
  $("surface").addEventListener("change", () => {
    const name = $("surface").value;
    if (!name) return; // "(your formula)" is chosen by typing one
    state.surface = name;
    state.formula = null;
    state.start = null;
    $("formula").value = "";
    suggestStart();
    drawSurface();
  });
  $("formula-go").addEventListener("click", useFormula);
  $("formula").addEventListener("keydown", (e) => {
    if (e.key === "Enter") useFormula();
  });
  $("formula").addEventListener("input", clearFormulaError);
  $("run").addEventListener("click", () => {
    const x = Number($("start-x").value);
    const y = Number($("start-y").value);
    if ($("start-x").value === "" || $("start-y").value === "" || !Number.isFinite(x) || !Number.isFinite(y)) {
      showError("The start needs two numbers, x and y.");
      return;
    }
    state.start = [x, y];
    run();
  });
  for (const id of ["start-x", "start-y"]) {
    $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") $("run").click(); });
  }
  $("steps").addEventListener("change", () => {
    const steps = Math.round(Number($("steps").value));
    if (!Number.isFinite(steps) || steps < 1 || steps > 10000) {
      $("steps").setAttribute("aria-invalid", "true");
      showError("Steps must be a whole number from 1 to 10000.");
      return;
    }
    $("steps").removeAttribute("aria-invalid");
    state.steps = steps;
    scheduleRerun();
  });
  $("play").addEventListener("click", () => setPlaying(!playing));
  $("step").addEventListener("click", () => { setPlaying(false); setFrame(frame + 1); });
  $("reset").addEventListener("click", () => { setPlaying(false); setFrame(0); });
  $("view3d").addEventListener("change", async () => {
    state.view = $("view3d").checked ? "3d" : "2d";
    syncUrl();
    await renderMap();
  });
  $("export").addEventListener("click", exportPng);
  $("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      announce("Link copied: it restores this surface, start and optimisers.");
    } catch {
      window.prompt("Copy this link:", location.href);
    }
  });
  $("table-optimizer").addEventListener("change", () => {
    state.show = $("table-optimizer").value;
    syncUrl();
    renderTable();
    highlightRow();
  });
  $("error-close").addEventListener("click", clearError);
}

async function exportPng() {
  const gd = $("map");
  const filename = `chainrule-hiker-${state.surface || "formula"}`;
  try {
    if (state.view === "3d") {
      await Plotly.downloadImage(gd, { format: "png", filename, width: gd.clientWidth, height: gd.clientHeight, scale: 2 });
      return;
    }
    const link = document.createElement("a");
    link.href = await mapPng(gd, runs, frame, state.start);
    link.download = `${filename}.png`;
    document.body.append(link);
    link.click();
    link.remove();
    announce("The map was saved as a PNG picture.");
  } catch (error) {
    showError(`The picture could not be made: ${error.message}`);
  }
}

// ---------------------------------------------------------------- start

function applyUrlState() {
  const wanted = readState(location.search);
  const firstSurface = catalog.surface.rosenbrock ? "rosenbrock" : catalog.surfaces[0]?.name;
  if (wanted.formula != null) state.formula = wanted.formula;
  else state.surface = catalog.surface[wanted.surface] ? wanted.surface : firstSurface;
  if (wanted.surface && !catalog.surface[wanted.surface]) {
    showError(`There is no surface called "${wanted.surface}"; showing ${firstSurface}.`);
  }
  if (wanted.start) state.start = wanted.start;
  if (wanted.steps) state.steps = Math.min(wanted.steps, 10000);
  if (wanted.view) state.view = wanted.view;
  state.selected = wanted.selected
    ? catalog.optimizers.map((o) => o.name).filter((n) => wanted.selected.includes(n))
    : catalog.optimizers.filter((o) => o.default).map((o) => o.name);
  for (const opt of catalog.optimizers) {
    state.hyper[opt.name] = structuredClone(opt.hyperparameters);
    for (const [key, value] of Object.entries(wanted.hyper[opt.name] || {})) {
      const fallback = opt.hyperparameters[key];
      // only a value of the default's shape (a number, or as many numbers as betas has)
      const fits = Array.isArray(fallback)
        ? Array.isArray(value) && value.length === fallback.length
        : typeof fallback === "number" && typeof value === "number";
      if (fits) state.hyper[opt.name][key] = value;
    }
  }
  state.show = wanted.show || null;
}

function fillControls() {
  const select = $("surface");
  select.replaceChildren(...catalog.surfaces.map((s) => new Option(s.name.replace(/_/g, " "), s.name)));
  if (state.formula != null) {
    ensureCustomOption();
    select.value = "";
    $("formula").value = state.formula;
  } else {
    select.value = state.surface;
  }
  $("steps").value = String(state.steps);
  $("view3d").checked = state.view === "3d";
  suggestStart();
  controls = buildOptimizerControls($("optimizers"), catalog.optimizers, state, {
    onToggle(name, checked) {
      state.selected = catalog.optimizers.map((o) => o.name)
        .filter((n) => (n === name ? checked : state.selected.includes(n)));
      scheduleRerun();
    },
    onChange(name, key, value) {
      state.hyper[name][key] = Array.isArray(value) ? value.map(round3) : value;
      scheduleRerun();
    },
  });
}

async function main() {
  if (typeof window.Plotly === "undefined") {
    showError("plotly.js did not load from /static/plotly.min.js; the map cannot be drawn.");
    return;
  }
  busy(+1);
  try {
    const [surfaces, optimizers] = await Promise.all([api.surfaces(), api.optimizers()]);
    catalog.surfaces = surfaces.surfaces;
    catalog.optimizers = optimizers.optimizers;
    for (const s of catalog.surfaces) catalog.surface[s.name] = s;
    for (const o of catalog.optimizers) catalog.optimizer[o.name] = o;
  } catch (error) {
    showError(`The page cannot start: ${error.message}`);
    return;
  } finally {
    busy(-1);
  }
  applyUrlState();
  fillControls();
  wire();
  await drawSurface();
  document.body.dataset.ready = "true";
}

// for the browser tests and the curious: the page's state, read-only by convention
window.hiker = {
  state, paintedPaths,
  get runs() { return runs; }, get frame() { return frame; }, get grid() { return grid; },
  get runCount() { return runCount; },
};

main();
