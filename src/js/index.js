// glimpse-wasm: the JavaScript entry point. `load()` instantiates the C core (SIMD build where
// the engine validates wasm SIMD, scalar otherwise) and returns an object with the kernel
// namespaces and model constructors. Works in Node 20+, a browser page and a Web Worker.
import { WasmCore } from './core.js';
import { makeStn } from './stn.js';
import { makeStnModel } from './stn_model.js';
import { makeDraw } from './draw.js';
import { makeNtm } from './ntm.js';
import { makeTensors } from './tensor.js';
import { makeDrawModel } from './draw_model.js';
import { makeNtmModel } from './ntm_model.js';
import { makeDistort, distortionTable } from './data.js';
import { describeSchema, defaultOptions } from './model.js';
export { loadMnist, loadStandardMnist, parseIdx, loadIdx } from './data.js';
export { seededRandom } from './random.js';
import * as v from './validate.js';
import { MAX_THREADS, autoThreads, threadsUnavailable, sharedMemory, startWorkers } from './threads.js';

// A minimal module that uses one v128 instruction: validates only where wasm SIMD exists.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this engine supports fixed-width wasm SIMD. */
export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
const compiled = new Map(); // build name -> Promise<WebAssembly.Module>, compiled once per realm

async function fetchBytes(url) {
  if (isNode && url.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return fs.readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`glimpse-wasm: could not fetch ${url} (HTTP ${res.status})`);
  return res.arrayBuffer();
}

function moduleFor(build) {
  if (!compiled.has(build)) {
    const url = new URL(`../../dist/glimpse-${build}.wasm`, import.meta.url);
    const p = fetchBytes(url).then((bytes) => WebAssembly.compile(bytes));
    p.catch(() => compiled.delete(build)); // let a later load() retry after a failed fetch
    compiled.set(build, p);
  }
  return compiled.get(build);
}

// Weights shipped in the package (weights/), produced by scripts/train_*.js, and the loader for each.
const PRETRAINED = {
  'stn-mnist': { file: 'stn-mnist.bin', loader: 'loadSTN' },
  'draw-mnist': { file: 'draw-mnist.bin', loader: 'loadDRAW' },
  'ntm-copy': { file: 'ntm-copy.bin', loader: 'loadNTM' },
  'ntm-repeat-copy': { file: 'ntm-repeat-copy.bin', loader: 'loadNTM' },
  'ntm-recall': { file: 'ntm-recall.bin', loader: 'loadNTM' },
};

/**
 * Instantiate the wasm core.
 * @param {{ simd?: boolean, threads?: number | 'auto' }} [options] simd: false forces the scalar
 *   build; true requires SIMD. threads: how many threads the instance may use ('auto', the default:
 *   min(cores, 8) where threads can run, else 1); g.threads says how many it uses and
 *   g.threadsReason why fewer.
 */
export async function load(options) {
  const o = v.options('load options', options, ['simd', 'threads']);
  const supported = simdSupported();
  const wantSimd = v.bool('load options.simd', o.simd, supported);
  if (wantSimd && !supported) {
    throw new RangeError('load options.simd is true but this engine does not support WebAssembly SIMD');
  }
  const auto = o.threads === undefined || o.threads === 'auto';
  if (!auto && typeof o.threads !== 'number') {
    throw new TypeError(`load options.threads must be a positive integer or 'auto', got ${typeof o.threads === 'string' ? `the string ${JSON.stringify(o.threads)}` : o.threads === null ? 'null' : typeof o.threads}`);
  }
  const asked = auto ? await autoThreads() : v.size('load options.threads', o.threads, { max: MAX_THREADS });
  // Fewer threads than asked only with a reason, which g.threadsReason then says.
  let reason = '';
  if (asked > 1) reason = !wantSimd ? 'the scalar build has no threads (threads need the SIMD build)' : threadsUnavailable();
  if (asked > 1 && !reason) {
    try {
      return await loadThreaded(asked);
    } catch (e) {
      reason = `the worker threads could not start (${e?.message ?? e})`;
    }
  }
  const build = wantSimd ? 'simd' : 'scalar';
  const g = await _instantiate(await moduleFor(build), { simd: wantSimd, build });
  g.threadsReason = reason;
  return g;
}

