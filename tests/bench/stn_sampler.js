// stn_sampler.js: benchmark section "stn-sampler": throughput of the bilinear grid sampler
// (src/stn.c gl_grid_sample / gl_grid_sample_backward) on wasm-SIMD, wasm-scalar, native and
// PyTorch, with the ratios and targets of the STN-sampler performance issue, and the same through
// the public JS API on one thread: on Tensors (g.tensor, no copies) and on Float32Arrays.
//
// The wasm builds are timed in-process by calling the exported C functions directly on buffers
// allocated once in wasm memory (no JS copy-in/out, no validation); native and PyTorch run as
// helper programs (tests/native/bench_stn.c, tests/bench/torch_stn.py) that use the same timing
// protocol (common.js measure()) and print JSON. The JS API engines and their direct-C reference
// run on one load({ simd: true, threads: 1 }) instance, timed interleaved (measureInterleaved).
import { rng, uniform } from '../util.js';
import { load } from '../../src/js/index.js';
import {
  Engines, ratio, measure, measureInterleaved, group, ratioCheck, ratioTable, timingArgs, timeColumns, timeCells, wasmEngines,
  nativeEngines, progress,
} from './common.js';

export const name = 'stn-sampler';
export const title = 'STN sampler: bilinear grid_sample, zeros padding, alignCorners false';

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
  ...wasmEngines('gl_grid_sample[_backward]'),
  { id: 'wasm-simd-1t', what: 'gl_grid_sample[_backward] of dist/glimpse-simd.wasm called directly on a load({ simd: true, threads: 1 }) instance: the reference of the two API engines below, timed interleaved with them' },
  { id: 'wasm-simd-tensors', what: 'g.stn.gridSample / gridSampleBackward on Tensors (g.tensor) with { out }, the same instance: validation, no copies; the backward clears its outputs (overwrites) where the direct calls accumulate' },
  { id: 'wasm-simd-arrays', what: 'g.stn.gridSample / gridSampleBackward on Float32Arrays, the same instance: copies in, fresh result arrays out' },
  ...nativeEngines('bench_stn'),
  { id: 'torch', what: 'PyTorch ATen kernels aten.grid_sampler_2d[_backward], 1 thread' },
  { id: 'torch-autograd', what: 'PyTorch F.grid_sample + torch.autograd.grad, 1 thread' },
];

// The issue's targets. pass: which passes the target applies to (others are shown, unmarked).
const RATIOS = [
  ratio('wasm-simd', 'torch', { op: '>=', target: 3, passes: ['fwdbwd'] }),
  ratio('wasm-simd', 'torch-autograd'),
  ratio('wasm-simd', 'wasm-scalar', { op: '>=', target: 2.5, passes: PASSES }),
  ratio('native', 'wasm-simd', { op: '<=', target: 1.5, passes: PASSES }),
  // Tensors: fwd+bwd at N=64 C=1 28² within 10 % of the direct C calls and >= 1.6x PyTorch (1 thread)
  ratio('wasm-simd-tensors', 'wasm-simd-1t', { op: '>=', target: 0.9, passes: ['fwdbwd'], shapes: [SHAPES[0]] }),
  ratio('wasm-simd-tensors', 'torch', { op: '>=', target: 1.6, passes: ['fwdbwd'], shapes: [SHAPES[0]] }),
  ratio('wasm-simd-arrays', 'wasm-simd-1t'),
];
const applies = (r, s, p) => r.target != null && r.passes.includes(p) && (!r.shapes || r.shapes.some((t) => t.join() === s.join()));

const shapeKey = (s) => s.join(',');
const pixels = ([N, C, , , Ho, Wo]) => N * C * Ho * Wo;
const mpxPerSec = (s, m) => (m ? pixels(s) / m.sec / 1e6 : null);
const shapeLabel = ([N, C, H, W, Ho, Wo]) => `N=${N} C=${C} ${H}×${W}→${Ho}×${Wo}`;

