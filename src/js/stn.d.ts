/** Options shared by the STN kernels: torch's align_corners. */
export interface AlignOptions {
  /** -1/+1 are the centres of the corner pixels (true) or the outer edges of the image (false, default). */
  alignCorners?: boolean;
}
export interface SampleOptions extends AlignOptions {
  /** What lies outside the image: 'zeros' (default), 'border' or 'reflection'. */
  padding?: 'zeros' | 'border' | 'reflection';
}
/** [N, C, H, W] */
export type Shape4 = [number, number, number, number] | number[];
/** [Ho, Wo] */
export type Shape2 = [number, number] | number[];

/** Spatial Transformer kernels with the semantics of torch.nn.functional.affine_grid / grid_sample (bilinear). */
/** Controls of an affine map: rotation in degrees, scale, shift in normalised coordinates. */
export interface AffineControls {
  rotation?: number;
  scale?: number;
  tx?: number;
  ty?: number;
}
/** theta (2×3) rotating by `rotation` degrees, scaling by `scale` and shifting by (tx, ty). */
export function affineTheta(options?: AffineControls): Float32Array;

export interface StnKernels {
  /** theta (2×3) rotating by `rotation` degrees, scaling by `scale` and shifting by (tx, ty). */
  affineTheta(options?: AffineControls): Float32Array;
  /** theta N×2×3 → sampling grid N×H×W×2 of (x, y) in normalised coordinates. */
  affineGrid(theta: Float32Array, size: Shape4, options?: AlignOptions): Float32Array;
  /** dGrid N×H×W×2 → dTheta N×2×3. */
  affineGridBackward(dGrid: Float32Array, size: Shape4, options?: AlignOptions): Float32Array;
  /** input N×C×H×W sampled bilinearly at grid N×Ho×Wo×2 → output N×C×Ho×Wo. */
  gridSample(input: Float32Array, size: Shape4, grid: Float32Array, outSize: Shape2, options?: SampleOptions): Float32Array;
  /** Gradients of gridSample: dInput N×C×H×W and dGrid N×Ho×Wo×2. */
  gridSampleBackward(
    dOutput: Float32Array,
    input: Float32Array,
    size: Shape4,
    grid: Float32Array,
    outSize: Shape2,
    options?: SampleOptions,
  ): { dInput: Float32Array; dGrid: Float32Array };
}
