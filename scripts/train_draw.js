#!/usr/bin/env node
// train_draw.js: trains the DRAW model of src/draw_model.c on the shipped MNIST digits (data/,
// 8,000 train / 2,000 test, binarised by thresholding at 0.5), evaluates the negative variational
// bound on the test split and writes weights/draw-mnist.bin (float16) for the page and
// g.pretrained('draw-mnist').
//
//   node scripts/train_draw.js [--baseline] [--epochs 30] [--out weights/draw-mnist.bin] [--engine native|wasm]
//                              [--seed 1] [--json FILE]
//
// --baseline   also trains the paper's no-attention model (read the whole image, write a full canvas
//              delta) with the same budget (settings, epochs, batches, learning-rate schedule), in
//              parallel, and prints both bounds beside the paper's (Gregor et al. 2015, table 2:
//              80.97 with attention, 87.40 without, on full binarised MNIST with T = 64).
// --engine     native (default when build/native/train_draw exists: the same C, SSE, about 1.5x the
//              wasm speed) or wasm (the SIMD build in this Node process, one trainBatch call per batch).
// Both engines run the same C with the same settings and seeds; the native trainer is
// tests/native/train_draw.c.
//
// The settings (SETTINGS below) are createDRAW's defaults (the schema in src/draw_model.c) plus the schedule: Adam,
// learning rate 2e-3 decaying geometrically per epoch to 1e-4, batch 64, gradient norm clipped to 10,
// every epoch a fresh shuffle of the 8,000 training digits. The shipped file is the final model
// (no selection on the test split); the script reloads it from its float16 bytes in wasm and reports
// the test bound of exactly what ships.
import { writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { load, loadMnist } from '../src/js/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DRAW_DEFAULTS = (await load()).defaults.DRAW; // the C schema's defaults (src/draw_model.c)
const PAPER = { attention: 80.97, none: 87.4 };

const SETTINGS = {
  T: DRAW_DEFAULTS.T, readN: DRAW_DEFAULTS.readN, writeN: DRAW_DEFAULTS.writeN, hidden: DRAW_DEFAULTS.hidden,
  latent: DRAW_DEFAULTS.latent, clipNorm: DRAW_DEFAULTS.clipNorm, batch: 64, epochs: 30, lr: 2e-3, lrFinal: 1e-4,
};

function parseArgs(argv) {
  const o = { baseline: false, epochs: SETTINGS.epochs, out: 'weights/draw-mnist.bin', engine: null, seed: 1, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--baseline') o.baseline = true;
    else if (a === '--epochs') o.epochs = Math.max(1, parseInt(val(), 10));
    else if (a === '--out') o.out = val();
    else if (a === '--engine') o.engine = val();
    else if (a === '--seed') o.seed = parseInt(val(), 10) >>> 0;
    else if (a === '--json') o.json = val();
    else throw new Error(`unknown option '${a}'`);
  }
  if (o.engine && !['native', 'wasm'].includes(o.engine)) throw new Error('--engine must be native or wasm');
  return o;
}

const NATIVE = `${ROOT}build/native/train_draw`;

/** Train natively (tests/native/train_draw.c); resolves to the float32 weight bytes and the log. */
function trainNative(attention, o, tag) {
  const raw = `${ROOT}build/mnist-10k.bin`;
  if (!existsSync(raw)) {
    mkdirSync(dirname(raw), { recursive: true });
    writeFileSync(raw, gunzipSync(readFileSync(`${ROOT}data/mnist-10k.bin.gz`)));
  }
  const out = `${ROOT}build/draw-${tag}.bin`;
  const args = ['--data', raw, '--out', out, '--T', SETTINGS.T, '--readN', SETTINGS.readN, '--writeN', SETTINGS.writeN,
    '--hidden', SETTINGS.hidden, '--latent', SETTINGS.latent, '--attention', attention ? 1 : 0, '--clip', SETTINGS.clipNorm,
    '--batch', SETTINGS.batch, '--epochs', o.epochs, '--lr', SETTINGS.lr, '--lr-final', SETTINGS.lrFinal,
    '--seed', o.seed, '--eval-every', 5].map(String);
  return new Promise((resolve, reject) => {
    const p = spawn(NATIVE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const log = [];
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let k;
      while ((k = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 1);
        if (!line.trim()) continue;
        const j = JSON.parse(line);
        log.push(j);
        if (j.epoch) process.stderr.write(`[${tag}] epoch ${j.epoch}: train ${j.train.toFixed(2)}${j.test != null ? `, test ${j.test.toFixed(2)}` : ''} (${j.seconds.toFixed(0)} s)\n`);
      }
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve({ bytes: new Uint8Array(readFileSync(out)), log }) : reject(new Error(`${NATIVE} exited with ${code}`))));
  });
}

