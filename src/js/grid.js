// grid.js: the projective and thin-plate-spline grid generators of g.stn (src/grid.c), beside
// stn.js's affine grid. Same conventions: size [N, C, H, W] of the output (C is ignored, as by
// affine_grid), grids N×H×W×2 of (x, y) in normalised input coordinates, { alignCorners, out },
// Tensors accepted wherever Float32Arrays are (kernelCall, tensor.js).
import * as v from './validate.js';
import { floats, kernelCall, kernelSpec } from './tensor.js';

const NCHW = ['N', 'C', 'H', 'W'];
const PROJECTIVE_GRID = kernelSpec({ fn: 'projectiveGrid', inputs: ['theta'], outputs: ['grid'], full: ['grid'] });
const PROJECTIVE_GRID_BACKWARD = kernelSpec({ fn: 'projectiveGridBackward', inputs: ['dGrid', 'theta'], outputs: ['dTheta'] });
const TPS_GRID = kernelSpec({ fn: 'tpsGrid', inputs: ['points'], outputs: ['grid'], full: ['grid'] });
const TPS_GRID_BACKWARD = kernelSpec({ fn: 'tpsGridBackward', inputs: ['dGrid', 'points'], outputs: ['dPoints'] });
const TPS_MAX_SIDE = 8; // GL_TPS_MAX_SIDE of src/grid.h

function options(fn, opts, keys) {
  const o = v.options(`${fn} options`, opts, keys);
  const out = { align: v.bool(`${fn} options.alignCorners`, o.alignCorners, false) ? 1 : 0, out: o.out };
  if (keys.includes('controlGrid')) {
    const cg = o.controlGrid === undefined ? [4, 4] : o.controlGrid;
    if (!Array.isArray(cg)) throw new TypeError(`${fn} options.controlGrid must be an array [rows, columns], got ${cg === null ? 'null' : typeof cg}`);
    if (cg.length !== 2) throw new RangeError(`${fn} options.controlGrid must be [rows, columns], got an array of length ${cg.length}`);
    out.gy = v.size(`${fn} options.controlGrid[0]`, cg[0], { min: 2, max: TPS_MAX_SIDE });
    out.gx = v.size(`${fn} options.controlGrid[1]`, cg[1], { min: 2, max: TPS_MAX_SIDE });
  }
  return out;
}

/**
 * The control points of a thin-plate spline with a gy×gx control grid (Float32Array gy·gx×2 of
 * (x, y), row-major over [-1, 1]²): the `points` that give the identity grid.
 */
export function tpsControlPoints(controlGrid = [4, 4]) {
  const { gy, gx } = options('tpsControlPoints', { controlGrid }, ['controlGrid']);
  const p = new Float32Array(gy * gx * 2);
  for (let i = 0; i < gy; i++) {
    for (let j = 0; j < gx; j++) {
      p[2 * (i * gx + j)] = -1 + (2 * j) / (gx - 1);
      p[2 * (i * gx + j) + 1] = -1 + (2 * i) / (gy - 1);
    }
  }
  return p;
}

export function makeGrids(core) {
  const x = core.x;
  return {
    tpsControlPoints,

    /** theta (N×3×3, a homography of (x, y, 1), then divided by the third coordinate) → grid (N×H×W×2) */
    projectiveGrid(theta, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, out } = options('projectiveGrid', opts, ['alignCorners', 'out']);
      v.count('grid', N, H, W, 2);
      const t = floats(core, 'theta', theta, [N, 3, 3], `${N}×3×3`);
      return kernelCall(core, PROJECTIVE_GRID, [t], [[N, H, W, 2]], out, (s, [pt], [pg]) => {
        core.check(x.gl_projective_grid(pg, pt, N, H, W, align), 'projectiveGrid');
      });
    },

    /** dGrid (N×H×W×2), theta (N×3×3) → dTheta (N×3×3) */
    projectiveGridBackward(dGrid, theta, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, out } = options('projectiveGridBackward', opts, ['alignCorners', 'out']);
      v.count('dGrid', N, H, W, 2);
      const dg = floats(core, 'dGrid', dGrid, [N, H, W, 2], `${N}×${H}×${W}×2`);
      const t = floats(core, 'theta', theta, [N, 3, 3], `${N}×3×3`);
      return kernelCall(core, PROJECTIVE_GRID_BACKWARD, [dg, t], [[N, 3, 3]], out, (s, [pg, pt], [pd]) => {
        core.check(x.gl_projective_grid_backward(pd, pg, pt, N, H, W, align), 'projectiveGridBackward');
      });
    },

    /**
     * points (N×K×2, where each of the K = gy·gx control points maps to) → grid (N×H×W×2): the
     * thin-plate spline through them (Jaderberg et al. 2015 §3.1; U(r) = r² log r²).
     */
    tpsGrid(points, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, gy, gx, out } = options('tpsGrid', opts, ['alignCorners', 'controlGrid', 'out']);
      v.count('grid', N, H, W, 2);
      const K = gy * gx;
      const p = floats(core, 'points', points, [N, K, 2], `${N}×${K}×2 (N × controlGrid ${gy}×${gx} × (x, y))`);
      return kernelCall(core, TPS_GRID, [p], [[N, H, W, 2]], out, (s, [pp], [pg]) => {
        core.check(x.gl_tps_grid(pg, pp, N, H, W, gy, gx, align), 'tpsGrid');
      });
    },

    /**
     * dGrid (N×H×W×2), points (N×K×2) → dPoints (N×K×2). The grid is linear in the points, so the
     * gradient does not depend on them; they are checked (shape) as the API's signature has them.
     */
    tpsGridBackward(dGrid, points, size, opts) {
      const [N, , H, W] = v.shape('size', size, 4, NCHW);
      const { align, gy, gx, out } = options('tpsGridBackward', opts, ['alignCorners', 'controlGrid', 'out']);
      v.count('dGrid', N, H, W, 2);
      const K = gy * gx;
      const dg = floats(core, 'dGrid', dGrid, [N, H, W, 2], `${N}×${H}×${W}×2`);
      const p = floats(core, 'points', points, [N, K, 2], `${N}×${K}×2 (N × controlGrid ${gy}×${gx} × (x, y))`);
      // points take part like any tensor argument (Tensor results only when every argument is one)
      return kernelCall(core, TPS_GRID_BACKWARD, [dg, p], [[N, K, 2]], out, (s, [pg], [pp]) => {
        core.check(x.gl_tps_grid_backward(pp, pg, N, H, W, gy, gx, align), 'tpsGridBackward');
      });
    },
  };
}
