// Type declarations shared by the models (src/js/model.js).

/** What model.trainFor returns. */
export interface TrainForResult<R> {
  /** Steps taken (at least one). */
  steps: number;
  /** Images (STN, DRAW) or sequences (NTM) trained on. */
  items: number;
  /** Wall-clock seconds the slice took, making the batches included. */
  seconds: number;
  /** items / seconds: wall-clock throughput. */
  itemsPerSecond: number;
  /** The mean of every numeric field of the step results. */
  mean: { [K in keyof R]: number };
}

/** One option of a model as the C core declares it (g.schema.STN, ...). */
export interface SchemaOption {
  name: string;
  /** 'scalar' (one value), 'pair' ([a, b]) or 'object' ({ read, write }). */
  shape: 'scalar' | 'pair' | 'object';
  doc: string;
  fields: {
    key: string;
    type: 'int' | 'float' | 'bool' | 'enum';
    min: number;
    max: number;
    /** undefined where the model derives it (e.g. STN outputSize: the input size). */
    default: number | boolean | string | undefined;
    /** Also accepts 'auto'. */
    auto: boolean;
    choices: readonly string[] | null;
    doc: string;
  }[];
}

/** What model.save() writes. */
export interface SaveOptions {
  /**
   * 'glimpse' (default): this library's versioned weights format, with the configuration.
   * 'safetensors': the Hugging Face safetensors format PyTorch reads with safetensors.torch.load_file
   * (float32 tensors named and shaped as in PyTorch; the configuration in __metadata__).
   */
  format?: 'glimpse' | 'safetensors';
  /** Half-size float16 parameters ('glimpse' format only). */
  float16?: boolean;
  /** A checkpoint: float32 parameters, the step count, the training stream and the optimiser moments, so training resumes bit-identically ('glimpse' format only). */
  optimizer?: boolean;
}
