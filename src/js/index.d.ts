import type { StnKernels } from './stn.js';
import type { DrawKernels } from './draw.js';
import type { NtmKernels } from './ntm.js';
import type { DistortFunction } from './data.js';
import type { STNConstructors, STNModel } from './stn_model.js';
import type { DRAWConstructors, DRAWModel } from './draw_model.js';
import type { NtmModelFactory, NTMModel } from './ntm_model.js';
import type { TensorConstructors } from './tensor.js';

export type { StnKernels, AlignOptions, SampleOptions, Shape4, Shape2, SampleGradients, OutOption } from './stn.js';
export type { Tensor, Floats, TensorConstructors } from './tensor.js';
export type { DrawKernels, DrawSize, Filterbank, ReadGradients, WriteGradients } from './draw.js';
export type { NtmKernels, NtmSize, NtmAddressParams, NtmAddressGradients, NtmAddressGradientsOut } from './ntm.js';
export type { STNOptions, STNConfig, STNModel } from './stn_model.js';
export type { DRAWOptions, DRAWLoss, DRAWModel } from './draw_model.js';
export type { NTMOptions, NTMConfig, NTMModel, CopyTaskOptions, CopyStats, TrainCopyResult, CopyResult, NTMTask, TaskOptions, TaskSizes, TrainTaskResult, EvaluateTaskResult, TaskExample, RunTaskResult } from './ntm_model.js';
export type {
  Mnist,
  StandardMnist,
  UrlLike,
  MnistSplit,
  LoadMnistOptions,
  Idx,
  IdxType,
  DistortionKind,
  DistortOptions,
  Distorted,
  DistortFunction,
} from './data.js';
export { loadMnist, loadStandardMnist, parseIdx, loadIdx } from './data.js';
export type { TrainForResult, SchemaOption, SaveOptions } from './model.js';
export type { AffineControls } from './stn.js';
export type { GridKernels, TpsOptions } from './grid.js';
import type { SchemaOption } from './model.js';
import type { STNOptions } from './stn_model.js';
import type { DRAWOptions } from './draw_model.js';
import type { NTMOptions } from './ntm_model.js';

/** A deterministic generator of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number;

export interface LoadOptions {
  /** false forces the scalar build; true requires SIMD (throws where the engine lacks it). Default: SIMD where supported. */
  simd?: boolean;
  /**
   * Threads the instance may use (1..16), or 'auto' (default): min(cores, 8) in Node and in a
   * cross-origin-isolated Web Worker, else 1. Results never depend on the count.
   */
  threads?: number | 'auto';
}

/** Names of the models whose weights ship in the package. */
export type PretrainedName = 'stn-mnist' | 'draw-mnist' | 'ntm-copy' | 'ntm-repeat-copy' | 'ntm-recall';

/** One instantiated wasm core. Several load() calls give independent instances. */
export interface Glimpse extends STNConstructors, DRAWConstructors, NtmModelFactory, TensorConstructors {
  /** True when the SIMD build runs. */
  readonly simd: boolean;
  /** 'simd', 'scalar' or 'simd-threads' (the SIMD build on a shared memory). */
  readonly build: 'simd' | 'scalar' | 'simd-threads';
  /** Threads in use, the calling thread included. */
  readonly threads: number;
  /** '' when the instance has the threads it was asked for, else a sentence saying why fewer. */
  readonly threadsReason: string;
  /** End the instance: its worker threads stop; any later call on it or its models throws. Idempotent. */
  close(): void;
  /** Spatial Transformer kernels (torch affine_grid / grid_sample semantics). */
  readonly stn: StnKernels;
  /** DRAW attention kernels (Gregor et al. 2015, eq. 19-29). */
  readonly draw: DrawKernels;
  /** Neural Turing Machine memory kernels (Graves et al. 2014, eq. 2-9). */
  readonly ntm: NtmKernels;
  /** The STN paper's distortions (R, RTS, P, E, T), seeded. */
  readonly distort: DistortFunction;
  /** The distortion kinds as the C core describes them: output side (height = width) and parameters. */
  readonly distortions: Readonly<Record<'R' | 'RTS' | 'P' | 'E' | 'T', { readonly side: number; readonly description: string }>>;
  /** Every model's options as the C core declares them: name, type, range, default, doc. */
  readonly schema: { readonly STN: readonly SchemaOption[]; readonly DRAW: readonly SchemaOption[]; readonly NTM: readonly SchemaOption[] };
  /** The fixed defaults of every model's options (derived ones, e.g. STN's outputSize, left out). */
  readonly defaults: { readonly STN: Readonly<STNOptions>; readonly DRAW: Readonly<DRAWOptions>; readonly NTM: Readonly<NTMOptions> };
  /** A model built from the weights shipped in the package. */
  pretrained(name: 'stn-mnist'): Promise<STNModel>;
  pretrained(name: 'draw-mnist'): Promise<DRAWModel>;
  pretrained(name: 'ntm-copy' | 'ntm-repeat-copy' | 'ntm-recall'): Promise<NTMModel>;
  /** For a name only known as a PretrainedName (e.g. from a list): narrow the result with its .kind. */
  pretrained(name: PretrainedName): Promise<STNModel | DRAWModel | NTMModel>;
  /** Bytes of wasm memory currently reserved by this instance. */
  memoryBytes(): number;
}

/** True when this engine validates wasm SIMD. */
export function simdSupported(): boolean;
/** Instantiate the wasm core (SIMD build where supported, else scalar). */
export function load(options?: LoadOptions): Promise<Glimpse>;
