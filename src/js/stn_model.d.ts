// Type declarations for src/js/stn_model.js: the Spatial Transformer Network classifier.
import type { TrainForResult, SaveOptions } from './model.js';

// <generated from the C schema by scripts/gen_types.js: do not edit by hand>
/** Options of g.createSTN; every one is optional. Declared in the C core's schema (g.schema.STN). */
export interface STNOptions {
  /** Input height in pixels (default 28; 4..1024). */
  height?: number;
  /** Input width in pixels (default 28; 4..1024). */
  width?: number;
  /** Number of classes (default 10; 2..100000). */
  classes?: number;
  /** Seed of the initialisation and of dropout (default 0; 0..4294967295). */
  seed?: number;
  /** 'affine' (6 parameters), 'projective' (8, a homography), 'tps' (a thin-plate spline: 2 per control point) or 'none' (the plain CNN) (default 'affine'). */
  transform?: 'none' | 'affine' | 'projective' | 'tps';
  /** `outputSize.0`: Height of the transformer's output, which the classifier sees (default: height) (1..1024). `outputSize.1`: Width of the transformer's output (default: width) (1..1024). */
  outputSize?: [number, number] | number[];
  /** Dropout probability of the classifier's Dropout2d and of the dropout after its hidden layer (default 0.5; 0..0.95). */
  dropout?: number;
  /** 'sgd' (with momentum) or 'adam' (default 'sgd'). */
  optimizer?: 'sgd' | 'adam';
  /** Learning rate (default 0.01 for SGD, 0.001 for Adam) (1e-12..100). */
  learningRate?: number;
  /** SGD momentum (default 0.9; 0..0.9999). */
  momentum?: number;
  /** L2 weight decay, as torch's weight_decay (default 0; 0..1). */
  weightDecay?: number;
  /** Clip the gradient to this L2 norm before each step (0 = no clipping) (default 10; 0..1e+30). */
  clipNorm?: number;
  /** Multiplier of the learning rate of the localisation net (default 1; 0..100). */
  locLearningRateScale?: number;
  /** 2x2 max-pools applied to the localisation net's input, or 'auto' (1 when min(height, width) >= 56, else 0) (0..3). */
  locPool?: number | 'auto';
  /** `locChannels.0`: Channels of the localisation net's first conv (default 8; 1..1024). `locChannels.1`: Channels of the localisation net's second conv (default 10; 1..1024). */
  locChannels?: [number, number] | number[];
  /** `locKernels.0`: Kernel size of the localisation net's first conv (default 7; 1..64). `locKernels.1`: Kernel size of the localisation net's second conv (default 5; 1..64). */
  locKernels?: [number, number] | number[];
  /** Hidden units of the localisation net (default 32; 1..1024). */
  locHidden?: number;
  /** `channels.0`: Channels of the classifier's first conv (default 10; 1..1024). `channels.1`: Channels of the classifier's second conv (default 20; 1..1024). */
  channels?: [number, number] | number[];
  /** `kernels.0`: Kernel size of the classifier's first conv (default 5; 1..64). `kernels.1`: Kernel size of the classifier's second conv (default 5; 1..64). */
  kernels?: [number, number] | number[];
  /** Hidden units of the classifier (default 50; 1..1024). */
  hidden?: number;
  /** Adam's beta1 (default 0.9; 0..0.9999). */
  beta1?: number;
  /** Adam's beta2 (default 0.999; 0..0.999999). */
  beta2?: number;
  /** 2x2 max-pools applied to the classifier's input (default 0; 0..3). */
  classifierPool?: number;
  /** The distortion of the data it is trained on, recorded in its weights ('none', or a kind of g.distort); it changes nothing in the network (default 'none'). */
  distortion?: 'none' | 'R' | 'RTS' | 'P' | 'E' | 'T';
  /** `controlGrid.0`: Rows of the thin-plate spline's regular grid of control points over [-1, 1]^2 (transform 'tps') (default 4; 2..8). `controlGrid.1`: Columns of the thin-plate spline's control grid (transform 'tps') (default 4; 2..8). */
  controlGrid?: [number, number] | number[];
}

