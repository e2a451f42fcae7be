// draw.js: g.draw, DRAW's selective attention kernels (Gregor et al. 2015, eq. 19-29; see the
// shared API and src/draw.c for the exact definitions: 1-based filter and pixel indices, images
// B×A = rows×columns, params per item (g̃X, g̃Y, log σ², log δ̃, log γ), normaliser guarded with
// max(Σ, 1e-8), and δ's factor (max(A,B)−1)/max(N−1, 1) so that N = 1 is defined).
// Each call validates, copies in, runs the C kernels inside one scoped allocation, copies out.
import * as v from './validate.js';

const SIZE = ['batch', 'N', 'A', 'B'];

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

  function checkParams(params, d) {
    v.f32('params', params, d.batch * 5, `${d.batch}×5 (g̃X, g̃Y, log σ², log δ̃, log γ)`);
  }

  // Fx, Fy, gamma in wasm memory for params already copied to pp.
  function filters(s, d, pp, what) {
    const f = { Fx: s.zeros(d.nFx), Fy: s.zeros(d.nFy), gamma: s.zeros(d.batch) };
    core.check(x.gl_draw_filterbank(f.Fx, f.Fy, f.gamma, pp, d.batch, d.N, d.A, d.B), what);
    return f;
  }

  return {
    /** params (batch×5) → { Fx: batch×N×A, Fy: batch×N×B, gamma: batch } (eq. 19-26) */
    filterbank(params, size) {
      const d = dims(size);
      checkParams(params, d);
      return core.scoped((s) => {
        const f = filters(s, d, s.put(params), 'filterbank');
        return { Fx: s.get(f.Fx, d.nFx), Fy: s.get(f.Fy, d.nFy), gamma: s.get(f.gamma, d.batch) };
      });
    },

    /** params (batch×5) → batch×5 holding (gX, gY, δ, σ², γ) in image units (1-based pixels). */
    decode(params, size) {
      const d = dims(size);
      checkParams(params, d);
      return core.scoped((s) => {
        const po = s.zeros(d.batch * 5);
        core.check(x.gl_draw_decode(po, s.put(params), d.batch, d.N, d.A, d.B), 'decode');
        return s.get(po, d.batch * 5);
      });
    },

    /** x, xHat (batch×B×A) → γ·[Fy·x·Fxᵀ, Fy·x̂·Fxᵀ], batch×2×N×N (eq. 27) */
    read(img, xHat, params, size) {
      const d = dims(size);
      v.f32('x', img, d.nImg, `${d.batch}×${d.B}×${d.A}`);
      v.f32('xHat', xHat, d.nImg, `${d.batch}×${d.B}×${d.A}`);
      checkParams(params, d);
      const nOut = d.batch * 2 * d.N * d.N;
      return core.scoped((s) => {
        const f = filters(s, d, s.put(params), 'read');
        const po = s.zeros(nOut);
        core.check(cRead(po, s.put(img), s.put(xHat), f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B), 'read');
        return s.get(po, nOut);
      });
    },

    /** dRead (batch×2×N×N) → { dX, dXHat (batch×B×A), dParams (batch×5) } */
    readBackward(dRead, img, xHat, params, size) {
      const d = dims(size);
      const nOut = d.batch * 2 * d.N * d.N;
      v.f32('dRead', dRead, nOut, `${d.batch}×2×${d.N}×${d.N}`);
      v.f32('x', img, d.nImg, `${d.batch}×${d.B}×${d.A}`);
      v.f32('xHat', xHat, d.nImg, `${d.batch}×${d.B}×${d.A}`);
      checkParams(params, d);
      return core.scoped((s) => {
        const pp = s.put(params);
        const f = filters(s, d, pp, 'readBackward');
        const pdx = s.zeros(d.nImg), pdxh = s.zeros(d.nImg);
        const pdFx = s.zeros(d.nFx), pdFy = s.zeros(d.nFy), pdg = s.zeros(d.batch), pdp = s.zeros(d.batch * 5);
        core.check(
          cReadBackward(pdx, pdxh, pdFx, pdFy, pdg, s.put(dRead), s.put(img), s.put(xHat), f.Fx, f.Fy, f.gamma,
            d.batch, d.N, d.A, d.B),
          'readBackward',
        );
        core.check(x.gl_draw_filterbank_backward(pdp, pdFx, pdFy, pdg, pp, d.batch, d.N, d.A, d.B), 'readBackward');
        return { dX: s.get(pdx, d.nImg), dXHat: s.get(pdxh, d.nImg), dParams: s.get(pdp, d.batch * 5) };
      });
    },

    /** w (batch×N×N) → (1/γ)·Fyᵀ·w·Fx, batch×B×A (eq. 29) */
    write(w, params, size) {
      const d = dims(size);
      v.f32('w', w, d.nW, `${d.batch}×${d.N}×${d.N}`);
      checkParams(params, d);
      return core.scoped((s) => {
        const f = filters(s, d, s.put(params), 'write');
        const pc = s.zeros(d.nImg);
        core.check(cWrite(pc, s.put(w), f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B), 'write');
        return s.get(pc, d.nImg);
      });
    },

    /** dCanvas (batch×B×A) → { dW (batch×N×N), dParams (batch×5) } */
    writeBackward(dCanvas, w, params, size) {
      const d = dims(size);
      v.f32('dCanvas', dCanvas, d.nImg, `${d.batch}×${d.B}×${d.A}`);
      v.f32('w', w, d.nW, `${d.batch}×${d.N}×${d.N}`);
      checkParams(params, d);
      return core.scoped((s) => {
        const pp = s.put(params);
        const f = filters(s, d, pp, 'writeBackward');
        const pdw = s.zeros(d.nW);
        const pdFx = s.zeros(d.nFx), pdFy = s.zeros(d.nFy), pdg = s.zeros(d.batch), pdp = s.zeros(d.batch * 5);
        core.check(
          cWriteBackward(pdw, pdFx, pdFy, pdg, s.put(dCanvas), s.put(w), f.Fx, f.Fy, f.gamma, d.batch, d.N, d.A, d.B),
          'writeBackward',
        );
        core.check(x.gl_draw_filterbank_backward(pdp, pdFx, pdFy, pdg, pp, d.batch, d.N, d.A, d.B), 'writeBackward');
        return { dW: s.get(pdw, d.nW), dParams: s.get(pdp, d.batch * 5) };
      });
    },
  };
}
