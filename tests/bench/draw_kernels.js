// draw_kernels.js: benchmark section "draw-kernels": throughput of DRAW's attention kernels
// (src/draw.c) on wasm-SIMD and wasm-scalar: read (eq. 27) and write (eq. 29), forward and
// forward+backward, at batch 64, 28×28 images, N = 5 and N = 12.
//
// Like stn-sampler, the builds are timed in-process by calling the exported C functions directly
// on buffers allocated once in wasm memory (no JS copy-in/out, no validation). Every timed call
// includes building the filterbank from the raw params, as a model step does:
//   read fwd      gl_draw_filterbank + gl_draw_read
//   read fwd+bwd  ... + gl_draw_read_backward (dX and dXHat, as g.draw.readBackward) + gl_draw_filterbank_backward
//   write fwd     gl_draw_filterbank + gl_draw_write
//   write fwd+bwd ... + gl_draw_write_backward + gl_draw_filterbank_backward
//   step          read fwd+bwd and write fwd+bwd (separate params, as DRAW's read and write heads)
// PyTorch (tests/bench/torch_draw.py: the same equations, float32 autograd, one thread) runs as a
// helper program with the same timing protocol, as a yardstick.
import { rng, uniform } from '../util.js';
import { Engines, measure, group, ratioCheck, timingArgs, timeColumns, timeCells, fmtCheck, wasmEngines } from './common.js';

export const name = 'draw-kernels';
export const title = 'DRAW attention: filterbank + read/write (eq. 19-29), batch 64, 28×28';

/** [batch, N, A, B] */
export const SHAPES = [
  [64, 5, 28, 28],
  [64, 12, 28, 28],
];
const PASSES = ['readFwd', 'readFwdBwd', 'writeFwd', 'writeFwdBwd', 'step'];
const PASS_LABEL = { readFwd: 'read fwd', readFwdBwd: 'read fwd+bwd', writeFwd: 'write fwd', writeFwdBwd: 'write fwd+bwd', step: 'step' };
const ENGINES = [
  ...wasmEngines('gl_draw_*'),
  { id: 'torch-autograd', what: 'PyTorch, the same equations batched with torch.matmul, float32 autograd, 1 thread (tests/bench/torch_draw.py)' },
];

const shapeKey = (s) => s.join(',');
const itemsPerSec = (s, m) => (m ? s[0] / m.sec : null);
const shapeLabel = ([batch, N, A, B]) => `batch=${batch} N=${N} ${B}×${A}`;

function timeWasm(g, shape, profile, seed) {
  const core = g._core;
  const x = core.x;
  const [batch, N, A, B] = shape;
  const nImg = batch * B * A, nFx = batch * N * A, nFy = batch * N * B, nR = batch * 2 * N * N, nW = batch * N * N;
  return core.scoped((sc) => { // every buffer zeroed, freed afterwards
    const alloc = (n) => sc.zeros(n);
    const heads = ['read', 'write'].map(() => ({
      params: alloc(batch * 5), Fx: alloc(nFx), Fy: alloc(nFy), gamma: alloc(batch),
      dFx: alloc(nFx), dFy: alloc(nFy), dgamma: alloc(batch), dparams: alloc(batch * 5),
    }));
    const px = alloc(nImg), pxh = alloc(nImg), pdx = alloc(nImg), pdxh = alloc(nImg);
    const pread = alloc(nR), pdread = alloc(nR), pw = alloc(nW), pdw = alloc(nW), pc = alloc(nImg), pdc = alloc(nImg);
    const f32 = core.f32; // after all mallocs: growth would detach it
    const rand = rng(seed);
    for (const h of heads) {
      // Plausible attention: centres within the middle half, σ² around 1, stride around half the maximum.
      const p = new Float32Array(batch * 5);
      for (let n = 0; n < batch; n++) {
        p.set([0.5 * (rand() - 0.5), 0.5 * (rand() - 0.5), rand() - 0.5, -0.7 + 0.4 * rand(), rand() - 0.5], 5 * n);
      }
      f32.set(p, h.params >> 2);
    }
    f32.set(uniform(rand, nImg, 0, 1), px >> 2);
    f32.set(uniform(rand, nImg, -1, 1), pxh >> 2);
    f32.set(uniform(rand, nR, -1, 1), pdread >> 2);
    f32.set(uniform(rand, nW, -1, 1), pw >> 2);
    f32.set(uniform(rand, nImg, -1, 1), pdc >> 2);

    const [r, w] = heads;
    const fb = (h) => x.gl_draw_filterbank(h.Fx, h.Fy, h.gamma, h.params, batch, N, A, B);
    const fbb = (h) => x.gl_draw_filterbank_backward(h.dparams, h.dFx, h.dFy, h.dgamma, h.params, batch, N, A, B);
    const read = () => x.gl_draw_read(pread, px, pxh, r.Fx, r.Fy, r.gamma, batch, N, A, B);
    const readB = () => x.gl_draw_read_backward(pdx, pdxh, r.dFx, r.dFy, r.dgamma, pdread, px, pxh, r.Fx, r.Fy, r.gamma, batch, N, A, B);
    const write = () => x.gl_draw_write(pc, pw, w.Fx, w.Fy, w.gamma, batch, N, A, B);
    const writeB = () => x.gl_draw_write_backward(pdw, w.dFx, w.dFy, w.dgamma, pdc, pw, w.Fx, w.Fy, w.gamma, batch, N, A, B);
    const fns = {
      readFwd: () => fb(r) | read(),
      readFwdBwd: () => fb(r) | read() | readB() | fbb(r),
      writeFwd: () => fb(w) | write(),
      writeFwdBwd: () => fb(w) | write() | writeB() | fbb(w),
      step: () => fb(r) | read() | readB() | fbb(r) | fb(w) | write() | writeB() | fbb(w),
    };
    for (const [k, f] of Object.entries(fns)) if (f() !== 0) core.check(1, `draw-kernels ${k}`); // status codes OR-ed: 0 only if all succeeded
    const out = {};
    for (const p of PASSES) out[p] = measure(fns[p], profile);
    return out;
  });
}

