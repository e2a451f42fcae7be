#!/usr/bin/env node
// train_stn.js: trains the Spatial Transformer Network of src/stn_model.c on the shipped MNIST
// digits (data/, 8,000 train / 2,000 test) under the STN paper's distortions, headless in Node
// on the wasm core.
//
//   node scripts/train_stn.js train [--distortion RTS] [--epochs 30] [--out weights/stn-mnist.bin] [options]
//       trains one model and writes its weights (the format of src/weights.h); prints test error.
//   node scripts/train_stn.js table [--epochs 10] [--kinds R,RTS,P,E,T] [options]
//       trains a plain CNN and an ST-CNN on each distortion with the same budget and prints a
//       Table-1-style table of test errors (Jaderberg et al. 2015, table 1 left).
//
// Options: --transform affine|projective|none, --optimizer adam|sgd, --lr X, --batch 64, --seed 1,
//   --dropout 0.5, --decay-at 0.75 (the learning rate drops 10x after this fraction of the steps),
//   --simd false (scalar build), --json (one JSON object on stdout instead of tables), --quiet.
//
// Data protocol (documented in README): every training step distorts a fresh batch of training
// digits (seed = step number, so the run sees new distortions each epoch), the test set is the
// 2,000 test digits distorted once with a fixed seed (test seed 1,000,000 + kind index). An epoch
// is 8,000 / batch steps. Kind T (60×60 translated, cluttered): both models see 30×30: the CNN
// max-pools the 60×60 canvas once (classifierPool 1), the ST-CNN samples a 30×30 output from it
// (outputSize [30, 30]); the localisation net pools its 60×60 input once (locPool auto).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { load, loadMnist } from '../src/js/index.js';

const KINDS = ['R', 'RTS', 'P', 'E', 'T'];
const SIDE = { R: 28, RTS: 42, P: 28, E: 28, T: 60, none: 28 };

