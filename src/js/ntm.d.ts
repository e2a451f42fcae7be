/** [R, C]: memory rows × row width. */
export type NtmSize = [number, number] | number[];

/** The already-activated parameters of one addressing head. */
export interface NtmAddressParams {
  /** Memory M, R×C. */
  memory: Float32Array;
  /** Key k, length C. */
  key: Float32Array;
  /** Key strength, finite, ≥ 0. */
  beta: number;
  /** Interpolation gate, in [0, 1]. */
  gate: number;
  /** Shift weights for offsets −n..n: length 2n+1 (odd), entries ≥ 0 summing to 1 (within 1e−3). */
  shift: Float32Array;
  /** Sharpening exponent, finite, ≥ 1. */
  gamma: number;
  /** Previous weighting, length R, entries finite and ≥ 0. */
  prev: Float32Array;
}

export interface NtmAddressGradients {
  dMemory: Float32Array;
  dKey: Float32Array;
  dBeta: number;
  dGate: number;
  dShift: Float32Array;
  dGamma: number;
  dPrev: Float32Array;
}

/**
 * The Neural Turing Machine memory kernels (Graves et al. 2014, eq. 2-9):
 * K_i = M_i·k / max(‖M_i‖·‖k‖, 1e−8), wc = softmax(β·K), wg = g·wc + (1−g)·prev,
 * w̃(i) = Σ_{o=−n..n} wg((i−o) mod R)·shift(o+n), w = w̃^γ / Σ w̃^γ, computed as
 * softmax(γ·log(max(w̃, 1e−30))) so that it stays finite for any γ.
 */
export interface NtmKernels {
  /** The head's weighting w, length R. */
  address(params: NtmAddressParams, size: NtmSize): Float32Array;
  /** Gradients of Σ dW·w with respect to every input of address (scalars as numbers). */
  addressBackward(dW: Float32Array, params: NtmAddressParams, size: NtmSize): NtmAddressGradients;
  /** r = Σ_i w(i)·M_i, length C. */
  read(memory: Float32Array, w: Float32Array, size: NtmSize): Float32Array;
  /** The new memory M_i·(1 − w(i)·erase) + w(i)·add, R×C. */
  write(memory: Float32Array, w: Float32Array, erase: Float32Array, add: Float32Array, size: NtmSize): Float32Array;
}

/** Build the namespace over one wasm core (used by load()). */
export function makeNtm(core: unknown, internal?: { reference?: boolean; testing?: boolean }): NtmKernels;
