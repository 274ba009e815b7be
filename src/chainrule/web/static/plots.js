// What plotly draws: the map (contour or 3-D surface, minima, start, one path and one head per
// optimiser) and the loss chart. Paths are looked up by uid ("path-adam", "head-adam").

const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1f2933" };

/** Map the surface's values to the heights the colours follow (log10 for steep surfaces). */
export function heightOf(grid) {
  if (!grid.log_scale) return (v) => v;
  // log10(f - min + floor): the floor keeps the minimum itself finite
  const floor = Math.max((grid.zmax - grid.zmin) * 1e-7, 1e-12);
  return (v) => (v == null ? null : Math.log10(Math.max(v - grid.zmin, 0) + floor));
}

function colorbarTitle(grid) {
  return grid.log_scale ? "log₁₀(f − min)" : "f";
}

export function mapTraces(grid, view, runs, frame, start, minima) {
  const height = heightOf(grid);
  const z = grid.z.map((row) => row.map(height));
  const traces = [];
  if (view === "3d") {
    traces.push({
      type: "surface", uid: "surface", x: grid.x, y: grid.y, z, customdata: grid.z,
      colorscale: "Viridis", opacity: 0.92, showscale: false,
      hovertemplate: "x %{x:.4g}<br>y %{y:.4g}<br>f %{customdata:.4g}<extra></extra>",
      contours: { z: { show: true, usecolormap: true, project: { z: true } } },
    });
  } else {
    traces.push({
      type: "contour", uid: "surface", x: grid.x, y: grid.y, z, customdata: grid.z,
      colorscale: "Viridis", ncontours: 28, line: { width: 0.5, color: "rgba(255,255,255,0.35)" },
      contours: { coloring: "heatmap" },
      colorbar: { title: { text: colorbarTitle(grid), side: "right" }, thickness: 12, len: 0.9 },
      hovertemplate: "x %{x:.4g}<br>y %{y:.4g}<br>f %{customdata:.4g}<extra></extra>",
    });
  }
  const three = view === "3d";
  if (minima.length) {
    traces.push({
      type: three ? "scatter3d" : "scatter", uid: "minima", name: "minimum", mode: "markers",
      x: minima.map((m) => m[0]), y: minima.map((m) => m[1]),
      ...(three ? { z: minima.map(() => height(grid.zmin)) } : {}),
      marker: { symbol: three ? "diamond" : "star", size: three ? 5 : 13, color: "#ffffff", line: { color: "#1f2933", width: 1 } },
      hovertemplate: "minimum (%{x:.4g}, %{y:.4g})<extra></extra>", showlegend: false,
    });
  }
  if (!three) return traces; // in 2-D the start and the paths are painted on the overlay canvas
  if (start) {
    traces.push({
      type: "scatter3d", uid: "start", name: "start", mode: "markers",
      x: [start[0]], y: [start[1]], z: [runs.length ? height(runs[0].values[0]) : height(grid.zmax)],
      marker: { size: 5, color: "#ffffff", line: { width: 2, color: "#1f2933" } },
      hovertemplate: "start (%{x:.4g}, %{y:.4g})<extra></extra>", showlegend: false,
    });
  }
  for (const run of runs) {
    traces.push({
      type: "scatter3d", uid: `path-${run.name}`, name: run.label, mode: "lines",
      ...pathUpTo(run, frame, height), line: { color: run.color, width: 5 },
      hovertemplate: `${run.label}<br>(%{x:.4g}, %{y:.4g})<extra></extra>`, showlegend: true,
    });
  }
  for (const run of runs) {
    traces.push({
      type: "scatter3d", uid: `head-${run.name}`, name: run.label, mode: "markers",
      ...headAt(run, frame, height), marker: { size: 6, color: run.color, line: { color: "#ffffff", width: 2 } },
      hoverinfo: "skip", showlegend: false,
    });
  }
  return traces;
}

/** The part of `run`'s path drawn at animation frame `frame` (x, y and, in 3-D, z). */
export function pathUpTo(run, frame, lift) {
  const n = Math.min(frame, run.points.length - 1) + 1;
  const shown = run.points.slice(0, n);
  const out = { x: shown.map((p) => p[0]), y: shown.map((p) => p[1]) };
  if (lift) out.z = run.values.slice(0, n).map(lift);
  return out;
}

export function headAt(run, frame, lift) {
  const k = Math.min(frame, run.points.length - 1);
  const out = { x: [run.points[k][0]], y: [run.points[k][1]] };
  if (lift) out.z = [lift(run.values[k])];
  return out;
}

export function mapLayout(grid, view, bounds) {
  const [xName, yName] = grid.variables || ["x", "y"];
  const common = {
    font: FONT, margin: { l: 48, r: 8, t: 8, b: 40 }, paper_bgcolor: "#ffffff",
    showlegend: view === "3d", legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", bgcolor: "rgba(255,255,255,0.8)" },
    uirevision: `${grid.formula}|${view}`, // keep the user's zoom across path updates
    hovermode: "closest", dragmode: "zoom",
  };
  if (view === "3d") {
    return {
      ...common,
      scene: {
        xaxis: { title: { text: xName } }, yaxis: { title: { text: yName } },
        zaxis: { title: { text: grid.log_scale ? "log₁₀(f − min)" : "f" } },
        camera: { eye: { x: -1.4, y: -1.6, z: 1.1 } }, aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.6 },
      },
    };
  }
  return {
    ...common,
    xaxis: { title: { text: xName }, range: bounds.x.slice(), zeroline: false, constrain: "domain" },
    yaxis: { title: { text: yName }, range: bounds.y.slice(), zeroline: false },
  };
}

/** How the loss chart shows values: the gap to a known minimum, f itself, on log or linear y. */
export function lossScale(runs, minimum) {
  // null values (not finite) stay null: plotly leaves a gap there
  if (minimum != null) {
    return { title: "f − f* (gap to the minimum)", log: true, y: (v) => (v == null ? null : Math.max(v - minimum, 1e-16)) };
  }
  const positive = runs.every((r) => r.values.every((v) => v == null || v > 0));
  return { title: "f", log: positive, y: (v) => v };
}

export function lossTraces(runs, scale) {
  return runs.map((run) => ({
    type: "scatter", mode: "lines", uid: `loss-${run.name}`, name: run.label,
    x: run.values.map((_, k) => k), y: run.values.map(scale.y),
    line: { color: run.color, width: 2 },
    hovertemplate: `${run.label}: step %{x}, %{y:.4g}<extra></extra>`,
  }));
}

export function lossLayout(scale, frame) {
  return {
    font: FONT, margin: { l: 56, r: 8, t: 8, b: 40 }, height: 260, showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { title: { text: "step" }, zeroline: false },
    yaxis: { title: { text: scale.title }, type: scale.log ? "log" : "linear", exponentformat: "power" },
    shapes: [cursor(frame)],
  };
}

export function cursor(frame) {
  return { type: "line", xref: "x", yref: "paper", x0: frame, x1: frame, y0: 0, y1: 1, line: { color: "#9aa5b1", width: 1, dash: "dot" } };
}
