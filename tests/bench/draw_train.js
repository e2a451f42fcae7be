// draw_train.js: benchmark section "draw-train": DRAW training throughput (images/s) at batch 64 and
// the settings of the shipped 'draw-mnist' model (createDRAW's defaults, the schema in src/draw_model.c) on
// wasm-SIMD, wasm-scalar, native and PyTorch (one thread), with the DRAW issue's target
// (wasm-SIMD at least on par with PyTorch).
//
// One timed call = one training step: forward through T glimpses (attention read, LSTM encoder,
// sampling, LSTM decoder, attention write), BPTT, gradient clipping, Adam (src/draw_model.c;
// tests/bench/torch_draw_train.py is the same model in PyTorch). The wasm builds are timed in-process
// by calling gl_draw_train_batch directly on images already in wasm memory, and once more through
// the JS API (model.trainBatch: validation and copy-in included); native and PyTorch run as helper
// programs (tests/native/bench_draw.c, tests/bench/torch_draw_train.py) that use the same timing protocol
// (common.js measure()) and print JSON. Data: 64 images with U(0, 1) pixels, thresholded at 0.5.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { rng, uniform } from '../util.js';
import { measure, median, summarize, check, runJson, progress, fmt, fmtCheck } from './common.js';

const S = (await load()).defaults.DRAW; // createDRAW's defaults (src/draw_model.c's schema)
const BATCH = 64;

export const name = 'draw-train';
export const title = `DRAW: training throughput (T=${S.T}, read ${S.readN}×${S.readN}, write ${S.writeN}×${S.writeN}, LSTM ${S.hidden}, z ${S.latent}, batch ${BATCH})`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';

const ENGINES = [
  { id: 'wasm-simd', what: 'gl_draw_train_batch of dist/glimpse-simd.wasm, called directly from Node' },
  { id: 'wasm-simd-api', what: 'model.trainBatch(images) of the JS API on the SIMD build (validation + copy-in included)' },
  { id: 'wasm-scalar', what: 'gl_draw_train_batch of dist/glimpse-scalar.wasm' },
  { id: 'native', what: 'build/native/bench_draw (same C, SSE4.1 branch of simd.h, -O3 -march=native)' },
  { id: 'native-scalar', what: 'build/native-scalar/bench_draw (same C, scalar branch)' },
  { id: 'torch', what: 'tests/bench/torch_draw_train.py: the same model in PyTorch (LSTMCell, autograd BPTT, Adam), 1 thread' },
];
const RATIOS = [
  { id: 'simd/torch', label: 'SIMD/torch', num: 'wasm-simd', den: 'torch', op: '>=', target: 1 },
  { id: 'simd-api/torch', label: 'SIMD (JS API)/torch', num: 'wasm-simd-api', den: 'torch' },
  { id: 'native/torch', label: 'native/torch', num: 'native', den: 'torch' },
  { id: 'simd/scalar', label: 'SIMD/scalar', num: 'wasm-simd', den: 'wasm-scalar' },
  { id: 'native/simd', label: 'native/SIMD', num: 'native', den: 'wasm-simd' },
];

const CONFIG = [S.T, S.readN, S.writeN, S.hidden, S.latent, S.attention ? 1 : 0, 28, 28, 1];

function timeWasm(g, profile, images) {
  const core = g._core;
  const x = core.x;
  const pout = core.malloc(8), pcfg = core.malloc(CONFIG.length * 4), pres = core.malloc(16);
  const pimg = core.malloc(images.length * 4);
  let model = 0;
  try {
    core.i32.set(CONFIG, pcfg >> 2);
    core.f32.set(images, pimg >> 2);
    core.check(x.gl_model_create(pout, 2, pcfg, CONFIG.length), "gl_model_create");
    model = core.i32[pout >> 2];
    const unit = () => {
      const rc = x.gl_draw_train_batch(model, pres, pimg, BATCH);
      if (rc) core.check(rc, 'gl_draw_train_batch');
    };
    return measure(unit, profile);
  } finally {
    if (model) x.gl_model_free(model);
    for (const p of [pout, pcfg, pres, pimg]) core.free(p);
  }
}

function timeApi(g, profile, images) {
  const m = g.createDRAW({ T: S.T, readN: S.readN, writeN: S.writeN, hidden: S.hidden, latent: S.latent, attention: S.attention, seed: 1 });
  try {
    return measure(() => m.trainBatch(images), profile);
  } finally {
    m.free();
  }
}

function helperArgs(profile) {
  return ['--runs', String(profile.runs), '--min-time', String(profile.minTime), '--warmup', String(profile.warmup),
    '--batch', String(BATCH), '--T', String(S.T), '--readN', String(S.readN), '--writeN', String(S.writeN),
    '--hidden', String(S.hidden), '--latent', String(S.latent), '--attention', S.attention ? '1' : '0'];
}

