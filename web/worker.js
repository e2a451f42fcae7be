// worker.js: all of the page's compute, in one module Web Worker. It load()s the wasm core and
// answers requests routed by id:
//   page → worker   { id, type, ...args }
//   worker → page   { id, ok: true, result }  or  { id, ok: false, error: { name, message } }
//                   { event, ... }            progress events (ready, fatal, error, stn.progress, …)
// Float32Arrays in results are transferred, not copied. The UI modules never compute.
//
// Each panel uses what the binding offers at the time (the models land one by one): the worker
// reports its capabilities in the `ready` event and the page lights up what they allow.

// Trap (TOOLCHAIN.md): install onmessage before any await, or messages posted meanwhile are lost.
const inbox = [];
let dispatch = null;
self.onmessage = (e) => (dispatch ? dispatch(e.data) : inbox.push(e.data));

self.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  post({ event: 'error', error: errorInfo(e.reason) });
});

let glimpse = null; // the binding's module namespace
let g = null; // the loaded instance

function errorInfo(e) {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** All typed-array buffers inside a result (they are fresh copies, safe to transfer). */
function transfers(x, out = new Set(), depth = 0) {
  if (x == null || depth > 4) return out;
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer && x.byteLength === x.buffer.byteLength) out.add(x.buffer);
  } else if (Array.isArray(x)) {
    for (const v of x) transfers(v, out, depth + 1);
  } else if (typeof x === 'object') {
    for (const v of Object.values(x)) transfers(v, out, depth + 1);
  }
  return out;
}

function post(msg) {
  self.postMessage(msg, [...transfers(msg)]);
}

// ---------------------------------------------------------------------------------------------
// Start-up: load the binding and the wasm (the URL's ?simd=0 forces the scalar build).

async function init() {
  const params = new URL(self.location.href).searchParams;
  const t0 = performance.now();
  glimpse = await import('../src/js/index.js');
  const opts = params.get('simd') === '0' ? { simd: false } : undefined;
  g = await glimpse.load(opts);
  return {
    build: g.build ?? (g.simd ? 'simd' : 'scalar'),
    simd: g.simd,
    simdSupported: typeof glimpse.simdSupported === 'function' ? glimpse.simdSupported() : g.simd,
    loadMs: performance.now() - t0,
    memoryBytes: typeof g.memoryBytes === 'function' ? g.memoryBytes() : 0,
    caps: caps(),
  };
}

