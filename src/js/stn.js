// stn.js: g.stn, the Spatial Transformer kernels with PyTorch's affine_grid / grid_sample
// semantics (see shared API; modes bilinear, nearest, bicubic). Each call validates, then runs the C
// kernel through kernelCall (tensor.js): Float32Arrays are copied in and out, Tensors stay in wasm
// memory, `{ out }` writes into given Tensors.
import * as v from './validate.js';
import { floats, kernelCall, kernelSpec } from './tensor.js';
import { makeGrids } from './grid.js';

const PADDING = ['zeros', 'border', 'reflection'];
const MODES = ['bilinear', 'nearest', 'bicubic']; // GL_MODE_* of src/stn.h
const NCHW = ['N', 'C', 'H', 'W'];
const AFFINE_GRID = kernelSpec({ fn: 'affineGrid', inputs: ['theta'], outputs: ['grid'], full: ['grid'] });
const AFFINE_GRID_BACKWARD = kernelSpec({ fn: 'affineGridBackward', inputs: ['dGrid'], outputs: ['dTheta'] });
const GRID_SAMPLE = kernelSpec({ fn: 'gridSample', inputs: ['input', 'grid'], outputs: ['output'], full: ['output'] });
// gl_grid_sample_backward_set writes its gradients (no clearing first), in both paths alike
const GRID_SAMPLE_BACKWARD = kernelSpec({
  fn: 'gridSampleBackward', inputs: ['dOutput', 'input', 'grid'], outputs: ['dInput', 'dGrid'], full: ['dInput', 'dGrid'],
  pack: (r) => ({ dInput: r[0], dGrid: r[1] }),
});

function alignOpt(fnName, opts, keys) {
  const o = v.options(`${fnName} options`, opts, keys);
  return {
    align: v.bool(`${fnName} options.alignCorners`, o.alignCorners, false) ? 1 : 0,
    pad: keys.includes('padding') ? PADDING.indexOf(v.oneOf(`${fnName} options.padding`, o.padding, PADDING, 'zeros')) : 0,
    mode: keys.includes('mode') ? MODES.indexOf(v.oneOf(`${fnName} options.mode`, o.mode, MODES, 'bilinear')) : 0,
    out: o.out,
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
    // projectiveGrid(/Backward), tpsGrid(/Backward), tpsControlPoints: src/grid.c through grid.js
    ...makeGrids(core),
    /** theta (N×2×3) → grid (N×H×W×2) */
    affineGrid(theta, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, out } = alignOpt('affineGrid', opts, ['alignCorners', 'out']);
      v.count('grid', N, H, W, 2);
      const t = floats(core, 'theta', theta, [N, 2, 3], `${N}×2×3`);
      return kernelCall(core, AFFINE_GRID, [t], [[N, H, W, 2]], out, (s, [pt], [pg]) => {
        core.check(x.gl_affine_grid(pg, pt, N, H, W, align), 'affineGrid');
      });
    },

    /** dGrid (N×H×W×2) → dTheta (N×2×3) */
    affineGridBackward(dGrid, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, out } = alignOpt('affineGridBackward', opts, ['alignCorners', 'out']);
      v.count('dGrid', N, H, W, 2);
      const dg = floats(core, 'dGrid', dGrid, [N, H, W, 2], `${N}×${H}×${W}×2`);
      return kernelCall(core, AFFINE_GRID_BACKWARD, [dg], [[N, 2, 3]], out, (s, [pg], [pt]) => {
        core.check(x.gl_affine_grid_backward(pt, pg, N, H, W, align), 'affineGridBackward');
      });
    },

    /** input (N×C×H×W) sampled at grid (N×Ho×Wo×2) → output (N×C×Ho×Wo) */
    gridSample(input, size, grid, outSize, opts) {
      const [N, C, H, W] = v.shape('size', size, 4, NCHW);
      const [Ho, Wo] = v.shape('outSize', outSize, 2, ['Ho', 'Wo']);
      const { align, pad, mode, out } = alignOpt('gridSample', opts, ['alignCorners', 'padding', 'mode', 'out']);
      v.count('input', N, C, H, W);
      v.count('output', N, C, Ho, Wo);
      v.count('grid', N, Ho, Wo, 2);
      const inp = floats(core, 'input', input, [N, C, H, W], `${N}×${C}×${H}×${W}`);
      const g = floats(core, 'grid', grid, [N, Ho, Wo, 2], `${N}×${Ho}×${Wo}×2`);
      return kernelCall(core, GRID_SAMPLE, [inp, g], [[N, C, Ho, Wo]], out, (s, [pi, pg], [po]) => {
        core.check(x.gl_grid_sample(po, pi, pg, N, C, H, W, Ho, Wo, mode, pad, align), 'gridSample');
      });
    },

    /** → { dInput (N×C×H×W), dGrid (N×Ho×Wo×2) } (nearest: dGrid is zero) */
    gridSampleBackward(dOutput, input, size, grid, outSize, opts) {
      const [N, C, H, W] = v.shape('size', size, 4, NCHW);
      const [Ho, Wo] = v.shape('outSize', outSize, 2, ['Ho', 'Wo']);
      const { align, pad, mode, out } = alignOpt('gridSampleBackward', opts, ['alignCorners', 'padding', 'mode', 'out']);
      v.count('input', N, C, H, W);
      v.count('dOutput', N, C, Ho, Wo);
      v.count('grid', N, Ho, Wo, 2);
      const d = floats(core, 'dOutput', dOutput, [N, C, Ho, Wo], `${N}×${C}×${Ho}×${Wo}`);
      const inp = floats(core, 'input', input, [N, C, H, W], `${N}×${C}×${H}×${W}`);
      const g = floats(core, 'grid', grid, [N, Ho, Wo, 2], `${N}×${Ho}×${Wo}×2`);
      return kernelCall(core, GRID_SAMPLE_BACKWARD, [d, inp, g], [[N, C, H, W], [N, Ho, Wo, 2]], out,
        (s, [pd, pi, pg], [pdi, pdg]) => {
          core.check(x.gl_grid_sample_backward_set(pdi, pdg, pd, pi, pg, N, C, H, W, Ho, Wo, mode, pad, align), 'gridSampleBackward');
        });
    },
  };
}
