// stn_sampler.js: benchmark section "stn-sampler": throughput of the bilinear grid sampler
// (src/stn.c gl_grid_sample / gl_grid_sample_backward) on wasm-SIMD, wasm-scalar, native and
// PyTorch, with the ratios and targets of the STN-sampler performance issue.
//
// The wasm builds are timed in-process by calling the exported C functions directly on buffers
// allocated once in wasm memory (no JS copy-in/out, no validation); native and PyTorch run as
// helper programs (tests/native/bench_stn.c, tests/bench/torch_stn.py) that use the same timing
// protocol (common.js measure()) and print JSON.
import { rng, uniform } from '../util.js';
import {
  Engines, ratio, measure, group, ratioCheck, ratioTable, timingArgs, timeColumns, timeCells, wasmEngines, nativeEngines,
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
  ...nativeEngines('bench_stn'),
  { id: 'torch', what: 'PyTorch ATen kernels aten.grid_sampler_2d[_backward], 1 thread' },
  { id: 'torch-autograd', what: 'PyTorch F.grid_sample + torch.autograd.grad, 1 thread' },
];

// The targets. pass: which passes the target applies to (others are shown, unmarked).
const RATIOS = [
  ratio('wasm-simd', 'torch', { op: '>=', target: 3, passes: ['fwdbwd'] }),
  ratio('wasm-simd', 'torch-autograd'),
  ratio('wasm-simd', 'wasm-scalar', { op: '>=', target: 2.5, passes: PASSES }),
  ratio('native', 'wasm-simd', { op: '<=', target: 1.5, passes: PASSES }),
];

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
  eng.native('bench_stn', helperArgs(profile), { read: readShapes });
  eng.torch('torch_stn.py', helperArgs(profile), { ids: ['torch', 'torch-autograd'], read: readShapes });

  // Machine-readable rows and checks.
  const mpx = (e, s, p) => mpxPerSec(s, res[e]?.[shapeKey(s)]?.[p]);
  const rows = eng.passRows(SHAPES, shapeKey, ENGINES, PASSES, 'mpxPerSec', mpxPerSec);
  const checks = [];
  for (const s of SHAPES) {
    for (const r of RATIOS) {
      for (const p of PASSES) {
        checks.push({ shape: s, ratio: r.id, pass: p, ...ratioCheck(mpx(r.num, s, p), mpx(r.den, s, p), r, r.target != null && r.passes.includes(p)) });
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
      (r) => r.passes.map((p) => PASS_LABEL[p]).join(', ')));
  }

  const notes = [
    'Mpx/s = N·C·Ho·Wo output values (pixels × channels) per call / seconds per call / 10^6; a fwd+bwd call',
    '  (forward, then backward giving dInput and dGrid) counts its N·C·Ho·Wo once.',
    'Data: input U(0,1), theta = identity + U(−0.1, 0.1) per entry, grid from affineGrid; backward accumulates (buffers zeroed once).',
    ...eng.notes(profile, ENGINES, checks),
  ];
  return { title, notes, rows, checks, tables };
}