function caps() {
  const fn = (o, k) => !!o && typeof o[k] === 'function';
  return {
    stn: !!g.stn,
    createSTN: fn(g, 'createSTN'),
    draw: !!g.draw && fn(g.draw, 'read'),
    createDRAW: fn(g, 'createDRAW'),
    ntm: !!g.ntm && fn(g.ntm, 'address'),
    createNTM: fn(g, 'createNTM'),
    pretrained: fn(g, 'pretrained'),
    distort: fn(g, 'distort'),
    mnist: fn(glimpse, 'loadMnist'),
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
  const fn = handlers[type];
  try {
    if (!fn) throw new Error(`worker: unknown request type '${type}'`);
    const result = await fn(msg);
    post({ id, ok: true, result });
  } catch (e) {
    post({ id, ok: false, error: errorInfo(e) });
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities.

/** mulberry32: a seeded PRNG so every view is reproducible. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}


// ---------------------------------------------------------------------------------------------
// Digits: the 10,000 MNIST digits shipped with the package (loadMnist), fetched once.

let digitsPromise = null;

function digits() {
  if (!digitsPromise) {
    digitsPromise = loadDigits();
    digitsPromise.catch(() => (digitsPromise = null));
  }
  return digitsPromise;
}

async function loadDigits() {
  if (typeof glimpse.loadMnist !== 'function') throw new Error('loadMnist is not in this build');
  return normaliseDataset(await glimpse.loadMnist());
}

/**
 * One flat array of digits: the loader's test split first (display and test accuracy use only
 * those), then its training split. Returns { images, labels, n, nTest, H, W, source }.
 */
function normaliseDataset(d) {
  const H = d.height ?? 28;
  const W = d.width ?? 28;
  const parts = d.train && d.test ? [d.test, d.train] : [d];
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Float32Array(n * H * W);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    if (!(p.images instanceof Float32Array) || p.images.length !== p.labels.length * H * W) {
      throw new Error(`worker: loadMnist() gave ${p.images?.length} pixels for ${p.labels.length} digits of ${H}×${W}`);
    }
    images.set(p.images, k * H * W);
    labels.set(p.labels, k);
    k += p.labels.length;
  }
  const nTest = d.train && d.test ? d.test.labels.length : Math.floor(n / 5);
  return { images, labels, n, nTest, H, W, source: 'MNIST' };
}

// ---------------------------------------------------------------------------------------------
// Distortions: the STN paper's distorted MNIST (R, RTS, P, E, T) made by g.distort in C.

function pick(d, idx) {
  const S = d.H * d.W;
  const images = new Float32Array(idx.length * S);
  const labels = new Uint8Array(idx.length);
  idx.forEach((k, i) => {
    images.set(d.images.subarray(k * S, (k + 1) * S), i * S);
    labels[i] = d.labels[k];
  });
  return { images, labels };
}

/** Distort the digits at indices idx; returns { images (N×S×S), labels, size: S }. */
function distortBatch(d, idx, kind, seed) {
  if (typeof g.distort !== 'function') throw new Error('g.distort is not in this build');
  const { images, labels } = pick(d, idx);
  const r = g.distort(images, idx.length, kind, { seed: seed >>> 0 });
  return { images: r.images, labels, size: r.height };
}

// ---------------------------------------------------------------------------------------------
// STN panel state.

const stn = {
  kind: 'RTS',
  seed: 1,
  view: null, // { images, labels, N, S }: the displayed batch of distorted inputs
  model: null, // a g.createSTN model, or null until it exists
  modelSize: 0, // input side the model was built for
  pretrained: false,
  running: false,
  token: 0,
  step: 0,
  seen: 0,
  test: null, // { images, labels, N, S } fixed distorted test set
  history: [],
  lastAccuracy: null,
};

const TEST_COUNT = 500; // held-out digits, distorted once, on which test accuracy is measured
const VIEW_COUNT = 16;

/** Digits [0, nTest) are held out (display, test accuracy); [nTest, n) are trained on. */
function splitIndices(d) {
  return { nTest: d.nTest, nTrain: d.n - d.nTest };
}

async function stnSample({ kind, count = VIEW_COUNT, seed }) {
  const d = await digits();
  if (kind) stn.kind = kind;
  stn.seed = seed ?? stn.seed + 1;
  const rand = rng(stn.seed * 7919);
  const { nTest } = splitIndices(d);
  // Display digits come from the held-out part, so what the page shows is never trained on.
  const idx = Array.from({ length: count }, () => (rand() * nTest) | 0);
  const b = distortBatch(d, idx, stn.kind, stn.seed);
  stn.view = { images: b.images, labels: b.labels, N: count, S: b.size };
  return {
    images: b.images.slice(),
    labels: b.labels.slice(),
    N: count,
    S: b.size,
    source: d.source,
  };
}

function thetaFromControls({ rotation = 0, scale = 1, tx = 0, ty = 0 }) {
  const a = (rotation * Math.PI) / 180;
  return [scale * Math.cos(a), -scale * Math.sin(a), tx, scale * Math.sin(a), scale * Math.cos(a), ty];
}

/** The transformer applied to the display batch: the model's θ when there is one, else the editable θ. */
function stnTransformView(manual) {
  const v = stn.view;
  if (!v) throw new Error('worker: no STN batch yet (stn.sample first)');
  const { N, S } = v;
  if (stn.model && !manual) {
    const r = stn.model.transform(v.images);
    const p = stn.model.predict(v.images);
    const So = stn.model.outputHeight ?? S;
    return { theta: r.theta, output: r.output, labels: v.labels.slice(), predicted: p.labels, N, S, So, from: 'model' };
  }
  const t = thetaFromControls(manual ?? {});
  const theta = new Float32Array(N * 6);
  for (let i = 0; i < N; i++) theta.set(t, i * 6);
  const grid = g.stn.affineGrid(theta, [N, 1, S, S]);
  const output = g.stn.gridSample(v.images, [N, 1, S, S], grid, [S, S]);
  return { theta, output, labels: v.labels.slice(), predicted: null, N, S, So: S, from: 'manual' };
}

function ensureStnModel(S) {
  if (stn.model && stn.modelSize === S) return stn.model;
  if (typeof g.createSTN !== 'function') throw new Error('g.createSTN is not in this build yet');
  stn.model?.free?.();
  // Adam rather than the tutorial's SGD: on this page the network should visibly learn in seconds.
  // The 60×60 cluttered canvas is sampled down to a 30×30 glimpse, as in the README's table
  // (a 60×60 classifier costs about 8× a 28×28 step).
  const outputSize = S > 42 ? [S / 2, S / 2] : [S, S];
  stn.model = g.createSTN({ height: S, width: S, classes: 10, seed: 1, optimizer: 'adam', outputSize });
  stn.modelSize = S;
  stn.pretrained = false;
  stn.step = 0;
  stn.seen = 0;
  stn.history = [];
  stn.lastAccuracy = null;
  return stn.model;
}

async function stnTestSet() {
  const d = await digits();
  if (stn.test && stn.test.kind === stn.kind && stn.test.n === d.n) return stn.test;
  const nEval = Math.min(TEST_COUNT, d.nTest);
  const idx = Array.from({ length: nEval }, (_, i) => i);
  const b = distortBatch(d, idx, stn.kind, 424242);
  stn.test = { images: b.images, labels: b.labels, N: nEval, S: b.size, kind: stn.kind, n: d.n };
  return stn.test;
}

/**
 * Test accuracy on the fixed distorted test set, evaluated in chunks of 100 images so that one
 * evaluation never blocks the worker for long. Returns the accuracy once the last chunk is done.
 */
function stnEvaluateChunk() {
  const t = stn.test;
  const e = (stn.evalState ??= { pos: 0, correct: 0 });
  const n = Math.min(100, t.N - e.pos);
  const p = stn.model.predict(t.images.subarray(e.pos * t.S * t.S, (e.pos + n) * t.S * t.S));
  for (let i = 0; i < n; i++) e.correct += p.labels[i] === t.labels[e.pos + i] ? 1 : 0;
  e.pos += n;
  if (e.pos < t.N) return null;
  stn.evalState = null;
  stn.lastAccuracy = e.correct / t.N;
  return stn.lastAccuracy;
}

function stnEvaluate() {
  stn.evalState = null;
  let a = null;
  while (a === null) a = stnEvaluateChunk();
  return a;
}

// Yield to the worker's event loop without setTimeout's 4 ms clamp on nested timers.
const tickChannel = new MessageChannel();
const tickWaiters = [];
tickChannel.port1.onmessage = () => tickWaiters.shift()?.();
const yieldTick = () => new Promise((r) => {
  tickWaiters.push(r);
  tickChannel.port2.postMessage(0);
});

/**
 * The training loop: trainBatch on freshly distorted batches for ~40 ms, then post progress, do a
 * slice of the periodic test evaluation, and yield (so requests such as pause get through).
 * Over the last 50 batches: imagesPerSecond counts trainBatch time only, so it compares with a
 * Node loop over trainBatch; dataImagesPerSecond includes making the batches (g.distort) too.
 */
async function stnTrainLoop(token, batch) {
  const d = await digits();
  const test = await stnTestSet();
  const model = ensureStnModel(test.S);
  const { nTest, nTrain } = splitIndices(d);
  const rand = rng(1000 + stn.step);
  const times = [];
  let lastView = 0, lastEval = performance.now();
  stn.evalState = null;
  if (stn.lastAccuracy === null) post({ event: 'stn.eval', accuracy: stnEvaluate(), step: stn.step });
  while (stn.running && stn.token === token) {
    const t0 = performance.now();
    let loss = 0, acc = 0, k = 0;
    while (performance.now() - t0 < 40) {
      const tb = performance.now();
      const idx = Array.from({ length: batch }, () => nTest + ((rand() * nTrain) | 0));
      const b = distortBatch(d, idx, stn.kind, (rand() * 2 ** 31) | 0);
      const t1 = performance.now();
      const r = model.trainBatch(b.images, b.labels);
      const t2 = performance.now();
      times.push([t2 - t1, t2 - tb]); // [trainBatch, trainBatch + making the batch]
      if (times.length > 50) times.shift();
      loss += r.loss;
      acc += r.accuracy;
      k++;
      stn.step++;
      stn.seen += batch;
    }
    const now = performance.now();
    const point = { step: stn.step, loss: loss / k, accuracy: acc / k };
    stn.history.push(point);
    const sum = (j) => times.reduce((a, t) => a + t[j], 0);
    post({
      event: 'stn.progress',
      ...point,
      imagesPerSecond: (times.length * batch * 1000) / sum(0),
      dataImagesPerSecond: (times.length * batch * 1000) / sum(1),
      epoch: stn.seen / nTrain,
    });
    if (stn.evalState || now - lastEval > 3000) {
      const a = stnEvaluateChunk();
      if (a !== null) {
        post({ event: 'stn.eval', accuracy: a, step: stn.step });
        lastEval = performance.now();
      }
    }
    if (now - lastView > 500 && stn.view && stn.view.S === test.S) {
      post({ event: 'stn.view', ...stnTransformView(null) });
      lastView = performance.now();
    }
    await yieldTick();
  }
}

/** Downsample a pad drawing (P×P, [0,1]) to S×S by area averaging. */
function downsample(src, P, S) {
  const out = new Float32Array(S * S);
  const f = P / S;
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      let s = 0, n = 0;
      for (let y = Math.floor(r * f); y < Math.floor((r + 1) * f); y++) {
        for (let x = Math.floor(c * f); x < Math.floor((c + 1) * f); x++) {
          s += src[y * P + x];
          n++;
        }
      }
      out[r * S + c] = n ? Math.min(1, s / n) : 0;
    }
  }
  return out;
}

