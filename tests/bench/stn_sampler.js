// stn_sampler.js: benchmark section "stn-sampler": throughput of the bilinear grid sampler
// (src/stn.c gl_grid_sample / gl_grid_sample_backward) on wasm-SIMD, wasm-scalar, native and
// PyTorch, with the ratios and targets of the STN-sampler performance issue.
//
// The wasm builds are timed in-process by calling the exported C functions directly on buffers
// allocated once in wasm memory (no JS copy-in/out, no validation); native and PyTorch run as
// helper programs (tests/native/bench_stn.c, tests/bench/torch_stn.py) that use the same timing
// protocol (common.js measure()) and print JSON.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { rng, uniform } from '../util.js';
import { measure, median, summarize, check, runJson, progress, fmt, fmtCheck } from './common.js';

export const name = 'stn-sampler';
export const title = 'STN sampler: bilinear grid_sample, zeros padding, alignCorners false';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3'; // override only to test the fallback

/** [N, C, H, W, Ho, Wo] */
export const SHAPES = [
  [64, 1, 28, 28, 28, 28],
  [64, 1, 60, 60, 28, 28],
  [16, 32, 28, 28, 28, 28],
];
const PASSES = ['fwd', 'fwdbwd'];
const PASS_LABEL = { fwd: 'fwd', fwdbwd: 'fwd+bwd' };

// Engines in table order. `what` says what exactly is timed.
const ENGINES = [
  { id: 'wasm-simd', what: 'gl_grid_sample[_backward] of dist/glimpse-simd.wasm, called directly from Node' },
  { id: 'wasm-scalar', what: 'the same, dist/glimpse-scalar.wasm' },
  { id: 'native', what: 'build/native/bench_stn (same C, SSE4.1 branch of simd.h, -O3 -march=native)' },
  { id: 'native-scalar', what: 'build/native-scalar/bench_stn (same C, scalar branch)' },
  { id: 'torch', what: 'PyTorch ATen kernels aten.grid_sampler_2d[_backward], 1 thread' },
  { id: 'torch-autograd', what: 'PyTorch F.grid_sample + torch.autograd.grad, 1 thread' },
];

// The issue's targets. pass: which passes the target applies to (others are shown, unmarked).
const RATIOS = [
  { id: 'simd/torch', label: 'SIMD/torch', num: 'wasm-simd', den: 'torch', op: '>=', target: 3, passes: ['fwdbwd'] },
  { id: 'simd/torch-autograd', label: 'SIMD/torch-autograd', num: 'wasm-simd', den: 'torch-autograd' },
  { id: 'simd/scalar', label: 'SIMD/scalar', num: 'wasm-simd', den: 'wasm-scalar', op: '>=', target: 2.5, passes: PASSES },
  { id: 'native/simd', label: 'native/SIMD', num: 'native', den: 'wasm-simd', op: '<=', target: 1.5, passes: PASSES },
];

const shapeKey = (s) => s.join(',');
const pixels = ([N, C, , , Ho, Wo]) => N * C * Ho * Wo;
const shapeLabel = ([N, C, H, W, Ho, Wo]) => `N=${N} C=${C} ${H}×${W}→${Ho}×${Wo}`;

/** Time both passes of one wasm build on one shape; buffers live in wasm memory for the whole run. */
function timeWasm(g, shape, profile, seed) {
  const core = g._core;
  const x = core.x;
  const [N, C, H, W, Ho, Wo] = shape;
  const nIn = N * C * H * W, nOut = N * C * Ho * Wo, nGrid = N * Ho * Wo * 2;
  const ptrs = [];
  const alloc = (n) => {
    const p = core.malloc(n * 4);
    ptrs.push(p);
    return p;
  };
  try {
    const pin = alloc(nIn), pdin = alloc(nIn), pout = alloc(nOut), pdout = alloc(nOut);
    const pgrid = alloc(nGrid), pdgrid = alloc(nGrid), ptheta = alloc(N * 6);
    const rand = rng(seed);
    const theta = uniform(rand, N * 6, -0.1, 0.1);
    for (let n = 0; n < N; n++) { theta[6 * n] += 1; theta[6 * n + 4] += 1; }
    const f32 = core.f32; // after all mallocs: growth would detach it
    f32.set(theta, ptheta >> 2);
    f32.set(uniform(rand, nIn, 0, 1), pin >> 2);
    f32.set(uniform(rand, nOut, -1, 1), pdout >> 2);
    f32.fill(0, pdin >> 2, (pdin >> 2) + nIn);
    f32.fill(0, pdgrid >> 2, (pdgrid >> 2) + nGrid);
    core.check(x.gl_affine_grid(pgrid, ptheta, N, Ho, Wo, 0), 'gl_affine_grid');
    const fwd = () => x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0);
    const fwdbwd = () => {
      x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0);
      x.gl_grid_sample_backward(pdin, pdgrid, pdout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0);
    };
    core.check(fwd(), 'gl_grid_sample');
    core.check(x.gl_grid_sample_backward(pdin, pdgrid, pdout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0), 'gl_grid_sample_backward');
    return { fwd: measure(fwd, profile), fwdbwd: measure(fwdbwd, profile) };
  } finally {
    for (const p of ptrs) core.free(p);
  }
}

