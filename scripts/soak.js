#!/usr/bin/env node
// soak.js: long-run numerical and memory check of every model that exists (issue 7, "Numerics").
// Trains each model for a given number of minutes on the wasm-SIMD build, asserting every step's
// loss (and gradient norm) is finite, and reports loss at the start and end, steps, wasm memory
// (g.memoryBytes()) after creation, after a warm-up (10 steps and one evaluation) and at the end
// (after the final evaluation). Then demonstrates the
// non-finite refusal: models with an absurd learning rate and no clipping are trained until a step
// is refused (an Error, the weights unchanged: save() before and after are identical, and the
// model still predicts finite numbers), and images / sequences holding NaN are refused at the
// boundary with a RangeError.
//
// --threads N runs everything on load({ threads: N }) (the threaded build with N threads; refused
// if the instance gets fewer). With N > 1 it finally re-runs a short fixed sequence of training
// steps of every model on fresh models in the threaded instance and in a load({ threads: 1 })
// instance and checks that the losses, gradient norms and weights (save()) are bit-identical.
//
// Usage: node scripts/soak.js [--minutes 2] [--models stn,draw,ntm] [--json FILE] [--scalar] [--threads N]
// Exit status: 1 if any step gave a non-finite loss without being refused, memory grew after the
// warm-up, a refused step changed the weights, a NaN input was not a RangeError, or (--threads)
// the threaded results differ from the 1-thread ones.
import { writeFileSync } from 'node:fs';
import { load, loadMnist } from '../src/js/index.js';
import { crc32 } from './png.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const minutes = Number(opt('minutes', 2));
const wanted = opt('models', 'stn,draw,ntm').split(',');
const jsonOut = opt('json', null);
const simd = !args.includes('--scalar');
const threads = opt('threads', null) === null ? null : Number(opt('threads'));
if (!(minutes > 0)) throw new RangeError(`--minutes must be a positive number, got ${opt('minutes')}`);
if (threads !== null && !(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`--threads must be a positive integer, got ${opt('threads')}`);

const g = await load(threads === null ? { simd } : { simd, threads });
const mnist = await loadMnist();
const PIX = 28 * 28;
const MiB = (b) => +(b / 2 ** 20).toFixed(1);
const failures = [];
const results = { build: g.build, threads: g.threads, minutesPerModel: minutes, models: {}, refusal: {} };
const log = (s) => process.stdout.write(`${s}\n`);
if (threads !== null) {
  log(`instance: ${g.build}, ${g.threads} thread(s)${g.threadsReason ? ` (${g.threadsReason})` : ''}`);
  if (g.threads !== threads) {
    log(`FAILED: asked for ${threads} threads, got ${g.threads}: ${g.threadsReason}`);
    process.exit(1);
  }
}

/** Batch b (of size n) of the training images, cycling through the split. */
function batch(b, n) {
  const N = mnist.train.count, x = new Float32Array(n * PIX), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = (b * n + i) % N;
    x.set(mnist.train.images.subarray(k * PIX, (k + 1) * PIX), i * PIX);
    y[i] = mnist.train.labels[k];
  }
  return { x, y };
}
const testImages = (n) => mnist.test.images.subarray(0, n * PIX);

const MODELS = {
  stn: {
    exists: () => !!g.createSTN,
    create: () => g.createSTN({ seed: 1 }), // the PyTorch tutorial's network, SGD lr 0.01, momentum 0.9
    step: (m, i) => {
      const { x, y } = batch(i, 64);
      return m.trainBatch(x, y);
    },
    evaluate: (m) => {
      const n = 1000;
      return m.evaluate(testImages(n), mnist.test.labels.subarray(0, n));
    },
  },
  draw: {
    exists: () => !!g.createDRAW,
    create: () => g.createDRAW({ seed: 1 }), // the defaults: the shipped model's settings
    step: (m, i) => m.trainBatch(batch(i, 64).x),
    evaluate: (m) => m.loss(testImages(500), { seed: 1 }),
  },
  ntm: {
    exists: () => !!g.createNTM,
    create: () => g.createNTM({ seed: 1 }), // 8 bits, 128×20 memory, LSTM 100, Adam 1e-3
    step: (m) => m.trainCopy({ batch: 16, minLength: 1, maxLength: 20 }),
    evaluate: (m) => m.evaluateCopy({ batch: 32, minLength: 1, maxLength: 20, count: 64, seed: 1 }),
  },
};

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;

