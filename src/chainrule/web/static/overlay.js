// The paths on the 2-D map are painted on a canvas laid over plotly's plot area: moving them is
// a canvas repaint (well under a millisecond for 6 × 10,000 points), while asking plotly to
// restyle a trace redraws the whole contour (hundreds of milliseconds on a slow machine).
// Plotly's own axis objects convert data to pixels, so zoom and pan stay in register.

let painted = []; // what the last paint drew, in data coordinates, for tests and the curious

/** The runs' paths as the map shows them now: [{name, color, points: [[x, y], ...]}]. */
export function paintedPaths() {
  return painted;
}

function axes(gd) {
  const layout = gd._fullLayout;
  return layout && layout.xaxis && layout.yaxis && layout.xaxis._length ? [layout.xaxis, layout.yaxis] : null;
}

// data -> pixel along one axis: plotly's own, or (while a pan or zoom is being dragged, before
// plotly has moved its axes) a straight line through the ranges the drag has reached
function toPixel(axis, range, flip) {
  if (!range) return (v) => axis._offset + axis.l2p(v);
  const [low, high] = range;
  return (v) => axis._offset + axis._length * (flip ? (high - v) / (high - low) : (v - low) / (high - low));
}

/**
 * Draw `runs` up to step `frame`, and the start, onto `ctx` scaled by `scale` from gd's pixels.
 * `ranges` ({x: [lo, hi], y: [lo, hi]}) overrides the axes' ranges, for a drag in progress.
 */
export function drawPaths(ctx, gd, runs, frame, start, scale = 1, ranges = null) {
  const found = axes(gd);
  painted = [];
  if (!found) return;
  const [xa, ya] = found;
  const xPixel = toPixel(xa, ranges && ranges.x, false);
  const yPixel = toPixel(ya, ranges && ranges.y, true);
  // a diverging path reaches 1e100 and beyond: keep pixels where canvas arithmetic is exact
  const clamp = (v) => Math.max(-1e6, Math.min(1e6, v));
  const px = (x) => clamp(xPixel(x) * scale);
  const py = (y) => clamp(yPixel(y) * scale);
  ctx.save();
  ctx.beginPath();
  ctx.rect(xa._offset * scale, ya._offset * scale, xa._length * scale, ya._length * scale);
  ctx.clip(); // paths that leave the domain end at the plot's edge, not over the axes
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  for (const run of runs) {
    const n = Math.min(frame, run.points.length - 1) + 1;
    const points = run.points.slice(0, n);
    painted.push({ name: run.name, color: run.color, points });
    ctx.beginPath();
    points.forEach(([x, y], k) => (k ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    // a white halo under the line keeps it readable over any colour of the map
    ctx.strokeStyle = "rgba(255,255,255,0.75)";
    ctx.lineWidth = 5 * scale;
    ctx.stroke();
    ctx.strokeStyle = run.color;
    ctx.lineWidth = 2.5 * scale;
    ctx.stroke();
  }
  for (const run of runs) {
    const [x, y] = run.points[Math.min(frame, run.points.length - 1)];
    ctx.beginPath();
    ctx.arc(px(x), py(y), 6 * scale, 0, 2 * Math.PI);
    ctx.fillStyle = run.color;
    ctx.fill();
    ctx.lineWidth = 2 * scale;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
  }
  if (start) {
    ctx.beginPath();
    ctx.arc(px(start[0]), py(start[1]), 8 * scale, 0, 2 * Math.PI);
    ctx.lineWidth = 3 * scale;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
    ctx.lineWidth = 1 * scale;
    ctx.strokeStyle = "#1f2933";
    ctx.stroke();
  }
  ctx.restore();
}

/** Fit `canvas` over `gd` (sharp on high-density screens) and paint the paths. */
export function paintOverlay(canvas, gd, runs, frame, start, ranges = null) {
  const ratio = window.devicePixelRatio || 1;
  const width = gd.clientWidth;
  const height = gd.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  drawPaths(ctx, gd, runs, frame, start, ratio, ranges);
}

// the picture leaves the page's badges behind: name each colour in a corner of the plot
function drawLegend(ctx, gd, runs, scale) {
  const found = axes(gd);
  if (!found || !runs.length) return;
  const [xa, ya] = found;
  ctx.save();
  ctx.font = `${12 * scale}px system-ui, sans-serif`;
  const width = Math.max(...runs.map((r) => ctx.measureText(r.label).width)) + 30 * scale;
  const line = 18 * scale;
  const left = (xa._offset + 8) * scale;
  const top = (ya._offset + 8) * scale;
  ctx.fillStyle = "rgba(255,255,255,0.85)";
  ctx.fillRect(left, top, width, line * runs.length + 8 * scale);
  runs.forEach((run, i) => {
    const y = top + 4 * scale + line * (i + 0.5);
    ctx.fillStyle = run.color;
    ctx.fillRect(left + 6 * scale, y - 2 * scale, 14 * scale, 4 * scale);
    ctx.fillStyle = "#1f2933";
    ctx.textBaseline = "middle";
    ctx.fillText(run.label, left + 24 * scale, y);
  });
  ctx.restore();
}

/** A PNG (data URL) of the map with the paths on it, `scale` times the screen's size. */
export async function mapPng(gd, runs, frame, start, scale = 2) {
  const width = gd.clientWidth;
  const height = gd.clientHeight;
  const url = await Plotly.toImage(gd, { format: "png", width, height, scale });
  const image = new Image();
  await new Promise((resolve, reject) => {
    image.onload = resolve;
    image.onerror = () => reject(new Error("the map's picture could not be read back"));
    image.src = url;
  });
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const keep = painted;
  drawPaths(ctx, gd, runs, frame, start, scale);
  painted = keep;
  drawLegend(ctx, gd, runs, scale);
  return canvas.toDataURL("image/png");
}