function softmax(z) {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// ---------------------------------------------------------------------------------------------
// DRAW panel state.

const draw = { model: null, pretrained: false, note: null, running: false, token: 0, step: 0 };

async function drawModel() {
  if (draw.model) return draw.model;
  if (typeof g.pretrained === 'function') {
    try {
      draw.model = await g.pretrained('draw-mnist');
      draw.pretrained = true;
      return draw.model;
    } catch (e) {
      draw.note = `pretrained weights unavailable: ${e.message}`;
    }
  }
  return freshDrawModel();
}

function freshDrawModel() {
  if (typeof g.createDRAW !== 'function') throw new Error('g.createDRAW is not in this build yet');
  draw.model?.free?.();
  draw.model = g.createDRAW({ seed: 1 });
  draw.pretrained = false;
  draw.step = 0;
  return draw.model;
}

function drawInfo(m) {
  return {
    pretrained: draw.pretrained,
    note: draw.note,
    steps: m.steps,
    readN: m.config?.readN ?? 2,
    writeN: m.config?.writeN ?? 5,
    trainedSteps: draw.step,
  };
}

function drawTrace(m, r, count) {
  return { steps: r.steps, count, H: m.height, W: m.width, canvases: r.canvases, write: r.write ?? null, read: r.read ?? null };
}

/**
 * Run step() repeatedly for ~40 ms per tick (at least once), then report(results, ms) and yield,
 * until paused (running false) or superseded (token changed).
 */
async function trainLoop(st, token, step, report) {
  while (st.running && st.token === token) {
    const t0 = performance.now();
    const results = [];
    do results.push(step());
    while (performance.now() - t0 < 40);
    report(results, performance.now() - t0);
    await yieldTick();
  }
}

/** DRAW-from-scratch training: Adam steps on batches of 16 training digits; a fresh sample every 3 s. */
async function drawTrain(token) {
  const d = await digits();
  const { nTest, nTrain } = splitIndices(d);
  const m = draw.pretrained || !draw.model ? freshDrawModel() : draw.model;
  const rand = rng(77 + draw.step);
  const B = 16; // small batches: a step is ~1/4 s in wasm, so the curve moves and pause answers quickly
  let lastSample = 0;
  const times = [];
  await trainLoop(draw, token, () => {
    const idx = Array.from({ length: B }, () => nTest + ((rand() * nTrain) | 0));
    const t = performance.now();
    const r = m.trainBatch(pick(d, idx).images);
    times.push(performance.now() - t);
    if (times.length > 20) times.shift();
    draw.step++;
    return r;
  }, (rs) => {
    const mean = (k) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    post({
      event: 'draw.progress',
      step: draw.step,
      loss: mean('loss'),
      reconstruction: mean('reconstruction'),
      kl: mean('kl'),
      imagesPerSecond: (times.length * B * 1000) / times.reduce((a, b) => a + b, 0),
      epoch: (draw.step * B) / nTrain,
    });
    if (performance.now() - lastSample > 3000) {
      post({ event: 'draw.sample', ...drawTrace(m, m.generate({ count: 1, seed: draw.sampleSeed ?? 1 }), 1) });
      lastSample = performance.now();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// NTM panel state.

const ntm = { model: null, pretrained: false, note: null, running: false, token: 0, step: 0, demo: null, last: null };
const NTM_TRAIN = { batch: 8, minLength: 1, maxLength: 20 }; // the paper's copy-task curriculum range

async function ntmModel() {
  if (ntm.model) return ntm.model;
  if (typeof g.pretrained === 'function') {
    try {
      ntm.model = await g.pretrained('ntm-copy');
      ntm.pretrained = true;
      return ntm.model;
    } catch (e) {
      ntm.note = `pretrained weights unavailable: ${e.message}`;
    }
  }
  return freshNtmModel();
}

function freshNtmModel() {
  if (typeof g.createNTM !== 'function') throw new Error('g.createNTM is not in this build yet');
  ntm.model?.free?.();
  ntm.model = g.createNTM({ seed: 1 });
  ntm.pretrained = false;
  ntm.step = 0;
  return ntm.model;
}

function ntmInfo(m) {
  return {
    pretrained: ntm.pretrained,
    note: ntm.note,
    bits: m.bits,
    R: m.R,
    C: m.C,
    maxLength: m.trainedMaxLength ?? NTM_TRAIN.maxLength,
    trainedSteps: ntm.step,
  };
}

/** The copy task on one sequence, with the traces reduced to the first read and write head. */
function ntmCopy(m, seq, length) {
  const r = m.copy(seq, length);
  const steps = r.steps;
  const head0 = (a, heads) => {
    if (!a || heads === 1) return a;
    const out = new Float32Array(steps * m.R);
    for (let t = 0; t < steps; t++) out.set(a.subarray((t * heads) * m.R, (t * heads + 1) * m.R), t * m.R);
    return out;
  };
  return {
    output: r.output,
    readWeights: head0(r.readWeights, m.readHeads ?? 1),
    writeWeights: head0(r.writeWeights, m.writeHeads ?? 1),
    memory: r.memory,
    loss: r.loss,
    bitErrors: r.bitErrors,
    sequence: seq,
    length,
    bits: m.bits,
    R: m.R,
    C: m.C,
    steps,
    // Time layout: the L inputs at steps 0..L−1, the delimiter at L, the L outputs after it.
    inputOffset: 0,
    outputOffset: steps - length,
  };
}

/** NTM-from-scratch training on random copy sequences; the page's sequence is re-run every 3 s. */
async function ntmTrain(token) {
  const m = ntm.pretrained || !ntm.model ? freshNtmModel() : ntm.model;
  let lastTrace = 0;
  const times = [];
  await trainLoop(ntm, token, () => {
    const t = performance.now();
    const r = m.trainCopy(NTM_TRAIN);
    times.push(performance.now() - t);
    if (times.length > 20) times.shift();
    ntm.step++;
    return r;
  }, (rs) => {
    const mean = (k) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    post({
      event: 'ntm.progress',
      step: ntm.step,
      loss: mean('loss'),
      bitErrors: mean('bitErrors'),
      sequencesPerSecond: (times.length * NTM_TRAIN.batch * 1000) / times.reduce((a, b) => a + b, 0),
    });
    if (ntm.last && performance.now() - lastTrace > 3000) {
      post({ event: 'ntm.trace', ...ntmCopy(m, ntm.last.sequence.slice(), ntm.last.length) });
      lastTrace = performance.now();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Request handlers.

const handlers = {
  info: () => ({ caps: caps(), memoryBytes: g.memoryBytes?.() ?? 0, build: g.build }),

  // ----- STN
  'stn.sample': (m) => stnSample(m),
  'stn.apply': (m) => stnTransformView(m.manual ?? {}),
  'stn.view': () => stnTransformView(stn.model ? null : {}),
  'stn.train': async (m) => {
    if (typeof g.createSTN !== 'function') throw new Error('g.createSTN is not in this build yet');
    if (m.kind && m.kind !== stn.kind) {
      stn.kind = m.kind;
      stn.test = null;
    }
    if (stn.running) return { running: true };
    stn.running = true;
    const token = ++stn.token;
    stnTrainLoop(token, m.batch ?? 64).catch((e) => {
      stn.running = false;
      post({ event: 'stn.stopped', error: errorInfo(e) });
    });
    return { running: true };
  },
  'stn.pause': () => {
    stn.running = false;
    stn.token++;
    return { running: false, step: stn.step };
  },
  'stn.reset': () => {
    stn.running = false;
    stn.token++;
    stn.model?.free?.();
    stn.model = null;
    stn.modelSize = 0;
    stn.pretrained = false;
    stn.step = 0;
    stn.seen = 0;
    stn.history = [];
    stn.lastAccuracy = null;
    return { reset: true };
  },
  'stn.pretrained': async () => {
    if (typeof g.pretrained !== 'function') throw new Error('g.pretrained is not in this build yet');
    stn.running = false;
    stn.token++;
    const m = await g.pretrained('stn-mnist');
    stn.model?.free?.();
    stn.model = m;
    stn.modelSize = m.height ?? 28;
    stn.pretrained = true;
    stn.step = 0;
    stn.seen = 0;
    stn.lastAccuracy = null;
    // Show the distortion the weights were trained on (named in the model when it says so, else
    // the one whose image size matches the model's input).
    const named = m.distortion ?? m.config?.distortion ?? m.meta?.distortion;
    const SIZES = { R: 28, RTS: 42, P: 28, E: 28, T: 60 };
    const kind = SIZES[named] ? named
      : SIZES[stn.kind] === stn.modelSize ? stn.kind
        : Object.keys(SIZES).find((k) => SIZES[k] === stn.modelSize);
    if (!kind) throw new Error(`the pretrained STN takes ${stn.modelSize}×${stn.modelSize} images, which no distortion here makes`);
    stn.kind = kind;
    stn.test = null;
    await stnTestSet();
    return { size: stn.modelSize, kind, accuracy: stnEvaluate() };
  },
  'stn.classify': ({ pad, P, manual }) => {
    const S = stn.model ? stn.modelSize : stn.view?.S ?? 28;
    const image = downsample(pad, P, S);
    if (stn.model) {
      const r = stn.model.transform(image);
      const p = stn.model.predict(image);
      const probs = softmax(Array.from(p.logits));
      const So = stn.model.outputHeight ?? S;
      return { S, So, image, output: r.output, theta: r.theta, label: p.labels[0], probs: Float32Array.from(probs) };
    }
    const theta = Float32Array.from(thetaFromControls(manual ?? {}));
    const output = g.stn.gridSample(image, [1, 1, S, S], g.stn.affineGrid(theta, [1, 1, S, S]), [S, S]);
    return { S, So: S, image, output, theta, label: null, probs: null };
  },

  // ----- DRAW
  'draw.digit': async ({ index }) => {
    const d = await digits();
    const { nTest } = splitIndices(d);
    const k = ((index % nTest) + nTest) % nTest;
    const { images, labels } = pick(d, [k]);
    return { image: images, label: labels[0], H: d.H, W: d.W, index: k, source: d.source };
  },
  'draw.glimpse': ({ image, H, W, N, params }) => {
    if (!g.draw) throw new Error('g.draw is not in this build yet');
    const p = Float32Array.from(params);
    const size = [1, N, W, H]; // [batch, N, A (columns), B (rows)]
    const read = g.draw.read(image, new Float32Array(H * W), p, size);
    const glimpse = read.slice(0, N * N); // the x half of [x, x̂]
    const fb = g.draw.filterbank(p, size);
    const back = g.draw.write(glimpse, p, size);
    return { glimpse, Fx: fb.Fx, Fy: fb.Fy, gamma: fb.gamma[0], back, N, H, W };
  },
  'draw.init': async () => drawInfo(await drawModel()),
  'draw.generate': async ({ seed = 1, count = 1 }) => {
    const m = await drawModel();
    draw.sampleSeed = seed;
    return drawTrace(m, m.generate({ count, seed }), count);
  },
  'draw.train': () => {
    if (typeof g.createDRAW !== 'function') throw new Error('g.createDRAW is not in this build yet');
    if (!draw.running) {
      draw.running = true;
      const token = ++draw.token;
      drawTrain(token).catch((e) => {
        draw.running = false;
        post({ event: 'draw.stopped', error: errorInfo(e) });
      });
    }
    return { running: true };
  },
  'draw.pause': () => {
    draw.running = false;
    draw.token++;
    return draw.model ? drawInfo(draw.model) : { running: false };
  },
  'draw.reconstruct': async ({ index = 0 }) => {
    const m = await drawModel();
    const d = await digits();
    const { nTest } = splitIndices(d);
    const { images } = pick(d, [((index % nTest) + nTest) % nTest]);
    return { ...drawTrace(m, m.reconstruct(images, { seed: index >>> 0 }), 1), target: images };
  },

  // ----- NTM
  /**
   * One head's addressing taken apart (eqs. 5–9): g.ntm.address with the later stages switched
   * off (gate 1, identity shift, γ 1) gives each intermediate weighting from the real kernel.
   * The demo memory (R×C, values in [−1, 1]) and the key (row keyRow plus noise) live here.
   */
  'ntm.demo': ({ R, C, keyRow, beta, gate, shift, gamma, prev }) => {
    if (!g.ntm) throw new Error('g.ntm is not in this build yet');
    if (!ntm.demo || ntm.demo.R !== R || ntm.demo.C !== C) {
      const rand = rng(2014);
      const memory = new Float32Array(R * C).map(() => rand() * 2 - 1);
      const noise = new Float32Array(R * C).map(() => (rand() * 2 - 1) * 0.35);
      ntm.demo = { R, C, memory, noise };
    }
    const { memory, noise } = ntm.demo;
    const key = new Float32Array(C);
    for (let c = 0; c < C; c++) key[c] = memory[keyRow * C + c] + noise[keyRow * C + c];
    const id = new Float32Array(shift.length);
    id[(shift.length - 1) >> 1] = 1;
    const sh = Float32Array.from(shift);
    const pv = Float32Array.from(prev);
    const base = { memory, key, beta, prev: pv };
    const content = g.ntm.address({ ...base, gate: 1, shift: id, gamma: 1 }, [R, C]);
    const gated = g.ntm.address({ ...base, gate, shift: id, gamma: 1 }, [R, C]);
    const shifted = g.ntm.address({ ...base, gate, shift: sh, gamma: 1 }, [R, C]);
    const w = g.ntm.address({ ...base, gate, shift: sh, gamma }, [R, C]);
    return { memory: memory.slice(), key, keyRow, content, gated, shifted, w };
  },
  'ntm.init': async () => ntmInfo(await ntmModel()),
  /** Run the copy task on a given (or random) sequence; returns the whole trace for the page. */
  'ntm.copy': async ({ sequence, length, seed = 1 }) => {
    const m = await ntmModel();
    let seq = sequence;
    if (!seq) {
      const rand = rng(seed * 31 + length);
      seq = new Float32Array(length * m.bits).map(() => (rand() < 0.5 ? 1 : 0));
    }
    ntm.last = { sequence: seq.slice(), length };
    return ntmCopy(m, seq, length);
  },
  'ntm.train': () => {
    if (typeof g.createNTM !== 'function') throw new Error('g.createNTM is not in this build yet');
    if (!ntm.running) {
      ntm.running = true;
      const token = ++ntm.token;
      ntmTrain(token).catch((e) => {
        ntm.running = false;
        post({ event: 'ntm.stopped', error: errorInfo(e) });
      });
    }
    return { running: true };
  },
  'ntm.pause': () => {
    ntm.running = false;
    ntm.token++;
    return ntm.model ? ntmInfo(ntm.model) : { running: false };
  },
};
