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
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../src/js/index.js';
import { rng, uniform } from '../util.js';
import { measure, summarize, check, runJson, progress, fmt, fmtCheck } from './common.js';

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
  { id: 'wasm-simd', simd: true, what: 'gl_draw_* of dist/glimpse-simd.wasm, called directly from Node' },
  { id: 'wasm-scalar', simd: false, what: 'the same, dist/glimpse-scalar.wasm' },
  { id: 'torch-autograd', what: 'PyTorch, the same equations batched with torch.matmul, float32 autograd, 1 thread (tests/bench/torch_draw.py)' },
];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
// No target was set for these kernels: the ratios are informational (check() only formats them).
const SIMD_TARGET = 2.5;

const shapeKey = (s) => s.join(',');
const shapeLabel = ([batch, N, A, B]) => `batch=${batch} N=${N} ${B}×${A}`;

function timeWasm(g, shape, profile, seed) {
  const core = g._core;
  const x = core.x;
  const [batch, N, A, B] = shape;
  const nImg = batch * B * A, nFx = batch * N * A, nFy = batch * N * B, nR = batch * 2 * N * N, nW = batch * N * N;
  const ptrs = [];
  const alloc = (n) => {
    const p = core.malloc(n * 4);
    ptrs.push(p);
    return p;
  };
  try {
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
      for (const k of ['dFx', 'dFy', 'dgamma', 'dparams']) f32.fill(0, h[k] >> 2, (h[k] >> 2) + (k === 'dFx' ? nFx : k === 'dFy' ? nFy : k === 'dgamma' ? batch : batch * 5));
    }
    f32.set(uniform(rand, nImg, 0, 1), px >> 2);
    f32.set(uniform(rand, nImg, -1, 1), pxh >> 2);
    f32.set(uniform(rand, nR, -1, 1), pdread >> 2);
    f32.set(uniform(rand, nW, -1, 1), pw >> 2);
    f32.set(uniform(rand, nImg, -1, 1), pdc >> 2);
    for (const p of [pdx, pdxh, pdw]) f32.fill(0, p >> 2, (p >> 2) + (p === pdw ? nW : nImg));

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
  } finally {
    for (const p of ptrs) core.free(p);
  }
}

export async function run({ profile }) {
  const res = {};
  const missing = {};
  for (const e of ENGINES.filter((en) => en.simd !== undefined)) {
    let g;
    try {
      g = await load({ simd: e.simd });
    } catch (err) {
      missing[e.id] = `not available (${err.message})`;
      continue;
    }
    for (const s of SHAPES) {
      progress(`${name}: ${e.id} ${shapeLabel(s)}`);
      ((res[e.id] ??= {})[shapeKey(s)] = timeWasm(g, s, profile, 1));
    }
  }

  const torchOk = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
  if (torchOk.error || torchOk.status !== 0) {
    missing['torch-autograd'] = `not available (${PYTHON} -c 'import torch' failed)`;
  } else {
    progress(`${name}: torch-autograd (${PYTHON} tests/bench/torch_draw.py)`);
    const r = runJson(PYTHON, [`${ROOT}tests/bench/torch_draw.py`, '--runs', String(profile.runs), '--min-time', String(profile.minTime),
      '--warmup', String(profile.warmup), ...SHAPES.flatMap((sh) => ['--shape', sh.join(',')])]);
    if (!r.ok) missing['torch-autograd'] = `failed: ${r.reason}`;
    else {
      for (const x of r.json.results) ((res['torch-autograd'] ??= {})[shapeKey(x.shape)] ??= {})[x.pass] = summarize(x.runs, x.iters, x.wallRuns);
      ENGINES[2].version = `torch ${r.json.version}, ${r.json.threads} thread(s)`;
    }
  }

  const ips = (e, s, p) => {
    const m = res[e]?.[shapeKey(s)]?.[p];
    return m ? s[0] / m.sec : null;
  };
  const rows = [];
  const checks = [];
  const tables = [];
  for (const s of SHAPES) {
    for (const e of ENGINES) {
      for (const p of PASSES) {
        const m = res[e.id]?.[shapeKey(s)]?.[p];
        rows.push({
          shape: s, engine: e.id, pass: p,
          imagesPerSec: m ? s[0] / m.sec : null,
          msPerCall: m ? m.sec * 1e3 : null,
          wallMsPerCall: m?.wallSec != null ? m.wallSec * 1e3 : null,
          spread: m ? (m.max - m.min) / m.sec : null,
          iters: m?.iters ?? null, runsSec: m?.runs ?? null,
          ...(m ? {} : { missing: missing[e.id] ?? 'not measured' }),
        });
      }
    }
    const ratio = {}, ratioTorch = {};
    for (const [id, den, into] of [['simd/scalar', 'wasm-scalar', ratio], ['simd/torch-autograd', 'torch-autograd', ratioTorch]]) {
      for (const p of PASSES) {
        const a = ips('wasm-simd', s, p), b = ips(den, s, p);
        const c = { shape: s, ratio: id, pass: p, ...check(a != null && b != null ? a / b : null, '>=', SIMD_TARGET) };
        c.target = null; // informational: no target set for this section
        c.met = null;
        checks.push(c);
        into[p] = fmtCheck(c);
      }
    }
    const cols = [{ key: 'engine', label: 'engine', align: 'left' }];
    for (const p of PASSES) cols.push({ key: p, label: `${PASS_LABEL[p]} img/s` }, { key: `${p}Ms`, label: 'ms' });
    tables.push({
      title: shapeLabel(s),
      columns: cols,
      rows: [
        ...ENGINES.map((e) => {
          const row = { engine: e.id };
          if (!res[e.id]) { row.readFwd = (missing[e.id] ?? 'not measured').split(' (')[0]; return row; }
          for (const p of PASSES) {
            const m = res[e.id][shapeKey(s)][p];
            row[p] = fmt(s[0] / m.sec, 0);
            row[`${p}Ms`] = fmt(m.sec * 1e3, 3);
          }
          return row;
        }),
        { engine: 'SIMD/scalar', ...ratio },
        { engine: 'SIMD/torch', ...ratioTorch },
      ],
    });
  }
  const notes = [
    'img/s = batch items per second (one item: one 28×28 image x and x̂ read, or one canvas written, through its own filterbank).',
    `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s of process CPU time each.`,
    'Every call rebuilds the filterbank from the raw params; backward passes accumulate into buffers zeroed once.',
    'step = read fwd+bwd + write fwd+bwd with separate read and write params (one DRAW time step\'s attention work).',
    ...ENGINES.map((e) => `  ${e.id}: ${e.what}${e.version ? ` [${e.version}]` : ''}${missing[e.id] ? `: ${missing[e.id]}` : ''}`),
  ];
  return { title, notes, rows, checks, tables };
}
