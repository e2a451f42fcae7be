import type { StnKernels } from './stn.js';
export type { StnKernels, AlignOptions, SampleOptions, Shape4, Shape2 } from './stn.js';
import type { STNOptions, STNModel } from './stn_model.js';
export type { STNOptions, STNModel, STNConfig } from './stn_model.js';

export interface LoadOptions {
  /** false forces the scalar build; true requires SIMD (throws where the engine lacks it). Default: SIMD where supported. */
  simd?: boolean;
}

/** One instantiated wasm core. Several load() calls give independent instances. */
export interface Glimpse {
  /** True when the SIMD build runs. */
  readonly simd: boolean;
  /** 'simd' or 'scalar'. */
  readonly build: 'simd' | 'scalar';
  readonly stn: StnKernels;
  /** A new STN classifier (the PyTorch tutorial's architecture by default; see STNOptions). */
  createSTN(options?: STNOptions): STNModel;
  /** An STN from the bytes of model.save(); malformed bytes throw an Error. */
  loadSTN(bytes: Uint8Array): STNModel;
  /** Bytes of wasm memory currently reserved by this instance. */
  memoryBytes(): number;
}

/** True when this engine validates wasm SIMD. */
export function simdSupported(): boolean;
/** Instantiate the wasm core (SIMD build where supported, else scalar). */
export function load(options?: LoadOptions): Promise<Glimpse>;
