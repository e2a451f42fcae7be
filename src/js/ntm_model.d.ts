import type { TrainForResult, SaveOptions } from './model.js';
// <generated from the C schema by scripts/gen_types.js: do not edit by hand>
/** Options of g.createNTM; every one is optional. Declared in the C core's schema (g.schema.NTM). */
export interface NTMOptions {
  /** Bits per vector of the task (default 8; 6 for 'recall', as the paper; 'ngrams' reads one bit per step: 1) (1..256). */
  bits?: number;
  /** `memory.0`: Memory rows R (default 128; 1..4096). `memory.1`: Memory row width C (default 20; 1..1024). */
  memory?: [number, number] | number[];
  /** Controller size (default 100; 1..4096). */
  controller?: number;
  /** 'lstm' or 'feedforward' (h = tanh(W [x, r] + b)) (default 'lstm'). */
  controllerType?: 'lstm' | 'feedforward';
  /** `heads.read`: Read heads (default 1; 1..16). `heads.write`: Write heads (default 1; 1..16). */
  heads?: number | { read?: number; write?: number };
  /** Shift range n: offsets -n..n (2n+1 <= R) (default 1; 0..64). */
  shift?: number;
  /** Seed of the initialisation and of the training data (default 0; 0..4294967295). */
  seed?: number;
  /** Adam learning rate (default 0.001; 1e-12..10). */
  learningRate?: number;
  /** Clip the gradient to this L2 norm (0 = off) (default 10; 0..1e+30). */
  clipNorm?: number;
  /** Adam's beta1 (default 0.9; 0..0.9999). */
  beta1?: number;
  /** Adam's beta2 (default 0.999; 0..0.999999). */
  beta2?: number;
  /** The constant initial memory value (Collier & Beel: 1e-6) (default 0.000001; -1..1). */
  memoryInit?: number;
  /** Learned initial read vectors and weightings (true) or fixed ones (false) (default true). */
  learnInit?: boolean;
  /** Head parameters clipped to +-paramClip before their activations (0 = off) (default 20; 0..1000000). */
  paramClip?: number;
  /** The task of the paper's sec. 4 the model learns: its inputs, targets and output phase (default 'copy'). */
  task?: 'copy' | 'repeat-copy' | 'recall' | 'sort' | 'ngrams';
  /** 'ntm', or 'lstm': the LSTM controller alone, no memory or heads (the paper's LSTM baseline) (default 'ntm'). */
  architecture?: 'ntm' | 'lstm';
}

/** The full configuration of a model (its options with defaults and derived values filled in). */
export interface NTMConfig {
  readonly bits: number;
  readonly memory: readonly [number, number];
  readonly controller: number;
  readonly controllerType: 'lstm' | 'feedforward';
  readonly heads: { readonly read: number; readonly write: number };
  readonly shift: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly memoryInit: number;
  readonly learnInit: boolean;
  readonly paramClip: number;
  readonly task: 'copy' | 'repeat-copy' | 'recall' | 'sort' | 'ngrams';
  readonly architecture: 'ntm' | 'lstm';
}
// </generated>

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
  /** '' unless length exceeds the memory's R rows: then a sentence saying the sequence cannot fit (the run still happens). */
  warning: string;
}

export type NTMTask = NTMConfig['task'];

/**
 * The sizes a task's examples are drawn from (each a range or a fixed size; defaults: the paper's
 * training settings). Only the keys of the model's task are accepted.
 */
export interface TaskOptions {
  /** copy (default 1-20), repeat-copy (default 1-10): vectors per sequence, uniform in [minLength, maxLength]. */
  minLength?: number;
  maxLength?: number;
  /** repeat-copy: copies to output, uniform in [minRepeats, maxRepeats] (default 1-10). */
  minRepeats?: number;
  maxRepeats?: number;
  /** recall: items per episode, uniform in [minItems, maxItems] (default 2-6, at least 2). */
  minItems?: number;
  maxItems?: number;
  /** recall: vectors per item (default 3). */
  itemLength?: number;
  /** sort: input vectors (default 20); ngrams: bits per sequence (default 200). */
  length?: number;
  /** sort: output vectors, the highest priorities (default 16, at most length). */
  outputLength?: number;
}

/** The sizes of an example (the keys of its task). */
export interface TaskSizes {
  /** copy, repeat-copy, sort: vectors; ngrams: bits. */
  length?: number;
  /** repeat-copy */
  repeats?: number;
  /** recall */
  items?: number;
  itemLength?: number;
  /** sort */
  outputLength?: number;
}

export interface TrainTaskResult {
  /** Binary cross-entropy of the output phase, bits per sequence. */
  loss: number;
  /** Wrong output bits per sequence. */
  bitErrors: number;
  /** Fraction of the batch's sequences with at least one wrong bit. */
  wrongSequences: number;
  /** L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Steps of this batch's examples. */
  steps: number;
  /** The sizes drawn for this batch: copy length; repeat-copy length and repeats; recall items. */
  length?: number;
  repeats?: number;
  items?: number;
}

