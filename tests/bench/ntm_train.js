// ntm_train.js: benchmark section "ntm-train": NTM copy-task training throughput (sequences/s) of
// the same model and batch on wasm-SIMD, wasm-scalar, native and PyTorch (one thread), with the
// NTM issue's target (wasm-SIMD ≥ 3× PyTorch).
//
// The model: 8-bit copy task, memory 128×20, LSTM controller of 100, one read and one write head,
// shifts −1..1 (src/ntm_model.c; tests/bench/torch_ntm.py is the same model in PyTorch). One timed
// call = one training step (forward over 2L+1 steps, BPTT, gradient clipping, Adam) for each
// length L = 1..20 with a batch of 16 random sequences: 320 sequences, the lengths of the issue's
// training distribution in equal proportion, identical for every engine. The wasm builds are
// timed in-process by calling gl_ntm_train_copy directly (no JS validation or copies); native and
// PyTorch run as helper programs (tests/native/bench_ntm.c, tests/bench/torch_ntm.py) that use the
// same timing protocol (common.js measure()) and print JSON.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { measure, median, summarize, check, runJson, progress, fmt, fmtCheck } from './common.js';

export const name = 'ntm-train';
export const title = 'NTM copy task: training throughput (memory 128×20, LSTM 100, 1+1 heads, batch 16, lengths 1–20)';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
const BATCH = 16, MIN_LENGTH = 1, MAX_LENGTH = 20;
const SEQ_PER_CALL = BATCH * (MAX_LENGTH - MIN_LENGTH + 1);

const ENGINES = [
  { id: 'wasm-simd', what: 'gl_ntm_train_copy of dist/glimpse-simd.wasm, called directly from Node' },
  { id: 'wasm-scalar', what: 'the same, dist/glimpse-scalar.wasm' },
  { id: 'native', what: 'build/native/bench_ntm (same C, SSE4.1 branch of simd.h, -O3 -march=native)' },
  { id: 'native-scalar', what: 'build/native-scalar/bench_ntm (same C, scalar branch)' },
  { id: 'torch', what: 'tests/bench/torch_ntm.py: the same model in PyTorch (LSTMCell, autograd BPTT, Adam), 1 thread' },
];
const RATIOS = [
  { id: 'simd/torch', label: 'SIMD/torch', num: 'wasm-simd', den: 'torch', op: '>=', target: 3 },
  { id: 'native/torch', label: 'native/torch', num: 'native', den: 'torch' },
  { id: 'simd/scalar', label: 'SIMD/scalar', num: 'wasm-simd', den: 'wasm-scalar' },
  { id: 'native/simd', label: 'native/SIMD', num: 'native', den: 'wasm-simd' },
];

function timeWasm(g, profile) {
  const core = g._core;
  const x = core.x;
  const pout = core.malloc(8), pcfg = core.malloc(16 * 4), pres = core.malloc(16);
  let model = 0;
  try {
    core.i32.fill(0, pcfg >> 2, (pcfg >> 2) + 16);
    core.i32.set([8, 128, 20, 100, 0, 1, 1, 1, 1], pcfg >> 2); // the C defaults, seed 1
    core.check(x.gl_model_create(pout, 3, pcfg, 9), 'gl_model_create');
    model = core.i32[pout >> 2];
    const unit = () => {
      for (let L = MIN_LENGTH; L <= MAX_LENGTH; L++) {
        const rc = x.gl_ntm_train_copy(model, pres, BATCH, L, L);
        if (rc) core.check(rc, 'gl_ntm_train_copy');
      }
    };
    return measure(unit, profile);
  } finally {
    if (model) x.gl_model_free(model);
    core.free(pout);
    core.free(pcfg);
    core.free(pres);
  }
}