/** Train in this process on the wasm SIMD build; resolves to the float32 weight bytes and the log. */
async function trainWasm(g, mnist, attention, o, tag) {
  const m = g.createDRAW({
    T: SETTINGS.T, readN: SETTINGS.readN, writeN: SETTINGS.writeN, hidden: SETTINGS.hidden, latent: SETTINGS.latent,
    attention, seed: o.seed, learningRate: SETTINGS.lr, clipNorm: SETTINGS.clipNorm,
  });
  const { batch } = SETTINGS, n = mnist.train.count, pix = 784;
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  let s = o.seed * 2654435761 + 77;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const xb = new Float32Array(batch * pix);
  const log = [];
  const t0 = Date.now();
  for (let ep = 0; ep < o.epochs; ep++) {
    m.learningRate = o.epochs > 1 ? SETTINGS.lr * (SETTINGS.lrFinal / SETTINGS.lr) ** (ep / (o.epochs - 1)) : SETTINGS.lr;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    let sum = 0, nb = 0;
    for (let b = 0; b + batch <= n; b += batch) {
      for (let k = 0; k < batch; k++) xb.set(mnist.train.images.subarray(perm[b + k] * pix, (perm[b + k] + 1) * pix), k * pix);
      sum += m.trainBatch(xb).loss;
      nb++;
    }
    const e = { epoch: ep + 1, seconds: (Date.now() - t0) / 1000, train: sum / nb };
    if ((ep + 1) % 5 === 0 || ep === o.epochs - 1) e.test = m.loss(mnist.test.images, { seed: 12345 }).loss;
    log.push(e);
    process.stderr.write(`[${tag}] epoch ${e.epoch}: train ${e.train.toFixed(2)}${e.test != null ? `, test ${e.test.toFixed(2)}` : ''} (${e.seconds.toFixed(0)} s)\n`);
  }
  const bytes = m.save();
  m.free();
  return { bytes, log };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`train_draw.js: ${e.message}\n`);
    process.exit(2);
  }
  const engine = o.engine ?? (existsSync(NATIVE) ? 'native' : 'wasm');
  if (engine === 'native' && !existsSync(NATIVE)) throw new Error(`${NATIVE} is missing: run ./build.sh --native-only`);
  const g = await load();
  const mnist = await loadMnist();
  const t0 = Date.now();
  const jobs = [['attention', true], ...(o.baseline ? [['none', false]] : [])];
  process.stderr.write(`training ${jobs.map((j) => j[0]).join(' and ')} on ${engine}: ${JSON.stringify({ ...SETTINGS, epochs: o.epochs, seed: o.seed })}\n`);
  const trained = await Promise.all(jobs.map(([tag, att]) => (engine === 'native' ? trainNative(att, o, tag) : trainWasm(g, mnist, att, o, tag))));
  const results = {};
  for (let k = 0; k < jobs.length; k++) {
    const [tag] = jobs[k];
    const m32 = g.loadDRAW(trained[k].bytes);
    const bytes16 = m32.save({ float16: true });
    const m16 = g.loadDRAW(bytes16);
    // The bound of the shipped float16 weights on the 2,000 test digits (one eps sample per image,
    // seed 12345), and on the training digits for comparison.
    const test = m16.loss(mnist.test.images, { seed: 12345 });
    const test32 = m32.loss(mnist.test.images, { seed: 12345 });
    const train = m16.loss(mnist.train.images, { seed: 12345 });
    results[tag] = {
      test, test32: test32.loss, train: train.loss, params: m16.parameterCount, bytes: bytes16.length,
      paper: PAPER[tag], log: trained[k].log,
    };
    if (tag === 'attention') {
      mkdirSync(dirname(o.out), { recursive: true });
      writeFileSync(o.out, bytes16);
    }
    m32.free();
    m16.free();
  }
  const minutes = (Date.now() - t0) / 60000;
  const line = (tag, label) => {
    const r = results[tag];
    return `${label.padEnd(14)} test ${r.test.loss.toFixed(2)} nats (reconstruction ${r.test.reconstruction.toFixed(2)}, KL ${r.test.kl.toFixed(2)}; float32 ${r.test32.toFixed(2)}), train ${r.train.toFixed(2)}, paper ${r.paper} (full MNIST, T=64)`;
  };
  process.stdout.write(`DRAW on the shipped MNIST (8,000 train / 2,000 test, threshold binarisation), ${o.epochs} epochs, ${minutes.toFixed(1)} min on ${engine}:\n`);
  process.stdout.write(`${line('attention', 'attention')}\n`);
  if (results.none) process.stdout.write(`${line('none', 'no attention')}\n`);
  process.stdout.write(`wrote ${o.out} (${results.attention.bytes} bytes, float16, ${results.attention.params} parameters)\n`);
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, JSON.stringify({ settings: { ...SETTINGS, epochs: o.epochs, seed: o.seed }, engine, minutes, results }, null, 1) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`train_draw.js: ${e.stack ?? e}\n`);
  process.exit(1);
});
