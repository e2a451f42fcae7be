import type { Tensor, Floats } from './tensor.js';
import type { GridKernels } from './grid.js';

/** Options shared by the STN kernels: torch's align_corners. */
export interface AlignOptions {
  /** -1/+1 are the centres of the corner pixels (true) or the outer edges of the image (false, default). */
  alignCorners?: boolean;
}
/**
 * torch.nn.functional.grid_sample's options. Grid values that are NaN or ±Inf give PyTorch 1.13's
 * results: with 'zeros' padding bilinear and bicubic outputs are NaN there (nearest gives 0) and the
 * grid gradient is NaN (bilinear: its x part where y is not finite, its y part where x is not);
 * 'border' and 'reflection' clip a NaN to pixel 0 (±Inf to the border pixel for 'border', to pixel 0
 * for 'reflection') so bilinear and nearest stay finite, while bicubic's weights, output and
 * gradients are NaN. One difference: PyTorch 1.13 crashes (segmentation fault) in the bilinear
 * backward with 'border' and a NaN, or 'reflection' and a NaN or ±Inf; here that backward treats the
 * point as its forward does (pixel 0 or the border pixel, zero grid gradient).
 */
export interface SampleOptions extends AlignOptions {
  /** What lies outside the image: 'zeros' (default), 'border' or 'reflection'. */
  padding?: 'zeros' | 'border' | 'reflection';
  /**
   * 'bilinear' (default); 'nearest' (the pixel at the coordinate rounded half to even; its grid
   * gradient is zero); 'bicubic' (cubic convolution, A = −0.75, over 4×4 pixels, the padding applied
   * to each tap as PyTorch does).
   */
  mode?: 'bilinear' | 'nearest' | 'bicubic';
}
/** `{ out }`: write a result into an existing Tensor of its shape (returned). */
export interface OutOption<O> {
  out: O;
}
/** dInput N×C×H×W and dGrid N×Ho×Wo×2. */
export interface SampleGradients<T> {
  dInput: T;
  dGrid: T;
}
/** [N, C, H, W] */
export type Shape4 = [number, number, number, number] | number[];
/** [Ho, Wo] */
export type Shape2 = [number, number] | number[];

/** Spatial Transformer kernels with the semantics of torch.nn.functional.affine_grid / grid_sample. */
/** Controls of an affine map: rotation in degrees, scale, shift in normalised coordinates. */
export interface AffineControls {
  rotation?: number;
  scale?: number;
  tx?: number;
  ty?: number;
}
/** theta (2×3) rotating by `rotation` degrees, scaling by `scale` and shifting by (tx, ty). */
export function affineTheta(options?: AffineControls): Float32Array;

/**
 * Every kernel takes Float32Arrays or Tensors (tensor.d.ts) for its tensor arguments: Tensors must
 * be of this instance, live, and of exactly the shape the size arguments imply. Results are
 * Float32Arrays, or Tensors when every tensor argument is a Tensor, or the `out` Tensors.
 */
export interface StnKernels extends GridKernels {
  /** theta (2×3) rotating by `rotation` degrees, scaling by `scale` and shifting by (tx, ty). */
  affineTheta(options?: AffineControls): Float32Array;
  /** theta N×2×3 → sampling grid N×H×W×2 of (x, y) in normalised coordinates. */
  affineGrid(theta: Floats, size: Shape4, options: AlignOptions & OutOption<Tensor>): Tensor;
  affineGrid(theta: Tensor, size: Shape4, options?: AlignOptions): Tensor;
  affineGrid(theta: Floats, size: Shape4, options?: AlignOptions): Float32Array;
  /** dGrid N×H×W×2 → dTheta N×2×3. */
  affineGridBackward(dGrid: Floats, size: Shape4, options: AlignOptions & OutOption<Tensor>): Tensor;
  affineGridBackward(dGrid: Tensor, size: Shape4, options?: AlignOptions): Tensor;
  affineGridBackward(dGrid: Floats, size: Shape4, options?: AlignOptions): Float32Array;
  /** input N×C×H×W sampled at grid N×Ho×Wo×2 (bilinear, nearest or bicubic) → output N×C×Ho×Wo. */
  gridSample(input: Floats, size: Shape4, grid: Floats, outSize: Shape2, options: SampleOptions & OutOption<Tensor>): Tensor;
  gridSample(input: Tensor, size: Shape4, grid: Tensor, outSize: Shape2, options?: SampleOptions): Tensor;
  gridSample(input: Floats, size: Shape4, grid: Floats, outSize: Shape2, options?: SampleOptions): Float32Array;
  /** Gradients of gridSample: dInput N×C×H×W and dGrid N×Ho×Wo×2 (zero for nearest). */
  gridSampleBackward(
    dOutput: Floats,
    input: Floats,
    size: Shape4,
    grid: Floats,
    outSize: Shape2,
    options: SampleOptions & OutOption<SampleGradients<Tensor>>,
  ): SampleGradients<Tensor>;
  gridSampleBackward(
    dOutput: Tensor,
    input: Tensor,
    size: Shape4,
    grid: Tensor,
    outSize: Shape2,
    options?: SampleOptions,
  ): SampleGradients<Tensor>;
  gridSampleBackward(
    dOutput: Floats,
    input: Floats,
    size: Shape4,
    grid: Floats,
    outSize: Shape2,
    options?: SampleOptions,
  ): SampleGradients<Float32Array>;
}