function helperArgs(profile) {
  return ['--runs', String(profile.runs), '--min-time', String(profile.minTime), '--warmup', String(profile.warmup),
    '--batch', String(BATCH), '--min-length', String(MIN_LENGTH), '--max-length', String(MAX_LENGTH)];
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

  for (const [id, simd] of [['wasm-simd', true], ['wasm-scalar', false]]) {
    let g;
    try {
      g = await load({ simd });
    } catch (e) {
      missing[id] = `not available (${e.message})`;
      continue;
    }
    if (typeof g._core.x.gl_ntm_train_copy !== 'function') {
      missing[id] = 'not built (dist wasm predates src/ntm_model.c; run ./build.sh)';
      continue;
    }
    progress(`${name}: ${id}`);
    info[id] = g.build;
    res[id] = timeWasm(g, profile);
  }

  for (const [id, dir] of [['native', 'native'], ['native-scalar', 'native-scalar']]) {
    const prog = `${ROOT}build/${dir}/bench_ntm`;
    if (!existsSync(prog)) {
      missing[id] = `not built (run ./build.sh to get build/${dir}/bench_ntm)`;
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
    progress(`${name}: torch (${PYTHON} tests/bench/torch_ntm.py; slow: several seconds per call)`);
    const r = runJson(PYTHON, [`${ROOT}tests/bench/torch_ntm.py`, ...helperArgs(profile)], { timeoutSec: 1800 });
    if (!r.ok) {
      missing.torch = `failed: ${r.reason}`;
    } else {
      info.torch = `torch ${r.json.version}, ${r.json.threads} thread(s), ${r.json.parameters} parameters`;
      const m = r.json.results[0];
      res.torch = summarize(m.runs, m.iters, m.wallRuns ?? null);
    }
  }

  const seqPerSec = (e) => (res[e] ? SEQ_PER_CALL / res[e].sec : null);
  const rows = ENGINES.map((e) => {
    const m = res[e.id];
    return {
      engine: e.id,
      sequencesPerSec: seqPerSec(e.id),
      secPerCall: m?.sec ?? null,
      wallSecPerCall: m?.wallSec ?? null,
      spread: m ? (m.max - m.min) / m.sec : null,
      iters: m?.iters ?? null, runsSec: m?.runs ?? null, wallRunsSec: m?.wallRuns ?? null,
      ...(m ? {} : { missing: missing[e.id] ?? 'not measured' }),
    };
  });
  const checks = RATIOS.map((r) => {
    const a = seqPerSec(r.num), b = seqPerSec(r.den);
    const value = a != null && b != null ? a / b : null;
    return { ratio: r.id, ...(r.target != null ? check(value, r.op, r.target) : { value, target: null, met: null }) };
  });

  const tables = [
    {
      title: `${SEQ_PER_CALL} sequences per call (batch ${BATCH} × lengths ${MIN_LENGTH}–${MAX_LENGTH}, one training step each)`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        { key: 'sps', label: 'sequences/s' },
        { key: 'ms', label: 's/call' },
        { key: 'spread', label: 'spread' },
      ],
      rows: ENGINES.map((e) => {
        const m = res[e.id];
        if (!m) return { engine: e.id, sps: (missing[e.id] ?? 'not measured').split(' (')[0].split(':')[0] };
        return { engine: e.id, sps: fmt(SEQ_PER_CALL / m.sec), ms: fmt(m.sec, 3), spread: `${fmt((100 * (m.max - m.min)) / m.sec, 0)}%` };
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
    'sequences/s = sequences per call / CPU seconds per call. The model: src/ntm_model.c defaults (8 bits + delimiter,',
    '  memory 128×20 initialised to 1e-6, LSTM 100, 1 read + 1 write head, shifts −1..1, BPTT over 2L+1 steps, clip 10, Adam).',
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each (at least one call); spread = (max − min) / median.`,
    `  Seconds are process CPU time (shared machine); wall-clock was ${wallOverCpu.length ? `${median(wallOverCpu).toFixed(2)}×` : 'not recorded vs'} CPU time (median).`,
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${info[e.id] ? ` [${info[e.id]}]` : ''}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
    `Targets met: ${targeted.filter((c) => c.met === true).length} of ${targeted.length}${targeted.some((c) => c.met == null) ? ' (not all measurable)' : ''}.`,
  ];
  return { title, notes, rows, checks, tables };
}