export async function run({ profile }) {
  const eng = new Engines(name); // res: engine -> shapeKey -> pass -> summary
  const res = eng.res;
  await eng.wasm((g, s) => timeWasm(g, s, profile, 1), { cases: SHAPES, key: shapeKey, label: shapeLabel });
  eng.torch('torch_draw.py', [...timingArgs(profile), ...SHAPES.flatMap((sh) => ['--shape', sh.join(',')])],
    { ids: ['torch-autograd'], read: (json) => group(json.results, (m) => shapeKey(m.shape), (m) => m.pass) });

  const ips = (e, s, p) => itemsPerSec(s, res[e]?.[shapeKey(s)]?.[p]);
  const rows = eng.passRows(SHAPES, shapeKey, ENGINES, PASSES, 'imagesPerSec', itemsPerSec);
  const checks = [];
  const tables = [];
  for (const s of SHAPES) {
    const ratio = {}, ratioTorch = {};
    for (const [id, den, into] of [['simd/scalar', 'wasm-scalar', ratio], ['simd/torch-autograd', 'torch-autograd', ratioTorch]]) {
      for (const p of PASSES) {
        // No target was set for these kernels: the ratios are informational.
        const c = { shape: s, ratio: id, pass: p, ...ratioCheck(ips('wasm-simd', s, p), ips(den, s, p), {}) };
        checks.push(c);
        into[p] = fmtCheck(c);
      }
    }
    tables.push({
      title: shapeLabel(s),
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        ...PASSES.flatMap((p) => timeColumns(p, `${PASS_LABEL[p]} img/s`, 'ms', { spread: false })),
      ],
      rows: [
        ...eng.rows(ENGINES, 'readFwd', (r) => Object.assign({}, ...PASSES.map((p) => timeCells(p, r[shapeKey(s)][p], (m) => itemsPerSec(s, m), { digits: 0 })))),
        { engine: 'SIMD/scalar', ...ratio },
        { engine: 'SIMD/torch', ...ratioTorch },
      ],
    });
  }
  const notes = [
    'img/s = batch items per second (one item: one 28×28 image x and x̂ read, or one canvas written, through its own filterbank).',
    'Every call rebuilds the filterbank from the raw params; backward passes accumulate into buffers zeroed once.',
    'step = read fwd+bwd + write fwd+bwd with separate read and write params (one DRAW time step\'s attention work).',
    ...eng.notes(profile, ENGINES, null, { spread: false }),
  ];
  return { title, notes, rows, checks, tables };
}