/**
 * A threaded instance: the SIMD build with atomics on a shared memory, n threads. Internal export:
 * tests pass the threaded test build as `module`.
 */
export async function loadThreaded(n, module) {
  module ??= await moduleFor('simd-threads');
  const memory = sharedMemory();
  const instance = await WebAssembly.instantiate(module, { env: { memory, emscripten_notify_memory_growth() {} } });
  instance.exports._initialize();
  const core = new WasmCore(instance, memory);
  const pool = await startWorkers(core, module, memory, n);
  const g = instanceApi(core, { simd: true, build: 'simd-threads', threads: n, pool });
  g.threadsReason = '';
  return g;
}

/**
 * Internal (tests and benchmarks load the test build, build/test/, through it): the instance API
 * over a compiled module of this package's C core (single-threaded).
 */
export async function _instantiate(module, { simd, build }) {
  const instance = await WebAssembly.instantiate(module, { env: { emscripten_notify_memory_growth() {} } });
  instance.exports._initialize();
  return instanceApi(new WasmCore(instance), { simd, build, threads: 1, pool: null });
}

/** The object load() returns, over one instantiated core. */
function instanceApi(core, { simd, build, threads, pool }) {
  const { schema: stnSchema, ...stnModel } = makeStnModel(core); // createSTN, loadSTN
  const { schema: drawSchema, ...drawModel } = makeDrawModel(core); // createDRAW, loadDRAW
  const { schema: ntmSchema, ...ntmModel } = makeNtmModel(core); // createNTM, loadNTM
  const distortions = distortionTable(core);
  const { tensor, zeros } = makeTensors(core);
  const g = {
    simd,
    build,
    /** A Tensor in this instance's wasm memory: a copy of a Float32Array, or zeros (src/js/tensor.js). */
    tensor,
    zeros,
    stn: makeStn(core),
    ...stnModel,
    draw: makeDraw(core),
    ...drawModel,
    ntm: makeNtm(core),
    ...ntmModel,
    /** Every model's options as declared in the C core: name, type, range, default, doc. */
    schema: Object.freeze({ STN: describeSchema(stnSchema), DRAW: describeSchema(drawSchema), NTM: describeSchema(ntmSchema) }),
    /** The fixed defaults of every model's options (DRAW's are the shipped 'draw-mnist' settings). */
    defaults: Object.freeze({ STN: defaultOptions(stnSchema), DRAW: defaultOptions(drawSchema), NTM: defaultOptions(ntmSchema) }),
    /** The STN paper's distortions (src/distort.c): { R: { side, description }, RTS, P, E, T }. */
    distortions,
    distort: makeDistort(core, distortions),
    /** Threads this instance uses (the calling thread included). */
    threads,
    /** '' when the instance has the threads it was asked for, else why fewer. */
    threadsReason: '',
    /** Bytes of wasm memory in use (grows, never shrinks). */
    memoryBytes() {
      if (core.dead) throw new Error(core.dead);
      return core.memory.buffer.byteLength;
    },
    /** End this instance: its worker threads stop and any later call on it or its models throws. Idempotent. */
    close() {
      if (core.dead && core.closed) return;
      pool?.close();
      core.closed = true;
      core.dead = 'glimpse-wasm: this instance was closed (g.close()); load() a new one';
    },
  };
  /** A model built from the weights shipped in the package: 'stn-mnist', 'draw-mnist', 'ntm-copy', 'ntm-repeat-copy', 'ntm-recall'. */
  g.pretrained = async (name) => {
    if (name === undefined) throw new TypeError(`pretrained: name must be one of ${Object.keys(PRETRAINED).join(', ')}`);
    const entry = PRETRAINED[v.oneOf('pretrained name', name, Object.keys(PRETRAINED))];
    const url = new URL(`../../weights/${entry.file}`, import.meta.url);
    let bytes;
    try {
      bytes = await fetchBytes(url);
    } catch (e) {
      throw new Error(`pretrained('${name}'): could not read the shipped weights ${url.href}: ${e.message}`);
    }
    return g[entry.loader](new Uint8Array(bytes));
  };
  // Internal handle for tests and benchmarks; not part of the public contract.
  Object.defineProperty(g, '_core', { value: core, enumerable: false });
  return g;
}
