/** Options of g.createNTM. Every option is optional. */
export interface NTMOptions {
  /** Bits per vector of the copy task (input width bits+1: the extra channel is the delimiter). Default 8. */
  bits?: number;
  /** [R, C]: memory rows × row width. Default [128, 20]. */
  memory?: [number, number] | number[];
  /** Controller size (LSTM hidden units or feed-forward units). Default 100. */
  controller?: number;
  /** 'lstm' (default) or 'feedforward' (one tanh layer). */
  controllerType?: 'lstm' | 'feedforward';
  /** Read and write heads: a number (that many of each) or { read, write }. Default 1 and 1. */
  heads?: number | { read?: number; write?: number };
  /** Shift range n: the shift weighting covers offsets −n..n. Default 1 (3 offsets). */
  shift?: number;
  /** Seed of the initialisation and of the training sequences (uint32). Default 0. */
  seed?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Maximum L2 norm of the gradient (0: no clipping). Default 10. */
  clipNorm?: number;
  /** Adam β1, β2. Defaults 0.9, 0.999. */
  beta1?: number;
  beta2?: number;
  /** The constant every memory cell starts at (Collier & Beel 2018). Default 1e-6. */
  memoryInit?: number;
  /** Learned initial read vectors and weightings (true, default) or fixed ones (r = 0, w on row 0). */
  learnInit?: boolean;
  /** Head parameters are clipped to ±paramClip before their activations (0: off). Default 20. */
  paramClip?: number;
}

export interface NTMConfig {
  bits: number;
  memory: [number, number];
  controller: number;
  controllerType: 'lstm' | 'feedforward';
  heads: { read: number; write: number };
  shift: number;
  seed: number;
  learningRate: number;
  clipNorm: number;
  beta1: number;
  beta2: number;
  memoryInit: number;
  learnInit: boolean;
  paramClip: number;
}

export interface CopyTaskOptions {
  /** Sequences per step. Default 16 (trainCopy), 32 (evaluateCopy). */
  batch?: number;
  /** Lengths are drawn uniformly from [minLength, maxLength], one per batch. Defaults 1 and max(20, minLength). */
  minLength?: number;
  maxLength?: number;
}

export interface CopyStats {
  /** Binary cross-entropy of the output phase, bits per sequence. */
  loss: number;
  /** Wrong output bits (probability on the wrong side of 0.5) per sequence. */
  bitErrors: number;
}

export interface TrainCopyResult extends CopyStats {
  /** The sequence length drawn for this step. */
  length: number;
  /** L2 norm of the gradient before clipping. */
  gradNorm: number;
}

export interface CopyResult extends CopyStats {
  /** length×bits output probabilities (the output phase). */
  output: Float32Array;
  /** steps×R read weightings (steps×readHeads×R with several read heads); null with traces: false. */
  readWeights: Float32Array | null;
  /** steps×R write weightings (steps×writeHeads×R with several write heads); null with traces: false. */
  writeWeights: Float32Array | null;
  /** steps×R×C: the memory after each step; null with traces: false. */
  memory: Float32Array | null;
  /** 2·length + 1: the inputs, the delimiter, then the blank output steps. */
  steps: number;
}

/** A Neural Turing Machine (Graves et al. 2014) that learns the copy task in wasm. */
export interface NTMModel {
  readonly config: Readonly<NTMConfig>;
  readonly bits: number;
  /** [R, C] */
  readonly memory: [number, number];
  readonly R: number;
  readonly C: number;
  readonly readHeads: number;
  readonly writeHeads: number;
  readonly parameterCount: number;
  readonly freed: boolean;
  /** Learning rate of the next steps (settable; saved with the model). */
  learningRate: number;
  /** One optimiser step on fresh random copy-task sequences. Throws (weights unchanged) on a non-finite loss. */
  trainCopy(options?: CopyTaskOptions): TrainCopyResult;
  /** Loss and wrong bits on `count` fresh sequences from the stream `seed`, no update. */
  evaluateCopy(options?: CopyTaskOptions & { count?: number; seed?: number }): CopyStats;
  /** Run the copy task on one sequence (length×bits, values in [0, 1]). */
  copy(sequence: Float32Array, length: number, options?: { traces?: boolean }): CopyResult;
  /** The weights in the versioned format (float32, or float16 with { float16: true }). */
  save(options?: { float16?: boolean }): Uint8Array;
  /** Release the wasm memory. Idempotent; any later call throws. */
  free(): void;
  [Symbol.dispose](): void;
}

export interface NtmModelFactory {
  createNTM(options?: NTMOptions): NTMModel;
  /** A model from the bytes of model.save(); malformed bytes throw an Error. */
  loadNTM(bytes: Uint8Array): NTMModel;
}

/** Build g.createNTM / g.loadNTM over one wasm core (used by load()). */
export function makeNtmModel(core: unknown): NtmModelFactory;