/** The full configuration of a model (its options with defaults and derived values filled in). */
export interface STNConfig {
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly seed: number;
  readonly transform: 'none' | 'affine' | 'projective' | 'tps';
  readonly outputSize: readonly [number, number];
  readonly dropout: number;
  readonly optimizer: 'sgd' | 'adam';
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly locLearningRateScale: number;
  readonly locPool: number;
  readonly locChannels: readonly [number, number];
  readonly locKernels: readonly [number, number];
  readonly locHidden: number;
  readonly channels: readonly [number, number];
  readonly kernels: readonly [number, number];
  readonly hidden: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly classifierPool: number;
  readonly distortion: 'none' | 'R' | 'RTS' | 'P' | 'E' | 'T';
  readonly controlGrid: readonly [number, number];
}
// </generated>

/** A Spatial Transformer Network classifier whose weights live in wasm memory. */
export interface STNModel {
  /** The model kind: 'STN'. */
  readonly kind: 'STN';
  readonly config: Readonly<STNConfig>;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  /** 'affine', 'projective', 'tps' or 'none'. */
  readonly transformType: 'affine' | 'projective' | 'tps' | 'none';
  /** The distortion of the training data as the weights record it ('none' when not recorded). */
  readonly distortion: STNConfig['distortion'];
  readonly parameterCount: number;
  readonly freed: boolean;
  /** Learning rate of the next steps; settable (saved with the model). */
  learningRate: number;
  /**
   * One optimiser step. images: count×height×width in [0, 1]; labels: class ids. Throws an Error and
   * leaves the weights unchanged when the loss or gradient is not finite.
   */
  trainBatch(images: Float32Array, labels: Uint8Array | Int32Array | number[]): { loss: number; accuracy: number; gradNorm: number };
  /** Argmax labels and logits (count×classes), without dropout. */
  predict(images: Float32Array): { labels: Int32Array; logits: Float32Array; probabilities: Float32Array };
  /**
   * The classifier alone, on images already sampled to what it reads (count×outputHeight×outputWidth,
   * e.g. seen through a θ of one's own with g.stn.affineGrid + g.stn.gridSample). classify(transform(x).output) is predict(x).
   */
  classify(transformed: Float32Array): { labels: Int32Array; logits: Float32Array; probabilities: Float32Array };
  /** theta (count×2×3; count×3×3 for 'projective'; count×K×2 for 'tps', the control points' images) and the transformed images (count×Ho×Wo). */
  transform(images: Float32Array): { theta: Float32Array; output: Float32Array };
  /** Mean cross-entropy and accuracy over a labelled set, no update. */
  evaluate(images: Float32Array, labels: Uint8Array | Int32Array | number[]): { loss: number; accuracy: number };
  /** The weights and configuration: glimpse format (optionally float16 or a checkpoint) or safetensors (SaveOptions). */
  save(options?: SaveOptions): Uint8Array;
  /**
   * Train for about `ms` ms of wall clock (at least one step) on nextBatch(step) = { images, labels };
   * onStep(result, step) after each step.
   */
  trainFor(
    ms: number,
    nextBatch: (step: number) => { images: Float32Array; labels: Uint8Array | Int32Array | number[] },
    onStep?: (result: { loss: number; accuracy: number; gradNorm: number }, step: number) => void,
  ): TrainForResult<{ loss: number; accuracy: number; gradNorm: number }>;
  /** Release the wasm memory (idempotent; any later call throws). */
  free(): void;
  [Symbol.dispose](): void;
}

export interface STNConstructors {
  /** A new STN classifier: by default the PyTorch STN tutorial's architecture adapted to the input size. */
  createSTN(options?: STNOptions): STNModel;
  /** A model from the bytes of model.save() (either format) or a safetensors file written elsewhere; malformed bytes throw an Error. */
  loadSTN(bytes: Uint8Array): STNModel;
}
