import type { Tensor, Floats, NoOut } from './tensor.js';

/** [R, C]: memory rows × row width. */
export type NtmSize = [number, number] | number[];

/** The already-activated parameters of one addressing head (tensors as Float32Arrays or Tensors). */
export interface NtmAddressParams<T extends Floats = Floats> {
  /** Memory M, R×C. */
  memory: T;
  /** Key k, length C. */
  key: T;
  /** Key strength, finite, ≥ 0. */
  beta: number;
  /** Interpolation gate, in [0, 1]. */
  gate: number;
  /** Shift weights for offsets −n..n: length 2n+1 (odd), entries ≥ 0 summing to 1 (within 1e−3). */
  shift: T;
  /** Sharpening exponent, finite, ≥ 1. */
  gamma: number;
  /** Previous weighting, length R, entries finite and ≥ 0. */
  prev: T;
}

export interface NtmAddressGradients<T = Float32Array> {
  dMemory: T;
  dKey: T;
  dBeta: number;
  dGate: number;
  dShift: T;
  dGamma: number;
  dPrev: T;
}
/** The Tensors `{ out }` writes addressBackward's tensor gradients into. */
export interface NtmAddressGradientsOut {
  dMemory: Tensor;
  dKey: Tensor;
  dShift: Tensor;
  dPrev: Tensor;
}
/** `{ out }`: write the results into existing Tensors of their shapes (returned). */
export interface NtmOut<O> {
  out: O;
}

/**
 * The Neural Turing Machine memory kernels (Graves et al. 2014, eq. 2-9). Tensor arguments are
 * Float32Arrays or Tensors (tensor.d.ts); results are Tensors when every tensor argument is one, or
 * the `out` Tensors of the optional last argument `{ out }`:
 * K_i = M_i·k / max(‖M_i‖·‖k‖, 1e−8), wc = softmax(β·K), wg = g·wc + (1−g)·prev,
 * w̃(i) = Σ_{o=−n..n} wg((i−o) mod R)·shift(o+n), w = w̃^γ / Σ w̃^γ, computed as
 * softmax(γ·log(max(w̃, 1e−30))) so that it stays finite for any γ.
 */
export interface NtmKernels {
  /** The head's weighting w, length R. */
  address(params: NtmAddressParams, size: NtmSize, options: NtmOut<Tensor>): Tensor;
  address(params: NtmAddressParams<Tensor>, size: NtmSize, options?: NoOut): Tensor;
  address(params: NtmAddressParams, size: NtmSize, options?: NoOut): Float32Array;
  /** Gradients of Σ dW·w with respect to every input of address (scalars as numbers). */
  addressBackward(dW: Floats, params: NtmAddressParams, size: NtmSize, options: NtmOut<NtmAddressGradientsOut>): NtmAddressGradients<Tensor>;
  addressBackward(dW: Tensor, params: NtmAddressParams<Tensor>, size: NtmSize, options?: NoOut): NtmAddressGradients<Tensor>;
  addressBackward(dW: Floats, params: NtmAddressParams, size: NtmSize, options?: NoOut): NtmAddressGradients;
  /** r = Σ_i w(i)·M_i, length C. */
  read(memory: Floats, w: Floats, size: NtmSize, options: NtmOut<Tensor>): Tensor;
  read(memory: Tensor, w: Tensor, size: NtmSize, options?: NoOut): Tensor;
  read(memory: Floats, w: Floats, size: NtmSize, options?: NoOut): Float32Array;
  /** The new memory M_i·(1 − w(i)·erase) + w(i)·add, R×C (`out` may not be `memory`). */
  write(memory: Floats, w: Floats, erase: Floats, add: Floats, size: NtmSize, options: NtmOut<Tensor>): Tensor;
  write(memory: Tensor, w: Tensor, erase: Tensor, add: Tensor, size: NtmSize, options?: NoOut): Tensor;
  write(memory: Floats, w: Floats, erase: Floats, add: Floats, size: NtmSize, options?: NoOut): Float32Array;
}

/** Build the namespace over one wasm core (used by load()). */
export function makeNtm(core: unknown, internal?: { reference?: boolean; testing?: boolean }): NtmKernels;