function helperArgs(profile) {
  return [
    '--runs', String(profile.runs), '--min-time', String(profile.minTime), '--warmup', String(profile.warmup),
    ...SHAPES.flatMap((s) => ['--shape', s.join(',')]),
  ];
}

/** Results of a helper program as { engine: { shapeKey: { pass: summary } } }. */
function collect(json, fallbackEngine, into) {
  for (const r of json.results) {
    const e = r.engine ?? fallbackEngine;
    ((into[e] ??= {})[shapeKey(r.shape)] ??= {})[r.pass] = summarize(r.runs, r.iters, r.wallRuns ?? null);
  }
}

function torchAvailable() {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} -c 'import torch' failed`;
  return null;
}

/**
 * Run the section.
 * @param {{ profile: { warmup: number, minTime: number, runs: number } }} opts
 * @returns {Promise<{ title, notes, rows, checks, tables }>}
 */
export async function run({ profile }) {
  const res = {}; // engine -> shapeKey -> pass -> summary
  const missing = {}; // engine -> reason
  const info = {};

  for (const [id, simd] of [['wasm-simd', true], ['wasm-scalar', false]]) {
    let g;
    try {
      g = await load({ simd });
    } catch (e) {
      missing[id] = `not available (${e.message})`;
      continue;
    }
    info[id] = g.build;
    for (const s of SHAPES) {
      progress(`${name}: ${id} ${shapeLabel(s)}`);
      ((res[id] ??= {})[shapeKey(s)] = timeWasm(g, s, profile, 1));
    }
  }

  for (const [id, dir] of [['native', 'native'], ['native-scalar', 'native-scalar']]) {
    const prog = `${ROOT}build/${dir}/bench_stn`;
    if (!existsSync(prog)) {
      missing[id] = `not built (run ./build.sh to get build/${dir}/bench_stn)`;
      continue;
    }
    progress(`${name}: ${id} (${prog})`);
    const r = runJson(prog, helperArgs(profile));
    if (!r.ok) { missing[id] = r.reason; continue; }
    info[id] = r.json.simd;
    collect(r.json, id, res);
  }

  const noTorch = torchAvailable();
  if (noTorch) {
    missing.torch = missing['torch-autograd'] = `not available (${noTorch})`;
  } else {
    progress(`${name}: torch (${PYTHON} tests/bench/torch_stn.py)`);
    const r = runJson(PYTHON, [`${ROOT}tests/bench/torch_stn.py`, ...helperArgs(profile)]);
    if (!r.ok) {
      missing.torch = missing['torch-autograd'] = `failed: ${r.reason}`;
    } else {
      info.torch = info['torch-autograd'] = `torch ${r.json.version}, ${r.json.threads} thread(s)`;
      collect(r.json, 'torch', res);
    }
  }

  // Machine-readable rows and checks.
  const mpx = (e, s, p) => {
    const m = res[e]?.[shapeKey(s)]?.[p];
    return m ? pixels(s) / m.sec / 1e6 : null;
  };
  const rows = [];
  const checks = [];
  for (const s of SHAPES) {
    for (const e of ENGINES) {
      for (const p of PASSES) {
        const m = res[e.id]?.[shapeKey(s)]?.[p];
        rows.push({
          shape: s, engine: e.id, pass: p,
          mpxPerSec: m ? pixels(s) / m.sec / 1e6 : null,
          msPerCall: m ? m.sec * 1e3 : null,
          wallMsPerCall: m?.wallSec != null ? m.wallSec * 1e3 : null,
          spread: m ? (m.max - m.min) / m.sec : null,
          iters: m?.iters ?? null, runsSec: m?.runs ?? null, wallRunsSec: m?.wallRuns ?? null,
          ...(m ? {} : { missing: missing[e.id] ?? 'not measured' }),
        });
      }
    }
    for (const r of RATIOS) {
      for (const p of PASSES) {
        const a = mpx(r.num, s, p), b = mpx(r.den, s, p);
        const value = a != null && b != null ? a / b : null;
        const targeted = r.target != null && r.passes.includes(p);
        checks.push({ shape: s, ratio: r.id, pass: p, ...(targeted ? check(value, r.op, r.target) : { value, target: null, met: null }) });
      }
    }
  }

  // Printable tables: per shape, engines then ratios.
  const tables = [];
  for (const s of SHAPES) {
    const engineRows = ENGINES.map((e) => {
      const row = { engine: e.id };
      if (!res[e.id]) {
        // Short status in the table ('not available', 'not built', 'failed'); the reason is in the notes.
        row.fwd = (missing[e.id] ?? 'not measured').split(' (')[0].split(':')[0];
        return row;
      }
      for (const p of PASSES) {
        const m = res[e.id][shapeKey(s)]?.[p];
        row[p] = m ? fmt(pixels(s) / m.sec / 1e6) : '-';
        row[`${p}Ms`] = m ? fmt(m.sec * 1e3, 3) : '-';
        row[`${p}Spread`] = m ? `${fmt((100 * (m.max - m.min)) / m.sec, 0)}%` : '-';
      }
      return row;
    });
    tables.push({
      title: `${shapeLabel(s)}  (${pixels(s).toLocaleString('en-US')} output px×ch per call)`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        { key: 'fwd', label: 'fwd Mpx/s' },
        { key: 'fwdMs', label: 'ms/call' },
        { key: 'fwdSpread', label: 'spread' },
        { key: 'fwdbwd', label: 'fwd+bwd Mpx/s' },
        { key: 'fwdbwdMs', label: 'ms/call' },
        { key: 'fwdbwdSpread', label: 'spread' },
      ],
      rows: engineRows,
      notes: ENGINES.filter((e) => missing[e.id] && !(e.id === 'torch-autograd' && missing.torch)).map((e) => `${e.id}: ${missing[e.id]}`),
    });
    const ratioRows = RATIOS.map((r) => {
      const row = { ratio: r.label, target: r.target != null ? `${r.op === '>=' ? '≥' : '≤'} ${r.target}× (${r.passes.map((p) => PASS_LABEL[p]).join(', ')})` : '(info)' };
      for (const p of PASSES) row[p] = fmtCheck(checks.find((c) => c.shape === s && c.ratio === r.id && c.pass === p));
      return row;
    });
    tables.push({
      columns: [
        { key: 'ratio', label: 'ratio', align: 'left' },
        { key: 'fwd', label: 'fwd' },
        { key: 'fwdbwd', label: 'fwd+bwd' },
        { key: 'target', label: 'target', align: 'left' },
      ],
      rows: ratioRows,
    });
  }

  const wallOverCpu = rows.filter((r) => r.wallMsPerCall != null).map((r) => r.wallMsPerCall / r.msPerCall);
  const contention = wallOverCpu.length ? `${median(wallOverCpu).toFixed(2)}×` : 'not recorded vs';
  const targeted = checks.filter((c) => c.target != null);
  const met = targeted.filter((c) => c.met === true).length;
  const notes = [
    'Mpx/s = N·C·Ho·Wo output values (pixels × channels) per call / seconds per call / 10^6; a fwd+bwd call',
    '  (forward, then backward giving dInput and dGrid) counts its N·C·Ho·Wo once.',
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each; spread = (max − min) / median.`,
    `  Seconds are process CPU time (shared machine: time spent descheduled is not the kernel's); wall-clock was ${contention} CPU time (median).`,
    'Data: input U(0,1), theta = identity + U(−0.1, 0.1) per entry, grid from affineGrid; backward accumulates (buffers zeroed once).',
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${info[e.id] ? ` [${info[e.id]}]` : ''}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
    `Targets met: ${met} of ${targeted.length}${targeted.some((c) => c.met == null) ? ` (${targeted.filter((c) => c.met == null).length} not measurable)` : ''}.`,
  ];
  return { title, notes, rows, checks, tables };
}
