// layers.js: benchmark section "layers": the shared layers' GEMM (src/gemm.c) and one training step
// of the STN tutorial network's layers (src/layers.c; no grid generator/sampler, those are timed by
// stn-sampler and, in the whole model, by stn-train) on wasm-SIMD, wasm-scalar, native and
// native-scalar.
//
// The wasm builds are timed in-process through the test-only entry points of
// tests/wasm/test_exports.c, which only the test builds build/test/glimpse-test-{simd,scalar}.wasm
// export (./build.sh makes them; dist/*.wasm ship without them): gl_bench_gemm(transA, transB, M,
// N, K, 1) and gl_bench_stn_layers(64, 1, stage) (stage 0 = the whole step: forward, cross-entropy,
// backward, SGD step and gradient zeroing; stages 1-11 = one piece). native runs
// build/<dir>/bench_layers --json (same entry points, same timing protocol).
// Run alone: node tests/bench/layers.js [--quick]; or npm run bench -- --only layers.
import { fileURLToPath } from 'node:url';
import { Engines, PROFILES, measure, summarizeJson, timingArgs, fmt, printTable, wasmEngines, nativeEngines } from './common.js';

export const name = 'layers';
export const title = 'Shared layers: GEMM GFLOP/s and the STN tutorial network layers (batch 64, 28×28, no sampler)';

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

const ENGINES = [...wasmEngines('gl_bench_gemm and gl_bench_stn_layers', { test: true }), ...nativeEngines('bench_layers')];

/** { gemm: [summary per GEMMS entry], stages: [summary per stage 0..STAGES], names: [stage names] } */
function timeWasm(g, profile) {
  const core = g._core, x = core.x;
  const gemm = GEMMS.map(([ta, tb, M, N, K]) => {
    core.check(x.gl_bench_gemm(ta, tb, M, N, K, 1), 'gl_bench_gemm');
    return measure(() => x.gl_bench_gemm(ta, tb, M, N, K, 1), profile);
  });
  const stages = [];
  for (let s = 0; s <= STAGES; s++) {
    core.check(x.gl_bench_stn_layers(BATCH, 1, s), 'gl_bench_stn_layers');
    stages.push(measure(() => x.gl_bench_stn_layers(BATCH, 1, s), profile));
  }
  const names = Array.from({ length: STAGES + 1 }, (_, s) => core.cstring(x.gl_bench_stn_stage_name(s)));
  return { gemm, stages, names };
}

const readNative = (json) => ({ gemm: json.gemm.map(summarizeJson), stages: json.stages.map(summarizeJson), names: json.stages.map((m) => m.what) });

export async function run({ profile }) {
  const eng = new Engines(name);
  const res = eng.res;
  await eng.wasm((g) => timeWasm(g, profile), { test: true, needs: 'gl_bench_gemm' });
  eng.native('bench_layers', ['--json', '--batch', String(BATCH), ...timingArgs(profile)], { read: readNative });
  const names = Object.values(res)[0]?.names;
  const have = ENGINES.filter((e) => res[e.id]);
  const perEngine = (cell) => Object.fromEntries(have.map((e) => [e.id, cell(res[e.id])]));
  const gflops = ([, , M, N, K], m) => (2 * M * N * K) / m.sec / 1e9;
  const rows = [];
  GEMMS.forEach(([ta, tb, M, N, K, what], i) => {
    for (const e of have) {
      const m = res[e.id].gemm[i];
      rows.push({ kind: 'gemm', what, transA: ta, transB: tb, M, N, K, engine: e.id, gflops: gflops(GEMMS[i], m), sec: m.sec });
    }
  });
  for (let s = 0; s <= STAGES; s++) {
    for (const e of have) {
      const sec = res[e.id].stages[s].sec;
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
        ...perEngine((r) => fmt(gflops(GEMMS[i], r.gemm[i]), 2)),
      })),
    },
    {
      title: `STN tutorial network layers, batch ${BATCH}: ms per training step (no sampler)`,
      columns: [{ key: 'what', label: 'stage', align: 'left' }, ...have.map((e) => ({ key: e.id, label: e.id }))],
      rows: [
        ...Array.from({ length: STAGES }, (_, k) => k + 1).map((s) => ({
          what: names?.[s] ?? String(s), ...perEngine((r) => fmt(r.stages[s].sec * 1e3, 3)),
        })),
        { what: 'whole step (ms)', ...perEngine((r) => fmt(r.stages[0].sec * 1e3, 3)) },
        { what: 'images/s', ...perEngine((r) => fmt(BATCH / r.stages[0].sec, 0)) },
        { what: 'GFLOP/s effective', ...perEngine((r) => fmt((FLOPS_PER_IMAGE * BATCH) / r.stages[0].sec / 1e9, 2)) },
      ],
    },
  ];
  const notes = [
    `One step = forward, cross-entropy, backward (classifier conv1 with its input gradient, as the sampler needs), SGD-momentum`,
    `  update (lr 0, same work) and gradient zeroing; ${(FLOPS_PER_IMAGE / 1e6).toFixed(2)} MFLOP per image in the convs and FCs.`,
    ...eng.notes(profile, ENGINES, null, { spread: false }),
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