function parseArgs(argv) {
  const o = {
    mode: argv[0], distortion: 'RTS', epochs: null, out: 'weights/stn-mnist.bin', kinds: KINDS, transform: 'affine',
    optimizer: 'adam', lr: null, batch: 64, seed: 1, dropout: 0.5, decayAt: 0.75, simd: true, json: false, quiet: false,
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = (lo, hi) => {
      const x = Number(val());
      if (!(x >= lo && x <= hi)) throw new Error(`${a} must be a number in [${lo}, ${hi}]`);
      return x;
    };
    if (a === '--distortion') {
      o.distortion = val();
      if (![...KINDS, 'none'].includes(o.distortion)) throw new Error(`--distortion must be one of ${KINDS.join(', ')} or none`);
    } else if (a === '--epochs') o.epochs = num(0.01, 1000);
    else if (a === '--out') o.out = val();
    else if (a === '--kinds') {
      o.kinds = val().split(',');
      for (const k of o.kinds) if (!KINDS.includes(k)) throw new Error(`--kinds: unknown kind '${k}'`);
    } else if (a === '--transform') o.transform = val();
    else if (a === '--optimizer') o.optimizer = val();
    else if (a === '--lr') o.lr = num(1e-8, 10);
    else if (a === '--batch') o.batch = num(1, 4096) | 0;
    else if (a === '--seed') o.seed = num(0, 2 ** 32 - 1) >>> 0;
    else if (a === '--dropout') o.dropout = num(0, 0.95);
    else if (a === '--decay-at') o.decayAt = num(0, 1);
    else if (a === '--simd') o.simd = val() !== 'false';
    else if (a === '--json') o.json = true;
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown option '${a}'`);
  }
  if (o.mode !== 'train' && o.mode !== 'table') throw new Error("the first argument must be 'train' or 'table'");
  if (o.epochs === null) o.epochs = o.mode === 'train' ? 30 : 10;
  return o;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Model options for a distortion kind and transform. */
function modelOptions(kind, transform, o) {
  const side = SIDE[kind];
  const opts = {
    height: side, width: side, classes: 10, seed: o.seed, transform, optimizer: o.optimizer, dropout: o.dropout, distortion: kind,
    ...(o.lr != null ? { learningRate: o.lr } : {}),
  };
  if (kind === 'T') {
    if (transform === 'none') opts.classifierPool = 1;
    else opts.outputSize = [30, 30];
  }
  return opts;
}

/** The fixed test set of a kind: { images, labels, count }. */
function testSet(g, mnist, kind) {
  const t = mnist.test;
  if (kind === 'none') return t;
  const images = g.distort(t.images, t.count, kind, { seed: 1000000 + KINDS.indexOf(kind) }).images;
  return { images, labels: t.labels, count: t.count };
}

/**
 * Train one model for o.epochs on freshly distorted batches; returns { model, testError, seconds, steps, log }.
 * log(s) receives progress lines.
 */
export function trainOne(g, mnist, kind, transform, o, log = () => {}) {
  const model = g.createSTN(modelOptions(kind, transform, o));
  const tr = mnist.train;
  const B = o.batch, pix = 28 * 28;
  const perEpoch = Math.floor(tr.count / B);
  const steps = Math.max(1, Math.round(o.epochs * perEpoch));
  const lr0 = model.learningRate;
  const test = testSet(g, mnist, kind);
  const t0 = cpuSeconds();
  // A fixed permutation per epoch (seeded), so every digit is seen once per epoch.
  let order = null;
  let rs = (o.seed * 2654435761 + 12345) >>> 0;
  const rand = () => ((rs = (Math.imul(rs, 1664525) + 1013904223) >>> 0) / 4294967296);
  const xb = new Float32Array(B * pix), yb = new Uint8Array(B);
  let lossAvg = null, accAvg = null;
  for (let s = 0; s < steps; s++) {
    const e = Math.floor(s / perEpoch), j = s % perEpoch;
    if (j === 0) {
      order = Array.from({ length: tr.count }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const k = Math.floor(rand() * (i + 1));
        [order[i], order[k]] = [order[k], order[i]];
      }
    }
    if (s === Math.floor(o.decayAt * steps) && o.decayAt < 1) model.learningRate = lr0 * 0.1;
    for (let b = 0; b < B; b++) {
      const idx = order[j * B + b];
      xb.set(tr.images.subarray(idx * pix, (idx + 1) * pix), b * pix);
      yb[b] = tr.labels[idx];
    }
    const x = kind === 'none' ? xb : g.distort(xb, B, kind, { seed: s + 1 }).images;
    const r = model.trainBatch(x, yb);
    lossAvg = lossAvg == null ? r.loss : 0.98 * lossAvg + 0.02 * r.loss;
    accAvg = accAvg == null ? r.accuracy : 0.98 * accAvg + 0.02 * r.accuracy;
    if ((s + 1) % perEpoch === 0 || s + 1 === steps) {
      const ev = (e + 1) % 5 === 0 || s + 1 === steps ? model.evaluate(test.images, test.labels) : null;
      log(`  ${kind} ${transform.padEnd(10)} epoch ${String(e + 1).padStart(3)}  step ${String(s + 1).padStart(6)}  ` +
        `train loss ${lossAvg.toFixed(3)} acc ${(100 * accAvg).toFixed(1)}%` +
        `${ev ? `  test error ${(100 * (1 - ev.accuracy)).toFixed(2)}%` : ''}  (${(cpuSeconds() - t0).toFixed(0)} s CPU)`);
    }
  }
  const seconds = cpuSeconds() - t0;
  const ev = model.evaluate(test.images, test.labels);
  return { model, testError: 1 - ev.accuracy, testLoss: ev.loss, seconds, steps, imagesPerSecond: (steps * B) / seconds };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`train_stn.js: ${e.message}\nusage: node scripts/train_stn.js train|table [options] (see the header of this file)\n`);
    process.exit(2);
  }
  const g = await load({ simd: o.simd });
  const mnist = await loadMnist();
  const log = o.quiet ? () => {} : (s) => process.stderr.write(`${s}\n`);
  const settings = `optimizer ${o.optimizer}${o.lr != null ? ` lr ${o.lr}` : ' (default lr)'}, batch ${o.batch}, ` +
    `${o.epochs} epochs of ${Math.floor(mnist.train.count / o.batch)} steps, lr ×0.1 after ${Math.round(o.decayAt * 100)}%, ` +
    `dropout ${o.dropout}, seed ${o.seed}, ${g.build} build`;

  if (o.mode === 'train') {
    log(`training ${o.transform} on ${o.distortion}: ${settings}`);
    const r = trainOne(g, mnist, o.distortion, o.transform, o, log);
    const bytes = r.model.save();
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, bytes);
    const summary = {
      distortion: o.distortion, transform: o.transform, testError: r.testError, testAccuracy: 1 - r.testError,
      steps: r.steps, cpuSeconds: r.seconds, imagesPerSecond: r.imagesPerSecond, out: o.out, bytes: bytes.length,
      config: r.model.config, settings,
    };
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 1) + '\n');
    else {
      process.stdout.write(`${o.transform} on ${o.distortion}: test error ${(100 * r.testError).toFixed(2)}% ` +
        `(accuracy ${(100 * (1 - r.testError)).toFixed(2)}%) on the 2,000 test digits after ${r.steps} steps, ` +
        `${r.seconds.toFixed(0)} s CPU (${r.imagesPerSecond.toFixed(0)} images/s)\nwrote ${o.out} (${bytes.length} bytes)\nsettings: ${settings}\n`);
    }
    r.model.free();
    return;
  }

  // table
  log(`table: CNN vs ST-CNN (${o.transform}) on ${o.kinds.join(', ')}: ${settings}`);
  const rows = [];
  for (const kind of o.kinds) {
    const cnn = trainOne(g, mnist, kind, 'none', o, log);
    cnn.model.free();
    const st = trainOne(g, mnist, kind, o.transform, o, log);
    st.model.free();
    rows.push({ kind, side: SIDE[kind], cnn: cnn.testError, st: st.testError, cnnSeconds: cnn.seconds, stSeconds: st.seconds, steps: st.steps });
    log(`  ${kind}: CNN ${(100 * cnn.testError).toFixed(2)}%  ST-CNN ${(100 * st.testError).toFixed(2)}%`);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ settings, transform: o.transform, rows }, null, 1) + '\n');
    return;
  }
  const lines = [
    `Test error (%) on the 2,000 shipped test digits, distorted (${settings})`,
    '',
    '| distortion | input | CNN | ST-CNN | CPU s (CNN / ST-CNN) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.kind} | ${r.side}×${r.side} | ${(100 * r.cnn).toFixed(2)} | ${(100 * r.st).toFixed(2)} | ${r.cnnSeconds.toFixed(0)} / ${r.stSeconds.toFixed(0)} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
