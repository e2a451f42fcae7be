// glimpse-wasm/tfjs: the Spatial Transformer kernels as differentiable TensorFlow.js ops.
// Only this entry refers to TF.js types (type-only, from @tensorflow/tfjs-core, which
// @tensorflow/tfjs depends on); the main entry 'glimpse-wasm' type-checks without TF.js installed.
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import type { AlignOptions, SampleOptions, Shape4, StnKernels } from './stn.js';

/** Interpolation of gridSample: g.stn's own type when it declares one, else the planned modes. */
type PlannedModes = 'bilinear' | 'nearest' | 'bicubic';
type ModeOf<T> = 'mode' extends keyof T ? (T extends { mode?: infer M } ? NonNullable<M> : PlannedModes) : PlannedModes;
export type SampleMode = ModeOf<SampleOptions>;

/** Options of ops.gridSample: g.stn.gridSample's, and `mode`, passed to g.stn only when given. */
export type TfjsSampleOptions = SampleOptions & {
  /** Interpolation, passed through to g.stn.gridSample (which refuses modes it does not have). */
  mode?: SampleMode;
};

/**
 * What tfjsOps uses of the TF.js module: @tensorflow/tfjs, or @tensorflow/tfjs-core with a backend
 * registered (version 4). Typed structurally, so any copy of TF.js 4 fits.
 */
export interface TfjsModule {
  customGrad: (...args: any[]) => any;
  tensor: (...args: any[]) => any;
  Tensor: abstract new (...args: any[]) => any;
  version_core?: string;
}

/** Differentiable ops on tf.Tensors, computed by the glimpse-wasm instance they were made from. */
export interface TfjsOps {
  /**
   * torch.nn.functional.affine_grid: theta N×2×3 → sampling grid N×H×W×2 of (x, y) in normalised
   * coordinates, for an output of size [N, C, H, W]. Differentiable in theta.
   */
  affineGrid(theta: Tensor, size: Shape4, options?: AlignOptions): Tensor4D;
  /**
   * torch.nn.functional.grid_sample: input N×C×H×W sampled at grid N×Ho×Wo×2 → N×C×Ho×Wo.
   * Differentiable in input and grid.
   */
  gridSample(input: Tensor, grid: Tensor, options?: TfjsSampleOptions): Tensor4D;
}

/**
 * The STN kernels of `g` (from glimpse-wasm's load()) as TF.js ops made with tf.customGrad, so
 * tf.grad, tf.variableGrads and optimizer.minimize differentiate through them. `tf` is the caller's
 * @tensorflow/tfjs module, or @tensorflow/tfjs-core (^4) with a backend and its gradients registered
 * (tfjs-core alone registers none for its own ops: import
 * '@tensorflow/tfjs-core/dist/register_all_gradients', or in Node '@tensorflow/tfjs-layers').
 * The ops read their inputs synchronously (dataSync): on a GPU backend every call downloads its
 * inputs and uploads its result. First-order gradients only.
 * @throws TypeError / RangeError for a bad or closed `g` or a `tf` that is not TF.js 4.
 */
export function tfjsOps(g: { stn: StnKernels }, tf: TfjsModule): TfjsOps;