export interface EvaluateTaskResult {
  /** Bits per sequence (binary cross-entropy of the output phase). */
  loss: number;
  /** Wrong output bits per sequence (recall: per query). */
  bitErrorsPerSequence: number;
  /** Fraction of the sequences with at least one wrong bit. */
  wrongSequences: number;
  /** Sequences evaluated. */
  count: number;
  /** ngrams: the Bayes-optimal predictor's bits per sequence on the same sequences. */
  bayesLoss?: number;
  /** '' unless a copy / repeat-copy sequence can be longer than the memory's R rows. */
  warning: string;
}

/** One example of a task: give it (edited or not) to runTask; its target always follows from its input. */
export interface TaskExample {
  task: NTMTask;
  /** steps×inputWidth */
  input: Float32Array;
  /** steps×outputWidth, zero outside the output phase. */
  target: Float32Array;
  /** steps: 1 at the output phase (the steps the loss counts), else 0. */
  mask: Float32Array;
  steps: number;
  inputWidth: number;
  outputWidth: number;
  sizes: TaskSizes;
  /** recall: the index of the queried item (its successor is the answer). */
  query?: number;
  /** ngrams: per step, the Bayes-optimal probability that the target bit is 1. */
  bayes?: Float32Array;
  /** ngrams: that predictor's bits on this sequence. */
  bayesLoss?: number;
}

export interface RunTaskResult extends TaskExample {
  /** steps×outputWidth output probabilities at every step. */
  output: Float32Array;
  /** steps×readHeads×R; null for architecture 'lstm' or with traces: false. */
  readWeights: Float32Array | null;
  /** steps×writeHeads×R; null likewise. */
  writeWeights: Float32Array | null;
  /** steps×R×C: the memory after each step; null likewise. */
  memory: Float32Array | null;
  /** Bits over the output phase. */
  loss: number;
  bitErrors: number;
  /** No wrong bit. */
  correct: boolean;
  warning: string;
}

/** A Neural Turing Machine (Graves et al. 2014) that learns one task of the paper in wasm (or, with architecture 'lstm', the paper's LSTM baseline). */
export interface NTMModel {
  /** The model kind: 'NTM'. */
  readonly kind: 'NTM';
  readonly config: Readonly<NTMConfig>;
  readonly task: NTMTask;
  readonly architecture: 'ntm' | 'lstm';
  /** Widths of the task's input and output steps (from the task and bits). */
  readonly inputWidth: number;
  readonly outputWidth: number;
  readonly bits: number;
  /** [R, C] */
  readonly memory: [number, number];
  readonly R: number;
  readonly C: number;
  /** 0 for architecture 'lstm'. */
  readonly readHeads: number;
  readonly writeHeads: number;
  readonly parameterCount: number;
  readonly freed: boolean;
  /** Learning rate of the next steps (settable; saved with the model). */
  learningRate: number;
  /** One optimiser step on fresh random copy-task sequences. Throws (weights unchanged) on a non-finite loss. */
  trainCopy(options?: CopyTaskOptions): TrainCopyResult;
  /** Loss and wrong bits on `count` fresh sequences from the stream `seed`, no update. */
  evaluateCopy(options?: CopyTaskOptions & { count?: number; seed?: number }): CopyStats & { warning: string };
  /** Run the copy task on one sequence (length×bits, values in [0, 1]). */
  copy(sequence: Float32Array, length: number, options?: { traces?: boolean }): CopyResult;
  /** One optimiser step on `batch` fresh examples of the model's task. Throws (weights unchanged) on a non-finite loss. */
  trainTask(options?: TaskOptions & { batch?: number }): TrainTaskResult;
  /** Loss and wrong bits on `count` fresh examples from the stream `seed`, no update. */
  evaluateTask(options?: TaskOptions & { batch?: number; count?: number; seed?: number }): EvaluateTaskResult;
  /** One example from the stream `seed` (the first evaluateTask({ seed }) sees). */
  taskExample(options?: TaskOptions & { seed?: number }): TaskExample;
  /** Run one example (its target from its input by the task's rules), or a fresh one of taskExample's options. */
  runTask(example: { input: Float32Array } | TaskExample | (TaskOptions & { seed?: number }), options?: { traces?: boolean }): RunTaskResult;
  /** Train for about `ms` ms of wall clock (at least one step) on trainCopy(nextBatch(step)) (copy models) or trainTask(nextBatch(step)). */
  trainFor(
    ms: number,
    nextBatch: (step: number) => CopyTaskOptions | (TaskOptions & { batch?: number }),
    onStep?: (result: TrainCopyResult & TrainTaskResult, step: number) => void,
  ): TrainForResult<TrainCopyResult & TrainTaskResult>;
  /** The weights and configuration: glimpse format (optionally float16 or a checkpoint) or safetensors (SaveOptions). */
  save(options?: SaveOptions): Uint8Array;
  /** Release the wasm memory. Idempotent; any later call throws. */
  free(): void;
  [Symbol.dispose](): void;
}

export interface NtmModelFactory {
  createNTM(options?: NTMOptions): NTMModel;
  /** A model from the bytes of model.save() (either format) or a safetensors file written elsewhere; malformed bytes throw an Error. */
  loadNTM(bytes: Uint8Array): NTMModel;
}

/** Build g.createNTM / g.loadNTM over one wasm core (used by load()). */
export function makeNtmModel(core: unknown): NtmModelFactory;
