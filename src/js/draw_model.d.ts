import type { TrainForResult, SaveOptions } from './model.js';
// <generated from the C schema by scripts/gen_types.js: do not edit by hand>
/** Options of g.createDRAW; every one is optional. Declared in the C core's schema (g.schema.DRAW). */
export interface DRAWOptions {
  /** Glimpses (time steps) (default 16; 1..256). */
  T?: number;
  /** Read patch size N (an N x N grid of filters) (default 8; 1..64). */
  readN?: number;
  /** Write patch size N (default 10; 1..64). */
  writeN?: number;
  /** LSTM size of the encoder and of the decoder (default 128; 1..4096). */
  hidden?: number;
  /** Size of the latent z_t (default 32; 1..4096). */
  latent?: number;
  /** Selective attention (true) or the paper's no-attention baseline (false) (default true). */
  attention?: boolean;
  /** Image rows (default 28; 2..512). */
  height?: number;
  /** Image columns (default 28; 2..512). */
  width?: number;
  /** Seed of the initialisation, eps and binarisation draws (default 0; 0..4294967295). */
  seed?: number;
  /** Adam learning rate (default 0.001; 1e-12..100). */
  learningRate?: number;
  /** Clip the gradient to this L2 norm (0 = off) (default 10; 0..1e+30). */
  clipNorm?: number;
  /** Adam's beta1 (default 0.9; 0..0.9999). */
  beta1?: number;
  /** Adam's beta2 (default 0.999; 0..0.999999). */
  beta2?: number;
  /** 'threshold' (pixel > 0.5) or 'stochastic' (a fresh Bernoulli draw per training step) (default 'threshold'). */
  binarize?: 'threshold' | 'stochastic';
}

/** The full configuration of a model (its options with defaults and derived values filled in). */
export interface DRAWConfig {
  readonly T: number;
  readonly readN: number;
  readonly writeN: number;
  readonly hidden: number;
  readonly latent: number;
  readonly attention: boolean;
  readonly height: number;
  readonly width: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly binarize: 'threshold' | 'stochastic';
}
// </generated>

/** Loss terms in nats per image: loss = reconstruction (−log p(x | c_T)) + kl (summed over the steps). */
export interface DRAWLoss {
  loss: number;
  reconstruction: number;
  kl: number;
}

/** A DRAW model (Gregor et al. 2015) whose weights live in wasm memory. */
export interface DRAWModel {
  /** The model kind: 'DRAW'. */
  readonly kind: 'DRAW';
  /** The full configuration. */
  readonly config: DRAWConfig;
  /** Number of glimpses T. */
  readonly steps: number;
  readonly height: number;
  readonly width: number;
  readonly attention: boolean;
  readonly parameterCount: number;
  readonly freed: boolean;
  /** Learning rate of the next steps (saved with the model). */
  learningRate: number;
  /** One Adam step on images (count×height×width in [0, 1]). Throws (weights unchanged) on a non-finite loss or gradient. */
  trainBatch(images: Float32Array): DRAWLoss & { gradNorm: number };
  /** The bound without an update; eps seeded by options.seed (default 0). */
  loss(images: Float32Array, options?: { seed?: number }): DRAWLoss;
  /**
   * Samples from the prior, decoder only. canvases: steps×count×height×width probabilities;
   * write: steps×count×5 (gX, gY, δ, σ², γ) in image units, null without attention.
   */
  generate(options?: { count?: number; seed?: number }): { steps: number; canvases: Float32Array; write: Float32Array | null };
  /** The full pass: per-step canvases and the read / write attention (null without attention). */
  reconstruct(
    images: Float32Array,
    options?: { seed?: number },
  ): { steps: number; canvases: Float32Array; read: Float32Array | null; write: Float32Array | null };
  /** Train for about `ms` ms of wall clock (at least one step) on nextBatch(step) (images). */
  trainFor(
    ms: number,
    nextBatch: (step: number) => Float32Array,
    onStep?: (result: DRAWLoss & { gradNorm: number }, step: number) => void,
  ): TrainForResult<DRAWLoss & { gradNorm: number }>;
  /** The weights and configuration: glimpse format (optionally float16 or a checkpoint) or safetensors (SaveOptions). */
  save(options?: SaveOptions): Uint8Array;
  /** Release the wasm memory (idempotent; later calls throw). */
  free(): void;
  [Symbol.dispose](): void;
}

export interface DRAWConstructors {
  createDRAW(options?: DRAWOptions): DRAWModel;
  /** A model from the bytes of save() (either format) or a safetensors file written elsewhere; malformed bytes throw an Error. */
  loadDRAW(bytes: Uint8Array): DRAWModel;
}

export function makeDrawModel(core: unknown): DRAWConstructors;
