// draw.js: g.draw, DRAW's selective attention kernels (Gregor et al. 2015, eq. 19-29; see the
// shared API and src/draw.c for the exact definitions: 1-based filter and pixel indices, images
// B×A = rows×columns, params per item (g̃X, g̃Y, log σ², log δ̃, log γ), normaliser guarded with
// max(Σ, 1e-8), and δ's factor (max(A,B)−1)/max(N−1, 1) so that N = 1 is defined).
// Each call validates, then runs the C kernels through kernelCall (tensor.js) inside one scoped
// allocation: Float32Arrays are copied in and out, Tensors stay in wasm memory, `{ out }` (the last,
// optional options argument) writes into given Tensors.
import * as v from './validate.js';
import { floats, kernelCall, kernelSpec } from './tensor.js';

const SIZE = ['batch', 'N', 'A', 'B'];
const P = 'params';
const FILTERBANK = kernelSpec({ fn: 'filterbank', inputs: [P], outputs: ['Fx', 'Fy', 'gamma'], pack: (r) => ({ Fx: r[0], Fy: r[1], gamma: r[2] }) });
const DECODE = kernelSpec({ fn: 'decode', inputs: [P], outputs: ['decoded'] });
const READ = kernelSpec({ fn: 'read', inputs: ['x', 'xHat', P], outputs: ['read'] });
const READ_BACKWARD = kernelSpec({
  fn: 'readBackward', inputs: ['dRead', 'x', 'xHat', P], outputs: ['dX', 'dXHat', 'dParams'],
  pack: (r) => ({ dX: r[0], dXHat: r[1], dParams: r[2] }),
});
const WRITE = kernelSpec({ fn: 'write', inputs: ['w', P], outputs: ['canvas'] });
const WRITE_BACKWARD = kernelSpec({ fn: 'writeBackward', inputs: ['dCanvas', 'w', P], outputs: ['dW', 'dParams'], pack: (r) => ({ dW: r[0], dParams: r[1] }) });

/**
 * @param {import('./core.js').WasmCore} core
 * @param {{ reference?: boolean }} [internal] reference: use the scalar _ref oracles of the
 *   filter application (tests only; not part of the public API).
 */
