// Type declarations for src/js/grid.js: g.stn's projective and thin-plate-spline grids.
import type { Tensor, Floats } from './tensor.js';
import type { AlignOptions, OutOption, Shape4 } from './stn.js';

/** Options of the thin-plate-spline grid. */
export interface TpsOptions extends AlignOptions {
  /** [rows, columns] of the regular grid of control points over [-1, 1]² (each 2..8; default [4, 4]). */
  controlGrid?: [number, number] | number[];
}

/** The control points of a gy×gx grid (gy·gx×2 of (x, y), row-major): the identity's `points`. */
export function tpsControlPoints(controlGrid?: [number, number] | number[]): Float32Array;

/**
 * Projective and thin-plate-spline grid generators (src/grid.c). size is [N, C, H, W] of the
 * output (C unused, as by affine_grid); grids are N×H×W×2 of (x, y) in normalised coordinates.
 */
export interface GridKernels {
  /** The control points of a gy×gx grid: the `points` of the identity thin-plate spline. */
  tpsControlPoints(controlGrid?: [number, number] | number[]): Float32Array;
  /** theta N×3×3 (a homography of (x, y, 1), then divided by the third coordinate) → grid N×H×W×2. */
  projectiveGrid(theta: Floats, size: Shape4, options: AlignOptions & OutOption<Tensor>): Tensor;
  projectiveGrid(theta: Tensor, size: Shape4, options?: AlignOptions): Tensor;
  projectiveGrid(theta: Floats, size: Shape4, options?: AlignOptions): Float32Array;
  /** dGrid N×H×W×2 and theta N×3×3 → dTheta N×3×3. */
  projectiveGridBackward(dGrid: Floats, theta: Floats, size: Shape4, options: AlignOptions & OutOption<Tensor>): Tensor;
  projectiveGridBackward(dGrid: Tensor, theta: Tensor, size: Shape4, options?: AlignOptions): Tensor;
  projectiveGridBackward(dGrid: Floats, theta: Floats, size: Shape4, options?: AlignOptions): Float32Array;
  /**
   * points N×K×2 (where each of the K = rows·columns control points maps to) → grid N×H×W×2: the
   * thin-plate spline through them (Jaderberg et al. 2015 §3.1, U(r) = r² log r²); points equal to
   * tpsControlPoints() give the identity grid.
   */
  tpsGrid(points: Floats, size: Shape4, options: TpsOptions & OutOption<Tensor>): Tensor;
  tpsGrid(points: Tensor, size: Shape4, options?: TpsOptions): Tensor;
  tpsGrid(points: Floats, size: Shape4, options?: TpsOptions): Float32Array;
  /** dGrid N×H×W×2 (and points N×K×2, shape-checked: the grid is linear in them) → dPoints N×K×2. */
  tpsGridBackward(dGrid: Floats, points: Floats, size: Shape4, options: TpsOptions & OutOption<Tensor>): Tensor;
  tpsGridBackward(dGrid: Tensor, points: Tensor, size: Shape4, options?: TpsOptions): Tensor;
  tpsGridBackward(dGrid: Floats, points: Floats, size: Shape4, options?: TpsOptions): Float32Array;
}
