// The panels around the map: status badges, the step table, the chain-rule report and the
// formula's inline error. Each function fills one element from data; none talks to the server.

import { renderMarkdown } from "./markdown.js";

/** A number as the panels show it: 5 significant digits, exponents for the very large and small. */
export function fmt(v) {
  if (v == null) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

export function statusText(run) {
  if (run.status === "converged") return `converged at step ${run.converged_at ?? run.steps}`;
  if (run.status === "diverged") return `diverged at step ${run.diverged_at ?? run.steps}`;
  if (run.status === "max_steps") return `still moving after ${run.steps} steps`;
  return `${run.status.replace(/_/g, " ")} after ${run.steps} steps`;
}

// a converged run can rest on a saddle, a maximum or a local minimum: say so
function aboveMinimum(run, last, surface, grid) {
  if (run.status !== "converged" || !surface || surface.minimum == null || last == null || !grid) return "";
  const tolerance = 1e-6 * Math.max(1, grid.zmax - grid.zmin);
  if (last - surface.minimum <= tolerance) return "";
  return ` (a flat point, not the global minimum ${fmt(surface.minimum)})`;
}

/** One badge per run in `list`: its colour, how it ended, its last value. */
export function renderBadges(list, runs, surface, grid) {
  list.replaceChildren();
  for (const run of runs) {
    const item = document.createElement("li");
    item.className = `badge status-${run.status}`;
    item.dataset.name = run.name;
    item.style.setProperty("--color", run.color);
    const last = run.values[run.values.length - 1];
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.setAttribute("aria-hidden", "true");
    const text = document.createElement("span");
    text.textContent = `${run.label}: ${statusText(run)}, f = ${fmt(last)}${aboveMinimum(run, last, surface, grid)}`;
    item.append(swatch, text);
    list.append(item);
  }
}

/** The steps of `run` in `table` (the first `maxRows`, then the last); `names` label the axes. */
export function renderStepTable(table, run, names, maxRows = 1000) {
  if (!run) return table.replaceChildren();
  const [a, b] = names;
  const head = `<thead><tr><th>step</th><th>${a}</th><th>${b}</th><th>f</th><th>∂f/∂${a}</th><th>∂f/∂${b}</th></tr></thead>`;
  const n = run.points.length;
  const row = (k) => {
    const [x, y] = run.points[k];
    const [gx, gy] = run.gradients[k] || [null, null];
    const cells = [k, fmt(x), fmt(y), fmt(run.values[k]), fmt(gx), fmt(gy)];
    return `<tr data-step="${k}">${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  };
  const rows = [];
  for (let k = 0; k < Math.min(n, maxRows); k++) rows.push(row(k));
  if (n > maxRows) {
    rows.push(`<tr class="gap"><td colspan="6">… ${n - maxRows - 1} more steps …</td></tr>`);
    rows.push(row(n - 1));
  }
  table.innerHTML = `${head}<tbody>${rows.join("")}</tbody>`;
}

export function highlightStep(table, step) {
  table.querySelectorAll("tr.current").forEach((tr) => tr.classList.remove("current"));
  const tr = table.querySelector(`tr[data-step="${step}"]`);
  if (tr) tr.classList.add("current");
}

/** The /api/explain answer in `element`: value and gradient first, then the report's tables. */
export function renderReport(element, answer, point, names) {
  const [a, b] = names;
  const g = answer.gradient || {};
  element.innerHTML =
    `<p class="summary">f(${fmt(point[0])}, ${fmt(point[1])}) = <strong>${fmt(answer.value)}</strong>, ` +
    `gradient (∂f/∂${a}, ∂f/∂${b}) = (<strong>${fmt(g.x)}</strong>, <strong>${fmt(g.y)}</strong>)</p>` +
    renderMarkdown(answer.markdown || "");
}

export function renderNote(element, text, className = "hint") {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  element.replaceChildren(p);
}

/** The server's formula error under the box: message, the formula with the culprit marked, a caret. */
export function showFormulaError(box, input, detail) {
  const text = detail.formula ?? input.value;
  const position = Number.isInteger(detail.position) ? Math.max(0, Math.min(detail.position, text.length)) : null;
  box.replaceChildren();
  const message = document.createElement("p");
  message.textContent = position == null ? detail.message : `${detail.message} (at character ${position + 1})`;
  box.append(message);
  if (position != null) {
    const pre = document.createElement("pre");
    pre.className = "caret";
    const mark = document.createElement("mark");
    mark.textContent = text.slice(position, position + 1) || " ";
    pre.append(text.slice(0, position), mark, text.slice(position + 1), "\n", " ".repeat(position) + "^");
    box.append(pre);
  }
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  if (position != null) input.setSelectionRange(position, Math.min(position + 1, text.length));
}

export function clearFormulaError(box, input) {
  box.hidden = true;
  box.replaceChildren();
  input.removeAttribute("aria-invalid");
}
