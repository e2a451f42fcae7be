// paint.js: canvas drawing helpers shared by the panels (images, heat maps, charts, boxes).
// Pure presentation: everything drawn here was computed in the worker.

const scratch = document.createElement('canvas');
const sctx = scratch.getContext('2d', { willReadFrequently: true });

// Viridis, sampled at 9 stops and interpolated: ordered, readable, colour-blind safe.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const LUT = new Uint8Array(256 * 3);
for (let i = 0; i < 256; i++) {
  const f = (i / 255) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(f));
  const t = f - k;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = Math.round(VIRIDIS[k][c] * (1 - t) + VIRIDIS[k + 1][c] * t);
}

/** Canvas sized for its CSS box at the device pixel ratio; returns the 2D context in CSS pixels. */
export function fitCanvas(canvas, cssW, cssH) {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.round(cssW * dpr), h = Math.round(cssH * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${cssW}px`;
  canvas.style.height = `${cssH}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  // A canvas keeps its 2D state between draws: start every draw from the defaults.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.globalAlpha = 1;
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  return ctx;
}

/** The width available to a canvas inside its parent (content box), at least min. */
export function widthOf(canvas, min = 120, max = 2000) {
  const p = canvas.parentElement;
  const cs = getComputedStyle(p);
  const w = p.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return Math.max(min, Math.min(max, Math.floor(w)));
}

/**
 * Draw an H×W block of values (from data at offset) into the rectangle (x, y, w, h).
 * mode 'ink': 0 → dark, 1 → white (digits); 'heat': viridis over [lo, hi]; 'paper': 0 → white, 1 → dark.
 */
export function drawValues(ctx, data, offset, H, W, x, y, w, h, { mode = 'ink', lo = 0, hi = 1 } = {}) {
  if (scratch.width !== W || scratch.height !== H) {
    scratch.width = W;
    scratch.height = H;
  }
  const img = sctx.createImageData(W, H);
  const px = img.data;
  const span = hi - lo || 1;
  for (let i = 0; i < H * W; i++) {
    let v = (data[offset + i] - lo) / span;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    const q = Math.round(v * 255);
    if (mode === 'heat') {
      px[i * 4] = LUT[q * 3];
      px[i * 4 + 1] = LUT[q * 3 + 1];
      px[i * 4 + 2] = LUT[q * 3 + 2];
    } else {
      const c = mode === 'paper' ? 255 - q : 16 + Math.round(v * 239);
      px[i * 4] = c;
      px[i * 4 + 1] = c;
      px[i * 4 + 2] = c;
    }
    px[i * 4 + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, W, H, x, y, w, h);
  ctx.restore();
}

/** An H×W block of values (as drawValues) as its own W×H canvas, to be drawn scaled many times (e.g. a heat map under a moving cursor). */
export function valuesCanvas(data, offset, H, W, opts) {
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  drawValues(c.getContext('2d'), data, offset, H, W, 0, 0, W, H, opts);
  return c;
}

export function heatColor(v) {
  const q = Math.round(Math.max(0, Math.min(1, v)) * 255);
  return `rgb(${LUT[q * 3]},${LUT[q * 3 + 1]},${LUT[q * 3 + 2]})`;
}

/** A centred grey message on a blank canvas (what a panel shows while it waits for a model). */
export function placeholder(canvas, cssW, cssH, lines) {
  if (!cssW) cssW = widthOf(canvas, 120, 1000); // 0: as wide as the parent allows
  const ctx = fitCanvas(canvas, cssW, cssH);
  ctx.fillStyle = '#f3f4f6';
  ctx.fillRect(0, 0, cssW, cssH);
  ctx.strokeStyle = '#d1d5db';
  ctx.setLineDash([6, 4]);
  ctx.strokeRect(0.5, 0.5, cssW - 1, cssH - 1);
  ctx.setLineDash([]);
  ctx.fillStyle = '#57606e';
  ctx.font = '13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const arr = Array.isArray(lines) ? lines : [lines];
  arr.forEach((t, i) => ctx.fillText(t, cssW / 2, cssH / 2 + (i - (arr.length - 1) / 2) * 18));
  return ctx;
}

/**
 * A small line chart. series: [{ points: [[x, y], …], color, label }]; y range fixed or from data.
 * clipStart: the y range leaves out the first tenth of the points (at least the first), so that a
 * training curve's first values (e.g. DRAW's ~660 nats before ~100) do not flatten the rest; points
 * above the range are drawn at its top edge, and the top label says how high they went.
 * A range from the data has a 5 % margin below its lowest point. The range drawn is recorded on
 * the canvas (data-y0, data-y1) for tests.
 */
export function lineChart(canvas, cssW, cssH, series, { yMin, yMax, xLabel = '', yFormat = (v) => v.toFixed(2), title = '', clipStart = false } = {}) {
  const ctx = fitCanvas(canvas, cssW, cssH);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, cssW, cssH);
  const L = 40, R = 8, T = title ? 20 : 8, B = 18;
  const all = series.flatMap((s) => s.points);
  let x0 = 0, x1 = 1;
  if (all.length) {
    x0 = Math.min(...all.map((p) => p[0]));
    x1 = Math.max(...all.map((p) => p[0]));
    if (x1 === x0) x1 = x0 + 1;
  }
  const ranged = clipStart ? series.flatMap((s) => s.points.slice(Math.max(1, Math.ceil(s.points.length / 10)))) : all;
  const ys = (ranged.length ? ranged : all).map((p) => p[1]);
  let y0 = yMin ?? (ys.length ? Math.min(...ys) : 0);
  let y1 = yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (y1 === y0) y1 = y0 + 1;
  // a range from the data leaves 5 % below its lowest point, so a falling curve's newest (lowest)
  // point is drawn above the axis, not on it
  if (yMin === undefined && ys.length) y0 -= 0.05 * (y1 - y0);
  const top = all.length ? Math.max(...all.map((p) => p[1])) : y1;
  canvas.dataset.y0 = String(y0);
  canvas.dataset.y1 = String(y1);
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (cssW - L - R);
  const Y = (v) => cssH - B - ((Math.min(v, y1) - y0) / (y1 - y0)) * (cssH - T - B);
  ctx.strokeStyle = '#e5e7eb';
  ctx.fillStyle = '#57606e';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let k = 0; k <= 2; k++) {
    const v = y0 + ((y1 - y0) * k) / 2;
    ctx.beginPath();
    ctx.moveTo(L, Y(v));
    ctx.lineTo(cssW - R, Y(v));
    ctx.stroke();
    ctx.fillText(yFormat(v), L - 4, Y(v));
  }
  ctx.textAlign = 'center';
  ctx.fillText(xLabel, (L + cssW - R) / 2, cssH - 7);
  if (title) {
    ctx.textAlign = 'left';
    ctx.fillStyle = '#111827';
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.fillText(title, L, 9);
  }
  if (top > y1) {
    // Points clipped at the top edge: say how high they went (inside the plot, under its top line,
    // where a falling training curve leaves room).
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#57606e';
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText(`↑ clipped: first points up to ${yFormat(top)}`, cssW - R, T + 3);
  }
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    if (s.dots) {
      ctx.fillStyle = s.color;
      for (const [x, y] of s.points) {
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 2.2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  return ctx;
}

/** A bar chart of one weighting vector (length R) in the rectangle (x, y, w, h). */
export function bars(ctx, values, x, y, w, h, { color = '#4f46e5', max = 1, label = '' } = {}) {
  ctx.fillStyle = '#fff';
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = '#e5e7eb';
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  const n = values.length;
  const bw = w / n;
  ctx.fillStyle = color;
  for (let i = 0; i < n; i++) {
    const bh = Math.max(0, Math.min(1, values[i] / max)) * (h - 16);
    ctx.fillRect(x + i * bw + 1, y + h - bh - 1, Math.max(1, bw - 2), bh);
  }
  if (label) {
    ctx.fillStyle = '#374151';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(label, x + 4, y + 3);
  }
}

/** A quadrilateral given by 4 points, closed. */
export function quad(ctx, pts, color, width = 1.5) {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.stroke();
}

/** True when the visitor asked for less motion: panels then never start an animation by themselves. */
export function reducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}