function torchAvailable() {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} -c 'import torch' failed`;
  return null;
}

export async function run({ profile }) {
  const res = {}; // engine -> summary (seconds per call)
  const missing = {};
  const info = {};
  const images = uniform(rng(1), BATCH * 784, 0, 1);

  for (const [id, simd] of [['wasm-simd', true], ['wasm-scalar', false]]) {
    let g;
    try {
      g = await load({ simd });
    } catch (e) {
      missing[id] = `not available (${e.message})`;
      if (simd) missing['wasm-simd-api'] = missing[id];
      continue;
    }
    if (typeof g._core.x.gl_draw_train_batch !== 'function') {
      missing[id] = 'not built (dist wasm predates src/draw_model.c; run ./build.sh)';
      if (simd) missing['wasm-simd-api'] = missing[id];
      continue;
    }
    progress(`${name}: ${id}`);
    info[id] = g.build;
    res[id] = timeWasm(g, profile, images);
    if (simd) {
      progress(`${name}: wasm-simd-api`);
      info['wasm-simd-api'] = g.build;
      res['wasm-simd-api'] = timeApi(g, profile, images);
    }
  }

  for (const [id, dir] of [['native', 'native'], ['native-scalar', 'native-scalar']]) {
    const prog = `${ROOT}build/${dir}/bench_draw`;
    if (!existsSync(prog)) {
      missing[id] = `not built (run ./build.sh to get build/${dir}/bench_draw)`;
      continue;
    }
    progress(`${name}: ${id} (${prog})`);
    const r = runJson(prog, helperArgs(profile), { timeoutSec: 600 });
    if (!r.ok) { missing[id] = r.reason; continue; }
    info[id] = r.json.simd;
    const m = r.json.results[0];
    res[id] = summarize(m.runs, m.iters, m.wallRuns ?? null);
  }

  const noTorch = torchAvailable();
  if (noTorch) {
    missing.torch = `not available (${noTorch})`;
  } else {
    progress(`${name}: torch (${PYTHON} tests/bench/torch_draw_train.py)`);
    const r = runJson(PYTHON, [`${ROOT}tests/bench/torch_draw_train.py`, ...helperArgs(profile)], { timeoutSec: 1800 });
    if (!r.ok) {
      missing.torch = `failed: ${r.reason}`;
    } else {
      info.torch = `torch ${r.json.version}, ${r.json.threads} thread(s), ${r.json.params} parameters`;
      const m = r.json.results[0];
      res.torch = summarize(m.runs, m.iters, m.wallRuns ?? null);
    }
  }

  const imgPerSec = (e) => (res[e] ? BATCH / res[e].sec : null);
  const rows = ENGINES.map((e) => {
    const m = res[e.id];
    return {
      engine: e.id,
      imagesPerSec: imgPerSec(e.id),
      secPerCall: m?.sec ?? null,
      wallSecPerCall: m?.wallSec ?? null,
      spread: m ? (m.max - m.min) / m.sec : null,
      iters: m?.iters ?? null, runsSec: m?.runs ?? null, wallRunsSec: m?.wallRuns ?? null,
      ...(m ? {} : { missing: missing[e.id] ?? 'not measured' }),
    };
  });
  const checks = RATIOS.map((r) => {
    const a = imgPerSec(r.num), b = imgPerSec(r.den);
    const value = a != null && b != null ? a / b : null;
    return { ratio: r.id, ...(r.target != null ? check(value, r.op, r.target) : { value, target: null, met: null }) };
  });

  const tables = [
    {
      title: `one training step of ${BATCH} images per call`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        { key: 'ips', label: 'images/s' },
        { key: 'ms', label: 'ms/step' },
        { key: 'spread', label: 'spread' },
      ],
      rows: ENGINES.map((e) => {
        const m = res[e.id];
        if (!m) return { engine: e.id, ips: (missing[e.id] ?? 'not measured').split(' (')[0].split(':')[0] };
        return { engine: e.id, ips: fmt(BATCH / m.sec), ms: fmt(m.sec * 1e3, 1), spread: `${fmt((100 * (m.max - m.min)) / m.sec, 0)}%` };
      }),
      notes: ENGINES.filter((e) => missing[e.id]).map((e) => `${e.id}: ${missing[e.id]}`),
    },
    {
      columns: [
        { key: 'ratio', label: 'ratio', align: 'left' },
        { key: 'value', label: 'value' },
        { key: 'target', label: 'target', align: 'left' },
      ],
      rows: RATIOS.map((r) => ({
        ratio: r.label,
        value: fmtCheck(checks.find((c) => c.ratio === r.id)),
        target: r.target != null ? `${r.op === '>=' ? '≥' : '≤'} ${r.target}×` : '(info)',
      })),
    },
  ];

  const wallOverCpu = rows.filter((r) => r.wallSecPerCall != null).map((r) => r.wallSecPerCall / r.secPerCall);
  const targeted = checks.filter((c) => c.target != null);
  const notes = [
    'images/s = batch / CPU seconds per training step (forward over T glimpses, BPTT, clip_grad_norm 10, Adam).',
    `  Settings: createDRAW's defaults (those of weights/draw-mnist.bin): T=${S.T}, read ${S.readN}×${S.readN}, write ${S.writeN}×${S.writeN}, LSTM ${S.hidden}, z ${S.latent}, 28×28.`,
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each (at least one call); spread = (max − min) / median.`,
    `  Seconds are process CPU time (shared machine); wall-clock was ${wallOverCpu.length ? `${median(wallOverCpu).toFixed(2)}×` : 'not recorded vs'} CPU time (median).`,
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${info[e.id] ? ` [${info[e.id]}]` : ''}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
    `Targets met: ${targeted.filter((c) => c.met === true).length} of ${targeted.length}${targeted.some((c) => c.met == null) ? ' (not all measurable)' : ''}.`,
  ];
  return { title, notes, rows, checks, tables };
}
