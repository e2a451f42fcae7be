// stn_train.js: benchmark section "stn-train": STN training throughput (images/s, batch 64, 28×28,
// the PyTorch STN tutorial's network) on wasm-SIMD, wasm-scalar, native and PyTorch 1.13 (one
// thread), with the STN issue's target (wasm-SIMD ≥ 2× PyTorch), for the ST-CNN and the plain CNN.
//
// One timed call = one training step on a batch of 64: forward (localisation net, affine grid,
// bilinear sampler, classifier with dropout), log-softmax cross-entropy, backward, gradient
// clipping to norm 10, SGD (lr 0.01, momentum 0.9). The wasm builds are timed in-process by calling
// gl_stn_train_batch directly on batches already in wasm memory (no JS validation or copies);
// "wasm-simd (JS API)" times model.trainBatch(images, labels) as a caller pays it (validation and
// copies included). native and PyTorch run as helper programs (tests/native/bench_stn_train.c,
// tests/bench/torch_stn_train.py) with the same timing protocol (common.js measure()) and print JSON.
// Inputs: 8 batches of U(0,1) pixels with random labels, cycled (the data does not change the work).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { rng, uniform } from '../util.js';
import { measure, median, summarize, check, runJson, progress, fmt, fmtCheck } from './common.js';

export const name = 'stn-train';
export const title = 'STN training throughput (PyTorch STN tutorial network, 28×28, batch 64, SGD momentum)';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
const B = 64, S = 28, NB = 8;

const NETS = [
  { id: 'st', label: 'ST-CNN (affine)', transform: 'affine', torch: 'affine' },
  { id: 'cnn', label: 'CNN (no transformer)', transform: 'none', torch: 'none' },
];
const ENGINES = [
  { id: 'wasm-simd', what: 'gl_stn_train_batch of dist/glimpse-simd.wasm, called directly from Node on batches in wasm memory' },
  { id: 'wasm-simd-api', what: 'model.trainBatch(images, labels) on the SIMD build: JS validation and copies included' },
  { id: 'wasm-scalar', what: 'gl_stn_train_batch of dist/glimpse-scalar.wasm' },
  { id: 'native', what: 'build/native/bench_stn_train (same C, SSE4.1 branch of simd.h, -O3 -march=native)' },
  { id: 'native-scalar', what: 'build/native-scalar/bench_stn_train (same C, scalar branch)' },
  { id: 'torch', what: 'tests/bench/torch_stn_train.py: the tutorial network in PyTorch (autograd, SGD momentum, clip_grad_norm_), 1 thread' },
];
const RATIOS = [
  { id: 'simd/torch', label: 'SIMD/torch', num: 'wasm-simd', den: 'torch', op: '>=', target: 2, nets: ['st'] },
  { id: 'simd-api/torch', label: 'SIMD (JS API)/torch', num: 'wasm-simd-api', den: 'torch' },
  { id: 'simd/scalar', label: 'SIMD/scalar', num: 'wasm-simd', den: 'wasm-scalar' },
  { id: 'native/simd', label: 'native/SIMD', num: 'native', den: 'wasm-simd' },
];

/** Time one net on one wasm build: { direct, api } summaries (api only when withApi). */
function timeWasm(g, net, profile, withApi) {
  const core = g._core, x = core.x;
  const model = g.createSTN({ height: S, width: S, classes: 10, seed: 1, transform: net.transform });
  const rand = rng(7);
  const batches = Array.from({ length: NB }, () => ({
    images: uniform(rand, B * S * S, 0, 1),
    labels: Int32Array.from({ length: B }, () => Math.floor(rand() * 10)),
  }));
  const ptrs = [];
  try {
    const pimg = core.malloc(NB * B * S * S * 4), plab = core.malloc(NB * B * 4), pout = core.malloc(16);
    ptrs.push(pimg, plab, pout);
    batches.forEach((b, i) => {
      core.f32.set(b.images, (pimg >> 2) + i * B * S * S);
      core.i32.set(b.labels, (plab >> 2) + i * B);
    });
    let i = 0;
    const mp = model.ptr;
    const direct = () => {
      const rc = x.gl_stn_train_batch(mp, pout, pimg + i * B * S * S * 4, plab + i * B * 4, B);
      if (rc) core.check(rc, 'gl_stn_train_batch');
      i = (i + 1) % NB;
    };
    const out = { direct: measure(direct, profile) };
    if (withApi) {
      let j = 0;
      out.api = measure(() => {
        model.trainBatch(batches[j].images, batches[j].labels);
        j = (j + 1) % NB;
      }, profile);
    }
    return out;
  } finally {
    for (const p of ptrs) core.free(p);
    model.free();
  }
}

