// layers.js: benchmark section "layers": the shared layers' GEMM (src/gemm.c) and one training step
// of the STN tutorial network's layers (src/layers.c; no grid generator/sampler, those are timed by
// stn-sampler and, in the whole model, by stn-train) on wasm-SIMD, wasm-scalar, native and
// native-scalar.
//
// The wasm builds are timed in-process through the benchmark entry points of src/layers_bench.c:
// gl_bench_gemm(transA, transB, M, N, K, 1) and gl_bench_stn_layers(64, 1, stage) (stage 0 = the
// whole step: forward, cross-entropy, backward, SGD step and gradient zeroing; stages 1-11 = one
// piece). native runs build/<dir>/bench_layers --json (same entry points, same timing protocol).
// Run alone: node tests/bench/layers.js [--quick]; or through bench.js once listed in its SECTIONS.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { PROFILES, measure, runJson, progress, fmt, printTable } from './common.js';

export const name = 'layers';
export const title = 'Shared layers: GEMM GFLOP/s and the STN tutorial network layers (batch 64, 28×28, no sampler)';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BATCH = 64;

// The GEMMs one training step of the STN network issues (per item or per group of items), and a
// square reference. [transA, transB, M, N, K, what]
export const GEMMS = [
  [0, 0, 8, 484, 49, 'loc conv1 fwd'],
  [0, 1, 8, 49, 484, 'loc conv1 dW'],
  [0, 0, 10, 294, 200, 'loc conv2 fwd (6 items)'],
  [0, 1, 10, 200, 294, 'loc conv2 dW (6 items)'],
  [1, 0, 200, 294, 10, 'loc conv2 dcol (6 items)'],
  [0, 0, 10, 576, 25, 'cls conv1 fwd'],
  [0, 1, 10, 25, 576, 'cls conv1 dW'],
  [1, 0, 25, 576, 10, 'cls conv1 dcol'],
  [0, 0, 20, 256, 250, 'cls conv2 fwd (4 items)'],
  [0, 1, 20, 250, 256, 'cls conv2 dW (4 items)'],
  [1, 0, 250, 256, 20, 'cls conv2 dcol (4 items)'],
  [0, 1, 64, 50, 320, 'cls fc1 fwd'],
  [1, 0, 50, 320, 64, 'cls fc1 dW'],
  [0, 0, 256, 256, 256, 'square 256'],
];
const STAGES = 11;
// Multiply-adds of one step per image, ×2 FLOPs: each conv's forward and dW, and dX except for the
// localisation net's first conv (its input is the image); the four FC layers forward, dW, dX.
const CONVS = [[8, 49, 484, 2], [10, 200, 49, 3], [10, 25, 576, 3], [20, 250, 64, 3]];
const FCS = [[90, 32], [32, 6], [320, 50], [50, 10]];
export const FLOPS_PER_IMAGE = CONVS.reduce((s, [o, ckk, p, n]) => s + 2 * o * ckk * p * n, 0) +
  FCS.reduce((s, [i, o]) => s + 6 * i * o, 0);

const ENGINES = [
  { id: 'wasm-simd', what: 'dist/glimpse-simd.wasm, entry points called directly from Node' },
  { id: 'wasm-scalar', what: 'dist/glimpse-scalar.wasm' },
  { id: 'native', what: 'build/native/bench_layers (SSE4.1 branch of simd.h, -O3 -march=native)' },
  { id: 'native-scalar', what: 'build/native-scalar/bench_layers (scalar branch)' },
];

function stageName(core, s) {
  return core.cstring(core.x.gl_bench_stn_stage_name(s));
}

function timeWasm(g, profile) {
  const core = g._core, x = core.x;
  const gemm = GEMMS.map(([ta, tb, M, N, K]) => {
    core.check(x.gl_bench_gemm(ta, tb, M, N, K, 1), 'gl_bench_gemm');
    return measure(() => x.gl_bench_gemm(ta, tb, M, N, K, 1), profile).sec;
  });
  const stages = [];
  for (let s = 0; s <= STAGES; s++) {
    core.check(x.gl_bench_stn_layers(BATCH, 1, s), 'gl_bench_stn_layers');
    stages.push(measure(() => x.gl_bench_stn_layers(BATCH, 1, s), profile).sec);
  }
  const names = Array.from({ length: STAGES + 1 }, (_, s) => stageName(core, s));
  return { gemm, stages, names };
}

