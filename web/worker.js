// worker.js: all of the page's compute, in one module Web Worker. It load()s the wasm core and
// routes requests by id to one controller per panel (controllers/stn.js, draw.js, ntm.js, sharing
// controllers/digits.js); the model logic itself is the library's (src/js/).
//   page → worker   { id, type, ...args }
//   worker → page   { id, ok: true, result }  or  { id, ok: false, error: { name, message } }
//                   { event, ... }            progress events (ready, fatal, error, stn.progress, …)
// Float32Arrays in results are transferred, not copied. The UI modules never compute.
import { post, errorInfo } from './controllers/common.js';
import { digitLoader } from './controllers/digits.js';
import { stnController } from './controllers/stn.js';
import { drawController } from './controllers/draw.js';
import { ntmController } from './controllers/ntm.js';

// Trap (TOOLCHAIN.md): install onmessage before any await, or messages posted meanwhile are lost.
const inbox = [];
let dispatch = null;
// The page's heartbeat ({ ping }) is answered at once, also while the core is still loading.
self.onmessage = (e) => {
  if (e.data?.ping !== undefined) return self.postMessage({ pong: e.data.ping });
  return dispatch ? dispatch(e.data) : inbox.push(e.data);
};

self.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  post({ event: 'error', error: errorInfo(e.reason) });
});

// Every panel's part is in the library now; the `ready` event still names them, as the page
// (and tests/e2e.test.js) read these flags to decide what to light up.
const CAPS = Object.freeze({
  stn: true, createSTN: true, draw: true, createDRAW: true, ntm: true, createNTM: true, pretrained: true, distort: true, mnist: true,
});

let handlers = null; // request type → handler, once the core is loaded

// Start-up: load the binding and the wasm (the URL's ?simd=0 forces the scalar build). The binding
// is imported here rather than statically, so that a failure to load it is a `fatal` event too.
async function init() {
  const params = new URL(self.location.href).searchParams;
  const t0 = performance.now();
  const lib = await import('../src/js/index.js');
  const g = await lib.load(params.get('simd') === '0' ? { simd: false } : undefined);
  const env = { g, lib, digits: digitLoader(g, lib.loadMnist) };
  handlers = {
    info: () => ({ caps: CAPS, memoryBytes: g.memoryBytes(), build: g.build }),
    ...stnController(env),
    ...drawController(env),
    ...ntmController(env),
  };
  return {
    build: g.build,
    threads: g.threads,
    threadsReason: g.threadsReason,
    crossOriginIsolated: self.crossOriginIsolated === true,
    simd: g.simd,
    simdSupported: lib.simdSupported(),
    loadMs: performance.now() - t0,
    memoryBytes: g.memoryBytes(),
    caps: CAPS,
    distortions: g.distortions,
  };
}

init().then(
  (info) => {
    post({ event: 'ready', ...info });
    dispatch = handle;
    for (const m of inbox.splice(0)) handle(m);
  },
  (e) => {
    post({ event: 'fatal', error: errorInfo(e) });
    dispatch = (m) => post({ id: m.id, ok: false, error: { name: 'Error', message: 'the wasm core did not load' } });
    for (const m of inbox.splice(0)) dispatch(m);
  },
);

async function handle(msg) {
  const { id, type } = msg;
  const fn = Object.hasOwn(handlers, type) ? handlers[type] : null;
  try {
    if (!fn) throw new Error(`worker: unknown request type '${type}'`);
    const result = await fn(msg);
    post({ id, ok: true, result });
  } catch (e) {
    post({ id, ok: false, error: errorInfo(e) });
  }
}
