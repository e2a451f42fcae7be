// Type declarations for src/js/stn_model.js: the Spatial Transformer Network classifier.

/** Options of g.createSTN; every one is optional. */
export interface STNOptions {
  /** Input height in pixels (default 28; 4..1024). */
  height?: number;
  /** Input width in pixels (default 28; 4..1024). */
  width?: number;
  /** Number of classes (default 10). */
  classes?: number;
  /** Seed of the initialisation and dropout (integer in [0, 2^32), default 0). */
  seed?: number;
  /** 'affine' (6 parameters, default), 'projective' (8, a homography) or 'none' (the plain CNN). */
  transform?: 'affine' | 'projective' | 'none';
  /** [Ho, Wo] of the transformer's output, which the classifier sees (default [height, width]). */
  outputSize?: [number, number] | number[];
  /** Dropout probability of the classifier's Dropout2d and of the dropout after its hidden layer (default 0.5, as the tutorial). */
  dropout?: number;
  /** 'sgd' (with momentum, default) or 'adam'. */
  optimizer?: 'sgd' | 'adam';
  /** Default 0.01 for SGD, 0.001 for Adam. */
  learningRate?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** L2 weight decay, as torch's weight_decay (default 0). */
  weightDecay?: number;
  /** Clip the gradient to this L2 norm before each step (default 10; 0 = no clipping). */
  clipNorm?: number;
  /** Multiplier of the learning rate of the localisation net (default 1). */
  locLearningRateScale?: number;
  /** 2×2 max-pools applied to the localisation net's input: 0..3 or 'auto' (default: 1 when min(height, width) ≥ 56, else 0). */
  locPool?: number | 'auto';
  /** 2×2 max-pools applied to the classifier's input (default 0). */
  classifierPool?: number;
  /** Localisation conv channels (default [8, 10]). */
  locChannels?: [number, number] | number[];
  /** Localisation conv kernel sizes (default [7, 5]). */
  locKernels?: [number, number] | number[];
  /** Localisation hidden units (default 32). */
  locHidden?: number;
  /** Classifier conv channels (default [10, 20]). */
  channels?: [number, number] | number[];
  /** Classifier conv kernel sizes (default [5, 5]). */
  kernels?: [number, number] | number[];
  /** Classifier hidden units (default 50). */
  hidden?: number;
  /** Adam's β1, β2 (default 0.9, 0.999). */
  beta1?: number;
  beta2?: number;
}

/** The full configuration of a model (options with defaults and derived values filled in). */
export interface STNConfig {
  height: number;
  width: number;
  classes: number;
  seed: number;
  transform: 'affine' | 'projective' | 'none';
  outputSize: [number, number];
  dropout: number;
  optimizer: 'sgd' | 'adam';
  learningRate: number;
  momentum: number;
  weightDecay: number;
  clipNorm: number;
  locLearningRateScale: number;
  locPool: number;
  classifierPool: number;
  locChannels: [number, number];
  locKernels: [number, number];
  locHidden: number;
  channels: [number, number];
  kernels: [number, number];
  hidden: number;
  beta1: number;
  beta2: number;
}

/** A Spatial Transformer Network classifier whose weights live in wasm memory. */
export interface STNModel {
  readonly config: Readonly<STNConfig>;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  /** 'affine', 'projective' or 'none'. */
  readonly transformType: 'affine' | 'projective' | 'none';
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
  predict(images: Float32Array): { labels: Int32Array; logits: Float32Array };
  /** theta (count×2×3; count×3×3 for 'projective') and the transformed images (count×Ho×Wo). */
  transform(images: Float32Array): { theta: Float32Array; output: Float32Array };
  /** Mean cross-entropy and accuracy over a labelled set, no update. */
  evaluate(images: Float32Array, labels: Uint8Array | Int32Array | number[]): { loss: number; accuracy: number };
  /** The weights and configuration in the versioned weights format; float16: half-size file. */
  save(options?: { float16?: boolean }): Uint8Array;
  /** Release the wasm memory (idempotent; any later call throws). Also available as [Symbol.dispose] where the engine has it. */
  free(): void;
}

export interface STNConstructors {
  /** A new STN classifier: by default the PyTorch STN tutorial's architecture adapted to the input size. */
  createSTN(options?: STNOptions): STNModel;
  /** A model from the bytes of model.save(); malformed bytes throw an Error. */
  loadSTN(bytes: Uint8Array): STNModel;
}
