// threads.js: threaded instances. The C core's pool (src/pool.h) runs on a shared memory: the
// calling thread is worker 0, and n - 1 workers each instantiate the same compiled module on the
// same memory with a stack of their own (pool_worker.js). In Node they are worker_threads workers
// (unref'd: they never keep a process alive); in a browser, module Web Workers started from a
// worker (blocking waits are not allowed on a page's main thread). Toolchain notes:
// ../shared/TOOLCHAIN.md, "Threads with the standalone build".

const isNode = typeof process !== 'undefined' && process.versions?.node != null && typeof self === 'undefined';

/** The shared memory's limits in 64 KiB pages: build.sh's -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=2GB. */
const MEMORY = { initial: 256, maximum: 32768 };
/** Bytes of stack per worker (the GEMM packs up to 264 KB on it). */
const STACK_BYTES = 2 << 20;
/** Most threads an instance may use (src/pool.h GL_MAX_THREADS). */
export const MAX_THREADS = 16;
/** 'auto' never asks for more than this (as ONNX Runtime Web and TF.js cap theirs). */
const AUTO_CAP = 8;

/** How many threads 'auto' means here, and why it is 1 when it is. */
export async function autoThreads() {
  if (isNode) {
    const os = await import('node:os');
    return Math.min(os.availableParallelism?.() ?? os.cpus().length, AUTO_CAP);
  }
  return Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, AUTO_CAP));
}

/** '' when this realm can run threads, otherwise a sentence saying why not. */
export function threadsUnavailable() {
  if (!isNode) {
    if (typeof window !== 'undefined' && typeof document !== 'undefined') {
      return "on a browser page's main thread blocking waits are not allowed: load() in a Web Worker to use threads";
    }
    // (browsers hide SharedArrayBuffer itself from pages that are not isolated)
    if (globalThis.crossOriginIsolated !== true) {
      return 'the page is not cross-origin isolated (it needs the response headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
    }
    if (typeof Worker === 'undefined') return 'this worker cannot start workers of its own';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'this engine has no SharedArrayBuffer';
  return '';
}

/** A new shared memory for the threaded build. */
export function sharedMemory() {
  return new WebAssembly.Memory({ ...MEMORY, shared: true });
}

async function spawn(id, data, onMessage) {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    // the parent's flags, but not --input-type (a node -e script's), which a file worker refuses
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const w = new Worker(new URL('./pool_worker.js', import.meta.url), { workerData: data, execArgv });
    w.on('message', onMessage);
    w.on('error', (e) => onMessage({ type: 'error', id, message: `worker ${id}: ${e?.message ?? e}` }));
    // ref'd until it has started (its 'ready' must arrive), then unref'd: a running worker never
    // keeps the process alive
    return { terminate: () => w.terminate(), started: () => w.unref() };
  }
  const w = new Worker(new URL('./pool_worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (e) => onMessage(e.data);
  w.onerror = (e) => onMessage({ type: 'error', id, message: `worker ${id}: ${e?.message ?? 'failed to load'}` });
  w.postMessage(data);
  return { terminate: () => w.terminate(), started() {} };
}

/**
 * Start n - 1 workers for a threaded instance (core: its WasmCore on `memory`) and hand the pool n
 * threads. Resolves once every worker has started; rejects (workers stopped) if one cannot.
 * Returns { close() } which ends the workers (idempotent).
 */
export async function startWorkers(core, module, memory, n) {
  const x = core.x;
  const stacks = x.malloc(STACK_BYTES * (n - 1) + 16);
  if (!stacks) throw new RangeError('out of wasm memory for the worker stacks');
  const workers = [];
  let failed = null;
  const ready = [];
  for (let id = 1; id < n; id++) {
    const top = ((stacks + 15) & ~15) + STACK_BYTES * id; // stacks grow down from the top of each block
    let resolve, reject;
    ready.push(new Promise((res, rej) => ((resolve = res), (reject = rej))));
    const onMessage = (m) => {
      if (m?.type === 'ready') resolve();
      else if (m?.type === 'error') {
        failed ??= m.message;
        reject(new Error(m.message));
      }
    };
    workers.push(await spawn(id, { module, memory, stackTop: top, id }, onMessage));
  }
  const stop = () => {
    for (const w of workers) w.terminate();
    workers.length = 0;
  };
  try {
    await Promise.all(ready);
    for (const w of workers) w.started();
    core.check(x.gl_pool_init(n), 'threads');
  } catch (e) {
    stop();
    x.free(stacks);
    throw e;
  }
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      core.raw.gl_pool_close(); // the workers' loops return (also after a worker failed)
      stop();
    },
    get failure() {
      return failed;
    },
  };
}