function torchAvailable() {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} -c 'import torch' failed`;
  return null;
}

const timingArgs = (profile) => ['--runs', String(profile.runs), '--min-time', String(profile.minTime), '--warmup', String(profile.warmup)];

export async function run({ profile }) {
  const res = {}; // engine -> net -> summary (seconds per call)
  const missing = {};
  const info = {};

  for (const [id, simd] of [['wasm-simd', true], ['wasm-scalar', false]]) {
    let g;
    try {
      g = await load({ simd });
    } catch (e) {
      missing[id] = `not available (${e.message})`;
      continue;
    }
    if (typeof g._core.x.gl_stn_train_batch !== 'function') {
      missing[id] = 'not built (dist wasm predates src/stn_model.c; run ./build.sh)';
      if (simd) missing['wasm-simd-api'] = missing[id];
      continue;
    }
    info[id] = g.build;
    for (const net of NETS) {
      progress(`${name}: ${id} ${net.label}`);
      const r = timeWasm(g, net, profile, simd);
      (res[id] ??= {})[net.id] = r.direct;
      if (r.api) (res['wasm-simd-api'] ??= {})[net.id] = r.api;
    }
  }

  for (const [id, dir] of [['native', 'native'], ['native-scalar', 'native-scalar']]) {
    const prog = `${ROOT}build/${dir}/bench_stn_train`;
    if (!existsSync(prog)) {
      missing[id] = `not built (run ./build.sh to get build/${dir}/bench_stn_train)`;
      continue;
    }
    progress(`${name}: ${id} (${prog})`);
    const r = runJson(prog, [...timingArgs(profile), '--batch', String(B), '--size', String(S)], { timeoutSec: 600 });
    if (!r.ok) { missing[id] = r.reason; continue; }
    info[id] = r.json.simd;
    for (const m of r.json.results) (res[id] ??= {})[m.net] = summarize(m.runs, m.iters, m.wallRuns ?? null);
  }

  const noTorch = torchAvailable();
  if (noTorch) {
    missing.torch = `not available (${noTorch})`;
  } else {
    for (const net of NETS) {
      progress(`${name}: torch ${net.label} (${PYTHON} tests/bench/torch_stn_train.py)`);
      const r = runJson(PYTHON, [`${ROOT}tests/bench/torch_stn_train.py`, ...timingArgs(profile), '--batch', String(B), '--size', String(S),
        '--transform', net.torch], { timeoutSec: 600 });
      if (!r.ok) { missing.torch = `failed: ${r.reason}`; break; }
      info.torch = `torch ${r.json.version}, ${r.json.threads} thread(s)`;
      (res.torch ??= {})[net.id] = summarize(r.json.runs, r.json.iters, r.json.wallRuns ?? null);
    }
  }

  const ips = (e, n) => (res[e]?.[n] ? B / res[e][n].sec : null);
  const rows = [];
  for (const net of NETS) {
    for (const e of ENGINES) {
      const m = res[e.id]?.[net.id];
      rows.push({
        net: net.id, engine: e.id, imagesPerSec: ips(e.id, net.id), msPerStep: m ? m.sec * 1e3 : null,
        wallMsPerStep: m?.wallSec != null ? m.wallSec * 1e3 : null, spread: m ? (m.max - m.min) / m.sec : null,
        iters: m?.iters ?? null, runsSec: m?.runs ?? null, wallRunsSec: m?.wallRuns ?? null,
        ...(m ? {} : { missing: missing[e.id] ?? 'not measured' }),
      });
    }
  }
  const checks = [];
  for (const net of NETS) {
    for (const r of RATIOS) {
      const a = ips(r.num, net.id), b = ips(r.den, net.id);
      const value = a != null && b != null ? a / b : null;
      const targeted = r.target != null && r.nets.includes(net.id);
      checks.push({ net: net.id, ratio: r.id, ...(targeted ? check(value, r.op, r.target) : { value, target: null, met: null }) });
    }
  }

  const tables = [
    {
      title: `images/s (batch ${B}, ${S}×${S}; one call = one training step)`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        ...NETS.flatMap((n) => [
          { key: `${n.id}`, label: `${n.label} img/s` },
          { key: `${n.id}Ms`, label: 'ms/step' },
          { key: `${n.id}Spread`, label: 'spread' },
        ]),
      ],
      rows: ENGINES.map((e) => {
        const row = { engine: e.id };
        if (!res[e.id]) {
          row[NETS[0].id] = (missing[e.id] ?? 'not measured').split(' (')[0].split(':')[0];
          return row;
        }
        for (const n of NETS) {
          const m = res[e.id][n.id];
          row[n.id] = m ? fmt(B / m.sec, 0) : '-';
          row[`${n.id}Ms`] = m ? fmt(m.sec * 1e3, 2) : '-';
          row[`${n.id}Spread`] = m ? `${fmt((100 * (m.max - m.min)) / m.sec, 0)}%` : '-';
        }
        return row;
      }),
    },
    {
      columns: [
        { key: 'ratio', label: 'ratio', align: 'left' },
        ...NETS.map((n) => ({ key: n.id, label: n.label })),
        { key: 'target', label: 'target', align: 'left' },
      ],
      rows: RATIOS.map((r) => {
        const row = { ratio: r.label, target: r.target != null ? `≥ ${r.target}× (${r.nets.map((id) => NETS.find((n) => n.id === id).label).join(', ')})` : '(info)' };
        for (const n of NETS) row[n.id] = fmtCheck(checks.find((c) => c.net === n.id && c.ratio === r.id));
        return row;
      }),
    },
  ];

  const wallOverCpu = rows.filter((r) => r.wallMsPerStep != null).map((r) => r.wallMsPerStep / r.msPerStep);
  const targeted = checks.filter((c) => c.target != null);
  const notes = [
    'images/s = 64 / CPU seconds per training step. Network: src/stn_model.c defaults = the PyTorch STN tutorial\'s (loc conv 8@7×7,',
    '  conv 10@5×5, FC 32, FC 6; classifier conv 10@5×5, conv 20@5×5 + Dropout2d, FC 50, dropout, FC 10), SGD lr 0.01 momentum 0.9, clip 10.',
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each; spread = (max − min) / median.`,
    `  Seconds are process CPU time (shared machine); wall-clock was ${wallOverCpu.length ? `${median(wallOverCpu).toFixed(2)}×` : 'not recorded vs'} CPU time (median).`,
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${info[e.id] ? ` [${info[e.id]}]` : ''}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
    `Targets met: ${targeted.filter((c) => c.met === true).length} of ${targeted.length}${targeted.some((c) => c.met == null) ? ' (not all measurable)' : ''}.`,
  ];
  return { title, notes, rows, checks, tables };
}