/** Time both passes of one wasm build on one shape; buffers live in wasm memory for the whole run. */
function timeWasm(g, shape, profile, seed) {
  const core = g._core;
  const x = core.x;
  const [N, C, H, W, Ho, Wo] = shape;
  const nIn = N * C * H * W, nOut = N * C * Ho * Wo, nGrid = N * Ho * Wo * 2;
  return core.scoped((sc) => { // every buffer zeroed, freed afterwards
    const pin = sc.zeros(nIn), pdin = sc.zeros(nIn), pout = sc.zeros(nOut), pdout = sc.zeros(nOut);
    const pgrid = sc.zeros(nGrid), pdgrid = sc.zeros(nGrid), ptheta = sc.zeros(N * 6);
    const rand = rng(seed);
    const theta = uniform(rand, N * 6, -0.1, 0.1);
    for (let n = 0; n < N; n++) { theta[6 * n] += 1; theta[6 * n + 4] += 1; }
    const f32 = core.f32; // after all mallocs: growth would detach it
    f32.set(theta, ptheta >> 2);
    f32.set(uniform(rand, nIn, 0, 1), pin >> 2);
    f32.set(uniform(rand, nOut, -1, 1), pdout >> 2);
    core.check(x.gl_affine_grid(pgrid, ptheta, N, Ho, Wo, 0), 'gl_affine_grid');
    const fwd = () => x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0); // bilinear, zeros, align 0
    const fwdbwd = () => {
      x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0); // bilinear, zeros, align 0
      x.gl_grid_sample_backward(pdin, pdgrid, pdout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0);
    };
    core.check(fwd(), 'gl_grid_sample');
    core.check(x.gl_grid_sample_backward(pdin, pdgrid, pdout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0), 'gl_grid_sample_backward');
    return { fwd: measure(fwd, profile), fwdbwd: measure(fwdbwd, profile) };
  });
}

/**
 * The direct C calls, the Tensor API and the Float32Array API on one single-threaded instance,
 * timed interleaved per pass: { direct: { fwd, fwdbwd }, tensors: {...}, arrays: {...} }.
 */
function timeApi(g, shape, profile, seed) {
  const core = g._core;
  const x = core.x;
  const [N, C, H, W, Ho, Wo] = shape;
  const size = [N, C, H, W], os = [Ho, Wo];
  const nIn = N * C * H * W, nOut = N * C * Ho * Wo, nGrid = N * Ho * Wo * 2;
  const rand = rng(seed);
  const theta = uniform(rand, N * 6, -0.1, 0.1);
  for (let n = 0; n < N; n++) { theta[6 * n] += 1; theta[6 * n + 4] += 1; }
  const input = uniform(rand, nIn, 0, 1), dOut = uniform(rand, nOut, -1, 1);
  const grid = g.stn.affineGrid(theta, [N, C, Ho, Wo]);
  // Tensors: inputs and every output allocated once
  const tIn = g.tensor(input, size), tGrid = g.tensor(grid, [N, Ho, Wo, 2]), tDout = g.tensor(dOut, [N, C, Ho, Wo]);
  const tOut = g.zeros([N, C, Ho, Wo]), grads = { dInput: g.zeros(size), dGrid: g.zeros([N, Ho, Wo, 2]) };
  try {
    return core.scoped((sc) => {
      const pin = sc.put(input), pgrid = sc.put(grid), pdout = sc.put(dOut);
      const pout = sc.zeros(nOut), pdin = sc.zeros(nIn), pdgrid = sc.zeros(nGrid);
      const direct = {
        fwd: () => x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0),
        fwdbwd: () => {
          x.gl_grid_sample(pout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0);
          x.gl_grid_sample_backward(pdin, pdgrid, pdout, pin, pgrid, N, C, H, W, Ho, Wo, 0, 0, 0);
        },
      };
      const tensors = {
        fwd: () => g.stn.gridSample(tIn, size, tGrid, os, { out: tOut }),
        fwdbwd: () => {
          g.stn.gridSample(tIn, size, tGrid, os, { out: tOut });
          g.stn.gridSampleBackward(tDout, tIn, size, tGrid, os, { out: grads });
        },
      };
      const arrays = {
        fwd: () => g.stn.gridSample(input, size, grid, os),
        fwdbwd: () => {
          g.stn.gridSample(input, size, grid, os);
          g.stn.gridSampleBackward(dOut, input, size, grid, os);
        },
      };
      core.check(direct.fwd(), 'gl_grid_sample');
      const res = { direct: {}, tensors: {}, arrays: {} };
      for (const p of PASSES) {
        [res.direct[p], res.tensors[p], res.arrays[p]] = measureInterleaved([direct[p], tensors[p], arrays[p]], profile);
      }
      return res;
    });
  } finally {
    for (const t of [tIn, tGrid, tDout, tOut, grads.dInput, grads.dGrid]) t.free();
  }
}

