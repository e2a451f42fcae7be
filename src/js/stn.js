// stn.js: g.stn, the Spatial Transformer kernels with PyTorch's affine_grid / grid_sample
// semantics (see shared API; modes bilinear, nearest, bicubic). Each call validates, copies in,
// runs the C kernel, copies out.
import * as v from './validate.js';

const PADDING = ['zeros', 'border', 'reflection'];
const MODES = ['bilinear', 'nearest', 'bicubic']; // GL_MODE_* of src/stn.h
const NCHW = ['N', 'C', 'H', 'W'];

function alignOpt(fnName, opts, keys) {
  const o = v.options(`${fnName} options`, opts, keys);
  return {
    align: v.bool(`${fnName} options.alignCorners`, o.alignCorners, false) ? 1 : 0,
    pad: PADDING.indexOf(v.oneOf(`${fnName} options.padding`, o.padding, PADDING, 'zeros')),
    mode: MODES.indexOf(v.oneOf(`${fnName} options.mode`, o.mode, MODES, 'bilinear')),
  };
}

/**
 * theta (2×3, a Float32Array) of the affine map that rotates by `rotation` degrees, scales by
 * `scale` and shifts by (tx, ty) in normalised coordinates: the sampling grid of a transformer
 * with these controls (the output pixel (x, y) reads the input at theta · (x, y, 1)).
 */
export function affineTheta(options) {
  const o = v.options('affineTheta options', options, ['rotation', 'scale', 'tx', 'ty']);
  const num = (k, d) => (o[k] === undefined ? d : v.number(`affineTheta options.${k}`, o[k]));
  const rotation = num('rotation', 0), scale = num('scale', 1), tx = num('tx', 0), ty = num('ty', 0);
  const a = (rotation * Math.PI) / 180;
  const c = scale * Math.cos(a), s = scale * Math.sin(a);
  return Float32Array.of(c, -s, tx, s, c, ty);
}

export function makeStn(core) {
  const x = core.x;
  return {
    affineTheta,
    /** theta (N×2×3) → grid (N×H×W×2) */
    affineGrid(theta, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align } = alignOpt('affineGrid', opts, ['alignCorners']);
      const n = v.count('grid', N, H, W, 2);
      v.f32('theta', theta, N * 6, `${N}×2×3`);
      return core.scoped((s) => {
        const pt = s.put(theta);
        const pg = s.zeros(n);
        core.check(x.gl_affine_grid(pg, pt, N, H, W, align), 'affineGrid');
        return s.get(pg, n);
      });
    },

    /** dGrid (N×H×W×2) → dTheta (N×2×3) */
    affineGridBackward(dGrid, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align } = alignOpt('affineGridBackward', opts, ['alignCorners']);
      const n = v.count('dGrid', N, H, W, 2);
      v.f32('dGrid', dGrid, n, `${N}×${H}×${W}×2`);
      return core.scoped((s) => {
        const pg = s.put(dGrid);
        const pt = s.zeros(N * 6);
        core.check(x.gl_affine_grid_backward(pt, pg, N, H, W, align), 'affineGridBackward');
        return s.get(pt, N * 6);
      });
    },

    /** input (N×C×H×W) sampled at grid (N×Ho×Wo×2) → output (N×C×Ho×Wo) */
    gridSample(input, size, grid, outSize, opts) {
      const [N, C, H, W] = v.shape('size', size, 4, NCHW);
      const [Ho, Wo] = v.shape('outSize', outSize, 2, ['Ho', 'Wo']);
      const { align, pad, mode } = alignOpt('gridSample', opts, ['alignCorners', 'padding', 'mode']);
      const nIn = v.count('input', N, C, H, W);
      const nOut = v.count('output', N, C, Ho, Wo);
      const nGrid = v.count('grid', N, Ho, Wo, 2);
      v.f32('input', input, nIn, `${N}×${C}×${H}×${W}`);
      v.f32('grid', grid, nGrid, `${N}×${Ho}×${Wo}×2`);
      return core.scoped((s) => {
        const pi = s.put(input);
        const pg = s.put(grid);
        const po = s.zeros(nOut);
        core.check(x.gl_grid_sample(po, pi, pg, N, C, H, W, Ho, Wo, mode, pad, align), 'gridSample');
        return s.get(po, nOut);
      });
    },

    /** → { dInput (N×C×H×W), dGrid (N×Ho×Wo×2) } (nearest: dGrid is zero) */
    gridSampleBackward(dOutput, input, size, grid, outSize, opts) {
      const [N, C, H, W] = v.shape('size', size, 4, NCHW);
      const [Ho, Wo] = v.shape('outSize', outSize, 2, ['Ho', 'Wo']);
      const { align, pad, mode } = alignOpt('gridSampleBackward', opts, ['alignCorners', 'padding', 'mode']);
      const nIn = v.count('input', N, C, H, W);
      const nOut = v.count('dOutput', N, C, Ho, Wo);
      const nGrid = v.count('grid', N, Ho, Wo, 2);
      v.f32('dOutput', dOutput, nOut, `${N}×${C}×${Ho}×${Wo}`);
      v.f32('input', input, nIn, `${N}×${C}×${H}×${W}`);
      v.f32('grid', grid, nGrid, `${N}×${Ho}×${Wo}×2`);
      return core.scoped((s) => {
        const pd = s.put(dOutput);
        const pi = s.put(input);
        const pg = s.put(grid);
        const pdi = s.zeros(nIn);
        const pdg = s.zeros(nGrid);
        core.check(x.gl_grid_sample_backward(pdi, pdg, pd, pi, pg, N, C, H, W, Ho, Wo, mode, pad, align), 'gridSampleBackward');
        return { dInput: s.get(pdi, nIn), dGrid: s.get(pdg, nGrid) };
      });
    },
  };
}
