import type { Tensor, Floats, NoOut } from './tensor.js';

/** [batch, N, A, B]: batch items, an N×N grid of filters, images of B rows × A columns. */
export type DrawSize = [number, number, number, number] | number[];

/**
 * DRAW's selective attention (Gregor et al. 2015, eq. 19-29). `params` holds, per item, the five
 * raw attention outputs (g̃X, g̃Y, log σ², log δ̃, log γ). With 1-based i ∈ 1..N, a ∈ 1..A, b ∈ 1..B:
 * gX = (A+1)/2·(g̃X+1), gY = (B+1)/2·(g̃Y+1), δ = (max(A,B)−1)/max(N−1,1)·exp(log δ̃),
 * μX_i = gX + (i − N/2 − 0.5)·δ, Fx[i,a] = exp(−(a−μX_i)²/(2σ²)) / max(Σ_a′ exp(…), 1e−8) (likewise Fy).
 * log σ², log δ̃, log γ must lie in [−60, 60] and g̃X, g̃Y in [−1e6, 1e6] (RangeError otherwise).
 */
/** `{ out }`: write the results into existing Tensors of their shapes (returned). */
export interface DrawOut<O> {
  out: O;
}
export interface Filterbank<T> {
  Fx: T;
  Fy: T;
  gamma: T;
}
export interface ReadGradients<T> {
  dX: T;
  dXHat: T;
  dParams: T;
}
export interface WriteGradients<T> {
  dW: T;
  dParams: T;
}

/**
 * Every kernel takes Float32Arrays or Tensors (tensor.d.ts) for its tensor arguments: Tensors must
 * be of this instance, live, and of exactly the shape the size argument implies (params batch×5,
 * images batch×B×A, w batch×N×N, dRead batch×2×N×N). Results are Float32Arrays, or Tensors when every
 * tensor argument is a Tensor, or the `out` Tensors of the optional last argument `{ out }`.
 */
export interface DrawKernels {
  /** The filterbank: Fx batch×N×A, Fy batch×N×B, gamma batch. */
  filterbank(params: Floats, size: DrawSize, options: DrawOut<Filterbank<Tensor>>): Filterbank<Tensor>;
  filterbank(params: Tensor, size: DrawSize, options?: NoOut): Filterbank<Tensor>;
  filterbank(params: Floats, size: DrawSize, options?: NoOut): Filterbank<Float32Array>;
  /** (gX, gY, δ, σ², γ) per item in image units (1-based pixel coordinates), batch×5. */
  decode(params: Floats, size: DrawSize, options: DrawOut<Tensor>): Tensor;
  decode(params: Tensor, size: DrawSize, options?: NoOut): Tensor;
  decode(params: Floats, size: DrawSize, options?: NoOut): Float32Array;
  /** γ·[Fy·x·Fxᵀ, Fy·x̂·Fxᵀ], batch×2×N×N; x and xHat are batch×B×A. */
  read(x: Floats, xHat: Floats, params: Floats, size: DrawSize, options: DrawOut<Tensor>): Tensor;
  read(x: Tensor, xHat: Tensor, params: Tensor, size: DrawSize, options?: NoOut): Tensor;
  read(x: Floats, xHat: Floats, params: Floats, size: DrawSize, options?: NoOut): Float32Array;
  /** Gradients of read: dX, dXHat batch×B×A, dParams batch×5. */
  readBackward(dRead: Floats, x: Floats, xHat: Floats, params: Floats, size: DrawSize, options: DrawOut<ReadGradients<Tensor>>): ReadGradients<Tensor>;
  readBackward(dRead: Tensor, x: Tensor, xHat: Tensor, params: Tensor, size: DrawSize, options?: NoOut): ReadGradients<Tensor>;
  readBackward(dRead: Floats, x: Floats, xHat: Floats, params: Floats, size: DrawSize, options?: NoOut): ReadGradients<Float32Array>;
  /** (1/γ)·Fyᵀ·w·Fx, batch×B×A; w is batch×N×N. */
  write(w: Floats, params: Floats, size: DrawSize, options: DrawOut<Tensor>): Tensor;
  write(w: Tensor, params: Tensor, size: DrawSize, options?: NoOut): Tensor;
  write(w: Floats, params: Floats, size: DrawSize, options?: NoOut): Float32Array;
  /** Gradients of write: dW batch×N×N, dParams batch×5. */
  writeBackward(dCanvas: Floats, w: Floats, params: Floats, size: DrawSize, options: DrawOut<WriteGradients<Tensor>>): WriteGradients<Tensor>;
  writeBackward(dCanvas: Tensor, w: Tensor, params: Tensor, size: DrawSize, options?: NoOut): WriteGradients<Tensor>;
  writeBackward(dCanvas: Floats, w: Floats, params: Floats, size: DrawSize, options?: NoOut): WriteGradients<Float32Array>;
}

/** Build the namespace over one wasm core (used by load()). */
export function makeDraw(core: unknown, internal?: { reference?: boolean }): DrawKernels;