export async function run({ profile }) {
  const res = {}, missing = {};
  let names = null;
  for (const [id, simd] of [['wasm-simd', true], ['wasm-scalar', false]]) {
    let g;
    try {
      g = await load({ simd });
    } catch (e) {
      missing[id] = `not available (${e.message})`;
      continue;
    }
    progress(`${name}: ${id}`);
    res[id] = timeWasm(g, profile);
    names ??= res[id].names;
  }
  for (const [id, dir] of [['native', 'native'], ['native-scalar', 'native-scalar']]) {
    const prog = `${ROOT}build/${dir}/bench_layers`;
    if (!existsSync(prog)) {
      missing[id] = `not built (run ./build.sh to get build/${dir}/bench_layers)`;
      continue;
    }
    progress(`${name}: ${id} (${prog})`);
    const r = runJson(prog, ['--json', '--batch', String(BATCH), '--runs', String(profile.runs), '--min-time',
      String(profile.minTime), '--warmup', String(profile.warmup)]);
    if (!r.ok) { missing[id] = r.reason; continue; }
    res[id] = { gemm: r.json.gemm.map((m) => m.sec), stages: r.json.stages.map((m) => m.sec), names: r.json.stages.map((m) => m.what) };
    names ??= res[id].names;
  }
  const have = ENGINES.filter((e) => res[e.id]);
  const rows = [];
  GEMMS.forEach(([ta, tb, M, N, K, what], i) => {
    for (const e of have) {
      const sec = res[e.id].gemm[i];
      rows.push({ kind: 'gemm', what, transA: ta, transB: tb, M, N, K, engine: e.id, gflops: (2 * M * N * K) / sec / 1e9, sec });
    }
  });
  for (let s = 0; s <= STAGES; s++) {
    for (const e of have) {
      const sec = res[e.id].stages[s];
      rows.push({ kind: 'stn-layers', stage: s, what: names?.[s] ?? String(s), engine: e.id, msPerStep: sec * 1e3,
        ...(s === 0 ? { imagesPerSec: BATCH / sec, gflops: (FLOPS_PER_IMAGE * BATCH) / sec / 1e9 } : {}) });
    }
  }
  const tables = [
    {
      title: 'GEMM GFLOP/s (2·M·N·K per call; the shapes one STN training step issues)',
      columns: [{ key: 'what', label: 'gemm', align: 'left' }, { key: 'op', label: 'op' }, { key: 'mnk', label: 'M×N×K' },
        ...have.map((e) => ({ key: e.id, label: e.id }))],
      rows: GEMMS.map(([ta, tb, M, N, K, what], i) => ({
        what, op: `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`, mnk: `${M}×${N}×${K}`,
        ...Object.fromEntries(have.map((e) => [e.id, fmt((2 * M * N * K) / res[e.id].gemm[i] / 1e9, 2)])),
      })),
    },
    {
      title: `STN tutorial network layers, batch ${BATCH}: ms per training step (no sampler)`,
      columns: [{ key: 'what', label: 'stage', align: 'left' }, ...have.map((e) => ({ key: e.id, label: e.id }))],
      rows: [
        ...Array.from({ length: STAGES }, (_, k) => k + 1).map((s) => ({
          what: names?.[s] ?? String(s), ...Object.fromEntries(have.map((e) => [e.id, fmt(res[e.id].stages[s] * 1e3, 3)])),
        })),
        { what: 'whole step (ms)', ...Object.fromEntries(have.map((e) => [e.id, fmt(res[e.id].stages[0] * 1e3, 3)])) },
        { what: 'images/s', ...Object.fromEntries(have.map((e) => [e.id, fmt(BATCH / res[e.id].stages[0], 0)])) },
        { what: 'GFLOP/s effective', ...Object.fromEntries(have.map((e) => [e.id, fmt((FLOPS_PER_IMAGE * BATCH) / res[e.id].stages[0] / 1e9, 2)])) },
      ],
    },
  ];
  const notes = [
    `One step = forward, cross-entropy, backward (classifier conv1 with its input gradient, as the sampler needs), SGD-momentum`,
    `  update (lr 0, same work) and gradient zeroing; ${(FLOPS_PER_IMAGE / 1e6).toFixed(2)} MFLOP per image in the convs and FCs.`,
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each, process CPU time.`,
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
  ];
  return { title, notes, rows, checks: [], tables };
}

// Standalone: node tests/bench/layers.js [--quick]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const profile = process.argv.includes('--quick') ? PROFILES.quick : PROFILES.default;
  const r = await run({ profile });
  process.stdout.write(`== ${name}: ${r.title} ==\n\n`);
  for (const t of r.tables) printTable(t);
  for (const n of r.notes) process.stdout.write(`${n}\n`);
}