const helperArgs = (profile) => [...timingArgs(profile), ...SHAPES.flatMap((s) => ['--shape', s.join(',')])];

/** A helper program's results for engine id: { shapeKey: { pass: summary } } (torch_stn.py prints two engines). */
const readShapes = (json, id) => group(json.results.filter((r) => (r.engine ?? id) === id), (r) => shapeKey(r.shape), (r) => r.pass);

/**
 * Run the section.
 * @param {{ profile: { warmup: number, minTime: number, runs: number, clock?: 'cpu'|'wall' } }} opts
 * @returns {Promise<{ title, notes, rows, checks, tables }>}
 */
export async function run({ profile }) {
  const eng = new Engines(name); // res: engine -> shapeKey -> pass -> summary
  const res = eng.res;
  await eng.wasm((g, s) => timeWasm(g, s, profile, 1), { cases: SHAPES, key: shapeKey, label: shapeLabel });
  try {
    const g1 = await load({ simd: true, threads: 1 });
    for (const id of ['wasm-simd-1t', 'wasm-simd-tensors', 'wasm-simd-arrays']) eng.info[id] = `${g1.build}, ${g1.threads} thread`;
    for (const s of SHAPES) {
      progress(`${name}: wasm-simd-1t / -tensors / -arrays ${shapeLabel(s)}`);
      const r = timeApi(g1, s, profile, 1);
      eng.put('wasm-simd-1t', shapeKey(s), r.direct);
      eng.put('wasm-simd-tensors', shapeKey(s), r.tensors);
      eng.put('wasm-simd-arrays', shapeKey(s), r.arrays);
    }
  } catch (e) {
    eng.miss(['wasm-simd-1t', 'wasm-simd-tensors', 'wasm-simd-arrays'], `not available (${e.message})`);
  }
  eng.native('bench_stn', helperArgs(profile), { read: readShapes });
  eng.torch('torch_stn.py', helperArgs(profile), { ids: ['torch', 'torch-autograd'], read: readShapes });

  // Machine-readable rows and checks.
  const mpx = (e, s, p) => mpxPerSec(s, res[e]?.[shapeKey(s)]?.[p]);
  const rows = eng.passRows(SHAPES, shapeKey, ENGINES, PASSES, 'mpxPerSec', mpxPerSec);
  const checks = [];
  for (const s of SHAPES) {
    for (const r of RATIOS) {
      for (const p of PASSES) {
        checks.push({ shape: s, ratio: r.id, pass: p, ...ratioCheck(mpx(r.num, s, p), mpx(r.den, s, p), r, applies(r, s, p)) });
      }
    }
  }

  // Printable tables: per shape, engines then ratios.
  const tables = [];
  for (const s of SHAPES) {
    tables.push({
      title: `${shapeLabel(s)}  (${pixels(s).toLocaleString('en-US')} output px×ch per call)`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        ...timeColumns('fwd', 'fwd Mpx/s', 'ms/call'),
        ...timeColumns('fwdbwd', 'fwd+bwd Mpx/s', 'ms/call'),
      ],
      // Short status in the table ('not available', 'not built', 'failed'); the reason is in the notes.
      rows: eng.rows(ENGINES, 'fwd', (r) => Object.assign({}, ...PASSES.map((p) => timeCells(p, r[shapeKey(s)]?.[p], (m) => mpxPerSec(s, m))))),
      notes: eng.missingNotes(ENGINES),
    });
    const find = (r, p) => checks.find((c) => c.shape === s && c.ratio === r.id && c.pass === p);
    tables.push(ratioTable(RATIOS, PASSES.map((p) => ({ key: p, label: PASS_LABEL[p], check: (r) => find(r, p) })),
      (r) => `${r.passes.map((p) => PASS_LABEL[p]).join(', ')}${r.shapes ? `, ${r.shapes.map(shapeLabel).join('; ')}` : ''}`));
  }

  const notes = [
    'Mpx/s = N·C·Ho·Wo output values (pixels × channels) per call / seconds per call / 10^6; a fwd+bwd call',
    '  (forward, then backward giving dInput and dGrid) counts its N·C·Ho·Wo once.',
    'Data: input U(0,1), theta = identity + U(−0.1, 0.1) per entry, grid from affineGrid; backward accumulates (buffers zeroed once).',
    ...eng.notes(profile, ENGINES, checks),
  ];
  return { title, notes, rows, checks, tables };
}
