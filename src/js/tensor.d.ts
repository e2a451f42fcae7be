/**
 * An N-dimensional float32 array (row-major) that lives in one instance's wasm memory: made by
 * g.tensor(data, shape) or g.zeros(shape), accepted by every kernel of g.stn, g.draw and g.ntm
 * wherever a Float32Array is. When every tensor argument of a kernel is a Tensor its results are
 * Tensors too (no copies in or out); `{ out }` writes into existing Tensors. free() releases the
 * memory (or `using t = g.tensor(...)`); any use after free() throws. A Tensor that becomes
 * unreachable without free() is freed by the garbage collector eventually.
 */
export interface Tensor {
  /** The shape, a frozen array of positive integers. */
  readonly shape: readonly number[];
  /** Number of elements (the product of the shape). */
  readonly size: number;
  /** True once free() was called (the only member that does not throw then). */
  readonly freed: boolean;
  /** A fresh Float32Array copy of the elements. */
  toArray(): Float32Array;
  /** Copy `data` (exactly `size` elements) in; returns the tensor. */
  set(data: Float32Array): this;
  /** Release the wasm memory. Idempotent. */
  free(): void;
  [Symbol.dispose](): void;
}

/** A tensor argument: a Float32Array (copied in for the call) or a Tensor (used in place). */
export type Floats = Float32Array | Tensor;
/** Kernel options without `out`. */
export interface NoOut {
  out?: undefined;
}

/** g.tensor / g.zeros. */
export interface TensorConstructors {
  /** A Tensor holding a copy of `data`; shape defaults to [data.length] and must hold data.length elements. */
  tensor(data: Float32Array, shape?: readonly number[]): Tensor;
  /** A Tensor of the given shape (1 to 8 positive sizes, at most 2^28 elements) filled with zeros. */
  zeros(shape: readonly number[]): Tensor;
}

/** Build g.tensor / g.zeros over one wasm core (used by load()). */
export function makeTensors(core: unknown): TensorConstructors;
