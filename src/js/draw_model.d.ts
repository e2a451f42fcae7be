/** Options of g.createDRAW (defaults: DRAW_DEFAULTS, the settings of the shipped 'draw-mnist' model). */
export interface DRAWOptions {
  /** Glimpses (time steps), 1..256. */
  T?: number;
  /** Read patch side N (an N×N grid of Gaussian filters), with attention. */
  readN?: number;
  /** Write patch side N, with attention. */
  writeN?: number;
  /** LSTM size of the encoder and of the decoder. */
  hidden?: number;
  /** Size of z_t per step. */
  latent?: number;
  /** true: selective attention (eq. 19-29); false: the paper's baseline reading the whole image and writing a full canvas delta. */
  attention?: boolean;
  /** Image rows (B in the paper). */
  height?: number;
  /** Image columns (A in the paper). */
  width?: number;
  /** Seed of the initial weights and of the training noise (eps, stochastic binarisation). */
  seed?: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Maximum gradient L2 norm (clip_grad_norm_); 0 turns clipping off. Default 10. */
  clipNorm?: number;
  beta1?: number;
  beta2?: number;
  /** How images in [0, 1] become binary: 'threshold' (pixel > 0.5, default) or 'stochastic' (Bernoulli draws per training step; evaluation draws are seeded). Binary images are unchanged by either. */
  binarize?: 'threshold' | 'stochastic';
}

/** Loss terms in nats per image: loss = reconstruction (−log p(x | c_T)) + kl (summed over the steps). */
export interface DRAWLoss {
  loss: number;
  reconstruction: number;
  kl: number;
}

export declare const DRAW_DEFAULTS: Readonly<Required<DRAWOptions>>;

/** A DRAW model (Gregor et al. 2015) whose weights live in wasm memory. */
export declare class DRAWModel {
  /** The full configuration. */
  readonly config: Readonly<Required<DRAWOptions>>;
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
  /** The weights in the versioned format (float16 storage with { float16: true }). */
  save(options?: { float16?: boolean }): Uint8Array;
  /** Release the wasm memory (idempotent; later calls throw). */
  free(): void;
  [Symbol.dispose](): void;
}

export interface DRAWConstructors {
  createDRAW(options?: DRAWOptions): DRAWModel;
  /** A model from the bytes of save(); malformed bytes throw an Error. */
  loadDRAW(bytes: Uint8Array): DRAWModel;
}

export function makeDrawModel(core: unknown): DRAWConstructors;