for (const [name, M] of Object.entries(MODELS)) {
  if (!wanted.includes(name)) continue;
  if (!M.exists()) {
    log(`${name}: not in this build, skipped`);
    continue;
  }
  const memStart = g.memoryBytes();
  const m = M.create();
  const memCreated = g.memoryBytes();
  const before = M.evaluate(m);
  const losses = [];
  let memWarm = null, nonFinite = 0, refused = 0;
  const t0 = performance.now(), end = t0 + minutes * 60_000;
  for (let i = 0; performance.now() < end; i++) {
    let r;
    try {
      r = M.step(m, i);
    } catch (e) {
      refused++;
      failures.push(`${name}: step ${i} refused: ${e.message}`);
      continue;
    }
    if (!Number.isFinite(r.loss) || (r.gradNorm !== undefined && !Number.isFinite(r.gradNorm))) {
      nonFinite++;
      failures.push(`${name}: step ${i} returned a non-finite loss ${r.loss} / gradient norm ${r.gradNorm}`);
    }
    losses.push(r.loss);
    if (i === 9) {
      // warmed up: the training step's activations are laid out, and one evaluation now lays out
      // (and copies in) what the final evaluation needs next to them; memory must stay flat after
      M.evaluate(m);
      memWarm = g.memoryBytes();
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const after = M.evaluate(m);
  const memEnd = g.memoryBytes();
  const w = Math.min(20, Math.floor(losses.length / 2));
  const res = {
    steps: losses.length, seconds: +secs.toFixed(1), stepsPerSecond: +(losses.length / secs).toFixed(2),
    lossFirst: +mean(losses.slice(0, w)).toFixed(4), lossLast: +mean(losses.slice(-w)).toFixed(4),
    lossMin: +Math.min(...losses).toFixed(4), lossMax: +Math.max(...losses).toFixed(4),
    nonFinite, refused, evalBefore: before, evalAfter: after,
    memoryMiB: { beforeCreate: MiB(memStart), afterCreate: MiB(memCreated), afterWarmup: MiB(memWarm ?? memEnd), end: MiB(memEnd) },
  };
  if (memWarm !== null && memEnd > memWarm) failures.push(`${name}: wasm memory grew after the warm-up: ${MiB(memWarm)} -> ${MiB(memEnd)} MiB`);
  results.models[name] = res;
  log(`${name}: ${res.steps} steps in ${res.seconds} s (${res.stepsPerSecond}/s), loss ${res.lossFirst} -> ${res.lossLast} (mean of first/last ${w}; min ${res.lossMin}, max ${res.lossMax}), ` +
    `non-finite ${nonFinite}, refused ${refused}; eval ${JSON.stringify(before)} -> ${JSON.stringify(after)}; ` +
    `memory MiB: ${res.memoryMiB.beforeCreate} before create, ${res.memoryMiB.afterCreate} after, ${res.memoryMiB.afterWarmup} after 10 steps + an evaluation, ${res.memoryMiB.end} at the end`);
  m.free();
}

// ------------------------------------------------------------------------------------------
// Non-finite refusal: absurd learning rates without clipping, trained until a step is refused.

const bytesEqual = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const ABSURD = {
  stn: { exists: () => !!g.createSTN, create: () => g.createSTN({ seed: 2, learningRate: 100, clipNorm: 0, momentum: 0.99 }), probe: (m) => m.predict(testImages(8)).logits },
  draw: { exists: () => !!g.createDRAW, create: () => g.createDRAW({ seed: 2, T: 4, hidden: 64, latent: 8, learningRate: 100, clipNorm: 0 }), probe: (m) => new Float32Array([m.loss(testImages(8), { seed: 1 }).loss]) },
  ntm: { exists: () => !!g.createNTM, create: () => g.createNTM({ seed: 2, learningRate: 10, clipNorm: 0 }), probe: (m) => m.copy(new Float32Array(3 * m.bits).fill(1), 3, { traces: false }).output },
};
for (const [name, A] of Object.entries(ABSURD)) {
  if (!wanted.includes(name) || !A.exists()) continue;
  const m = A.create();
  const r = { refusedAtStep: null, message: null, weightsUnchanged: null, finiteAfter: null, maxFiniteLoss: 0 };
  const limit = 100, t0 = performance.now();
  for (let i = 0; i < limit && performance.now() - t0 < 30_000; i++) {
    const saved = m.save();
    try {
      const out = MODELS[name].step(m, i);
      if (!Number.isFinite(out.loss)) {
        failures.push(`${name} (absurd lr): step ${i} returned loss ${out.loss} instead of being refused`);
        break;
      }
      r.maxFiniteLoss = Math.max(r.maxFiniteLoss, out.loss);
    } catch (e) {
      r.refusedAtStep = i;
      r.message = e.message;
      r.errorClass = e.constructor.name;
      r.weightsUnchanged = bytesEqual(saved, m.save());
      r.finiteAfter = A.probe(m).every(Number.isFinite);
      if (!r.weightsUnchanged) failures.push(`${name} (absurd lr): the refused step changed the weights`);
      break;
    }
  }
  if (r.refusedAtStep === null) r.note = `stayed finite for ${limit} steps (or 30 s): nothing to refuse`;
  results.refusal[name] = r;
  log(`${name} with an absurd learning rate and no clipping: ${r.refusedAtStep === null ? r.note : `step ${r.refusedAtStep} refused (${r.errorClass}: ${r.message}); weights unchanged: ${r.weightsUnchanged}; outputs still finite: ${r.finiteAfter}`}; largest finite loss ${r.maxFiniteLoss.toPrecision(4)}`);
  m.free();
}

// A loss that does turn non-finite: a model loaded from a (checksum-valid) weights file whose
// parameters are all 3e38 (finite, so the loader accepts them). Its first training step must be
// refused with an Error saying the loss or gradient is not finite, and leave the weights as they were.
results.hugeWeights = {};
for (const [name, A] of Object.entries(ABSURD)) {
  if (!wanted.includes(name) || !A.exists()) continue;
  const base = A.create();
  const b = base.save();
  base.free();
  const dv = new DataView(b.buffer);
  for (let o = 24 + 4 * dv.getUint32(16, true); o < b.length - 4; o += 4) dv.setFloat32(o, 3e38, true);
  dv.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  const m = g[`load${name.toUpperCase()}`](b);
  m.learningRate = 1e-3;
  const saved = m.save();
  const r = {};
  try {
    const out = MODELS[name].step(m, 0);
    r.error = 'none';
    r.loss = out.loss;
    failures.push(`${name} with 3e38 weights: the step was not refused (loss ${out.loss})`);
  } catch (e) {
    r.error = e.constructor.name;
    r.message = e.message;
    if (!/not finite/.test(e.message)) failures.push(`${name} with 3e38 weights: ${e.constructor.name}: ${e.message}`);
  }
  r.weightsUnchanged = bytesEqual(saved, m.save());
  if (!r.weightsUnchanged) failures.push(`${name} with 3e38 weights: the refused step changed the weights`);
  results.hugeWeights[name] = r;
  log(`${name} loaded with every parameter 3e38: ${r.error}${r.message ? `: ${r.message}` : ` (loss ${r.loss})`}; weights unchanged: ${r.weightsUnchanged}`);
  m.free();
}

// NaN (and Infinity) inputs are refused at the JS boundary with a RangeError, before wasm runs.
const nanCases = [];
if (g.createSTN) {
  const m = g.createSTN({ seed: 3 });
  const { x, y } = batch(0, 4);
  nanCases.push(['STN trainBatch, a NaN pixel', () => { const b = x.slice(); b[100] = NaN; m.trainBatch(b, y); }, m]);
  nanCases.push(['STN predict, an Infinity pixel', () => { const b = x.slice(); b[7] = Infinity; m.predict(b); }, m]);
}
if (g.createDRAW) {
  const m = g.createDRAW({ seed: 3, T: 2, hidden: 16, latent: 4 });
  const { x } = batch(0, 4);
  nanCases.push(['DRAW trainBatch, a NaN pixel', () => { const b = x.slice(); b[100] = NaN; m.trainBatch(b); }, m]);
}
if (g.createNTM) {
  const m = g.createNTM({ seed: 3, memory: [16, 8], controller: 16 });
  nanCases.push(['NTM copy, a NaN bit', () => { const s = new Float32Array(3 * m.bits); s[2] = NaN; m.copy(s, 3); }, m]);
}
results.nanInputs = {};
for (const [what, f, m] of nanCases) {
  const saved = m.save();
  let cls = 'accepted', msg = '';
  try {
    f();
  } catch (e) {
    cls = e.constructor.name;
    msg = e.message;
  }
  const unchanged = bytesEqual(saved, m.save());
  results.nanInputs[what] = { error: cls, message: msg, weightsUnchanged: unchanged };
  if (cls !== 'RangeError' || !unchanged) failures.push(`${what}: ${cls} ${msg} (weights unchanged: ${unchanged})`);
  log(`${what}: ${cls}${msg ? `: ${msg}` : ''}; weights unchanged: ${unchanged}`);
}
for (const [, , m] of nanCases) m.free();

// ------------------------------------------------------------------------------------------
// --threads: the same short fixed sequence of steps on fresh models with N threads and with 1 must
// give bit-identical losses, gradient norms and weights (GL_SHARDS fixed shards: the thread count
// never changes the numbers).
const IDENTITY_STEPS = { stn: 8, draw: 4, ntm: 8 };
if (threads !== null && threads > 1) {
  const g1 = await load({ simd, threads: 1 });
  results.threadIdentity = {};
  const bitsEqual = (a, b) => {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  };
  for (const [name, M] of Object.entries(MODELS)) {
    if (!wanted.includes(name) || !M.exists()) continue;
    const run = (inst) => {
      const m = { stn: () => inst.createSTN({ seed: 5 }), draw: () => inst.createDRAW({ seed: 5 }), ntm: () => inst.createNTM({ seed: 5 }) }[name]();
      const losses = new Float32Array(IDENTITY_STEPS[name]), norms = new Float32Array(IDENTITY_STEPS[name]);
      for (let i = 0; i < losses.length; i++) {
        const r = M.step(m, 1000 + i);
        losses[i] = r.loss;
        norms[i] = r.gradNorm ?? NaN;
      }
      const weights = m.save();
      m.free();
      return { losses, norms, weights };
    };
    const a = run(g), b = run(g1);
    const r = {
      steps: a.losses.length, losses: bitsEqual(a.losses, b.losses), gradNorms: bitsEqual(a.norms, b.norms),
      weights: bytesEqual(a.weights, b.weights), lossesN: Array.from(a.losses, (x) => +x.toPrecision(6)),
    };
    results.threadIdentity[name] = r;
    const ok = r.losses && r.gradNorms && r.weights;
    if (!ok) failures.push(`${name}: ${threads} threads vs 1: losses ${r.losses ? 'same' : 'DIFFER'}, gradient norms ${r.gradNorms ? 'same' : 'DIFFER'}, weights ${r.weights ? 'same' : 'DIFFER'}`);
    log(`${name}, ${r.steps} fixed steps on fresh models, ${threads} threads vs 1: losses ${r.losses ? 'bit-identical' : 'DIFFER'}, ` +
      `gradient norms ${r.gradNorms ? 'bit-identical' : 'DIFFER'}, weights (${a.weights.length} bytes) ${r.weights ? 'bit-identical' : 'DIFFER'}; losses ${r.lossesN.join(', ')}`);
  }
  g1.close();
}

results.failures = failures;
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
log(failures.length ? `FAILED:\n  ${failures.join('\n  ')}` : 'soak: all steps finite, memory stable after warm-up, refusals clean');
g.close();
process.exit(failures.length ? 1 : 0);