export function makeDraw(core, { reference = false } = {}) {
  const x = core.x;
  const pick = (name) => (reference ? x[`${name}_ref`] : x[name]);
  const cRead = pick('gl_draw_read');
  const cReadBackward = pick('gl_draw_read_backward');
  const cWrite = pick('gl_draw_write');
  const cWriteBackward = pick('gl_draw_write_backward');

  function dims(size) {
    const [batch, N, A, B] = v.shape('size', size, 4, SIZE);
    v.count('image', batch, B, A);
    v.count('Fx', batch, N, A);
    v.count('Fy', batch, N, B);
    v.count('read output', batch, 2, N, N);
    return { batch, N, A, B, nImg: batch * B * A, nFx: batch * N * A, nFy: batch * N * B, nW: batch * N * N };
  }

  const checkParams = (params, d) => floats(core, 'params', params, [d.batch, 5], `${d.batch}×5 (g̃X, g̃Y, log σ², log δ̃, log γ)`);
  const image = (name, a, d) => floats(core, name, a, [d.batch, d.B, d.A], `${d.batch}×${d.B}×${d.A}`);
  const outOpt = (fnName, opts) => v.options(`${fnName} options`, opts, ['out']).out;

  // Fx, Fy, gamma in wasm memory for params already at pp.
  function filters(s, d, pp, what) {
    const f = { Fx: s.zeros(d.nFx), Fy: s.zeros(d.nFy), gamma: s.zeros(d.batch) };
    core.check(x.gl_draw_filterbank(f.Fx, f.Fy, f.gamma, pp, d.batch, d.N, d.A, d.B), what);
    return f;
  }

  return {
    /** params (batch×5) → { Fx: batch×N×A, Fy: batch×N×B, gamma: batch } (eq. 19-26) */
    filterbank(params, size, opts) {
      const d = dims(size);
      const out = outOpt('filterbank', opts);
      const p = checkParams(params, d);
      return kernelCall(core, FILTERBANK, [p], [[d.batch, d.N, d.A], [d.batch, d.N, d.B], [d.batch]], out, (s, [pp], [pFx, pFy, pg]) => {
        core.check(x.gl_draw_filterbank(pFx, pFy, pg, pp, d.batch, d.N, d.A, d.B), 'filterbank');
      });
    },

    /** params (batch×5) → batch×5 holding (gX, gY, δ, σ², γ) in image units (1-based pixels). */
    decode(params, size, opts) {
      const d = dims(size);
      const out = outOpt('decode', opts);
      const p = checkParams(params, d);
      return kernelCall(core, DECODE, [p], [[d.batch, 5]], out, (s, [pp], [po]) => {
        core.check(x.gl_draw_decode(po, pp, d.batch, d.N, d.A, d.B), 'decode');
      });
    },

    /** x, xHat (batch×B×A) → γ·[Fy·x·Fxᵀ, Fy·x̂·Fxᵀ], batch×2×N×N (eq. 27) */
    read(img, xHat, params, size, opts) {
      const d = dims(size);
      const out = outOpt('read', opts);
      const a = image('x', img, d), b = image('xHat', xHat, d), p = checkParams(params, d);
      return kernelCall(core, READ, [a, b, p], [[d.batch, 2, d.N, d.N]], out, (s, [px, pxh, pp], [po]) => {
        const f = filters(s, d, pp, 'read');
        core.check(cRead(po, px, pxh, f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B), 'read');
      });
    },

    /** dRead (batch×2×N×N) → { dX, dXHat (batch×B×A), dParams (batch×5) } */
    readBackward(dRead, img, xHat, params, size, opts) {
      const d = dims(size);
      const out = outOpt('readBackward', opts);
      const dr = floats(core, 'dRead', dRead, [d.batch, 2, d.N, d.N], `${d.batch}×2×${d.N}×${d.N}`);
      const a = image('x', img, d), b = image('xHat', xHat, d), p = checkParams(params, d);
      return kernelCall(core, READ_BACKWARD, [dr, a, b, p], [[d.batch, d.B, d.A], [d.batch, d.B, d.A], [d.batch, 5]], out,
        (s, [pdr, px, pxh, pp], [pdx, pdxh, pdp]) => {
          const f = filters(s, d, pp, 'readBackward');
          const pdFx = s.zeros(d.nFx), pdFy = s.zeros(d.nFy), pdg = s.zeros(d.batch);
          core.check(
            cReadBackward(pdx, pdxh, pdFx, pdFy, pdg, pdr, px, pxh, f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B),
            'readBackward',
          );
          core.check(x.gl_draw_filterbank_backward(pdp, pdFx, pdFy, pdg, pp, d.batch, d.N, d.A, d.B), 'readBackward');
        });
    },

    /** w (batch×N×N) → (1/γ)·Fyᵀ·w·Fx, batch×B×A (eq. 29) */
    write(w, params, size, opts) {
      const d = dims(size);
      const out = outOpt('write', opts);
      const ww = floats(core, 'w', w, [d.batch, d.N, d.N], `${d.batch}×${d.N}×${d.N}`), p = checkParams(params, d);
      return kernelCall(core, WRITE, [ww, p], [[d.batch, d.B, d.A]], out, (s, [pw, pp], [pc]) => {
        const f = filters(s, d, pp, 'write');
        core.check(cWrite(pc, pw, f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B), 'write');
      });
    },

    /** dCanvas (batch×B×A) → { dW (batch×N×N), dParams (batch×5) } */
    writeBackward(dCanvas, w, params, size, opts) {
      const d = dims(size);
      const out = outOpt('writeBackward', opts);
      const dc = image('dCanvas', dCanvas, d);
      const ww = floats(core, 'w', w, [d.batch, d.N, d.N], `${d.batch}×${d.N}×${d.N}`), p = checkParams(params, d);
      return kernelCall(core, WRITE_BACKWARD, [dc, ww, p], [[d.batch, d.N, d.N], [d.batch, 5]], out,
        (s, [pdc, pw, pp], [pdw, pdp]) => {
          const f = filters(s, d, pp, 'writeBackward');
          const pdFx = s.zeros(d.nFx), pdFy = s.zeros(d.nFy), pdg = s.zeros(d.batch);
          core.check(cWriteBackward(pdw, pdFx, pdFy, pdg, pdc, pw, f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B), 'writeBackward');
          core.check(x.gl_draw_filterbank_backward(pdp, pdFx, pdFy, pdg, pp, d.batch, d.N, d.A, d.B), 'writeBackward');
        });
    },
  };
}
