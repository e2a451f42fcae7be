// pool_worker.js: one worker thread of a threaded instance (see threads.js). It instantiates the
// instance's compiled module on the instance's shared memory, takes its own stack, and runs the C
// pool's worker loop (gl_pool_worker) until the instance closes. A trap in a task is reported to
// the pool (gl_pool_fail), so the calling thread gets an Error instead of waiting forever.
// Works as a Node worker_threads worker (start data in workerData) and as a module Web Worker
// (start data in the first message).

async function start({ module, memory, stackTop, id }, post) {
  let x;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory, emscripten_notify_memory_growth() {} } });
    x = instance.exports;
    x.stackRestore(stackTop); // never run C on the stack the main instance uses
  } catch (e) {
    post({ type: 'error', id, message: `worker ${id} could not start: ${e?.message ?? e}` });
    return;
  }
  post({ type: 'ready', id });
  try {
    x.gl_pool_worker(id); // returns when the instance closes
    post({ type: 'done', id });
  } catch (e) {
    try {
      x.gl_pool_fail(id);
    } catch {
      // the instance is unusable; the coordinator is released by the flag the call above sets
    }
    post({ type: 'error', id, message: `worker ${id} failed: ${e?.message ?? e}` });
  }
}

const isNode = typeof process !== 'undefined' && process.versions?.node != null && typeof self === 'undefined';
if (isNode) {
  const { parentPort, workerData } = await import('node:worker_threads');
  start(workerData, (m) => parentPort.postMessage(m));
} else {
  self.onmessage = (e) => {
    self.onmessage = null;
    start(e.data, (m) => self.postMessage(m));
  };
}
