// Weights files (src/weights.h) for every model kind that exists: save → load round trips give
// bit-identical outputs, and every kind of malformed bytes is refused with an Error whose message
// says which check failed (truncated, checksum, magic, version, wrong model, trailing bytes,
// dtype, config, parameter count, non-finite parameter); a wrong type is a TypeError. Also: a small
// crafted file declaring a huge configuration is refused without growing wasm memory, and a
// seeded mutation run in wasm (32-bit size_t, unlike the native fuzzer) never traps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { load } from '../src/js/index.js';
import { rng, uniform, crc32 } from './util.js';

const g = await load();

/** A copy of bytes with edit(DataView, bytes) applied and (unless keepCrc) a valid trailing CRC. */
function edited(bytes, edit, { keepCrc = false } = {}) {
  const b = bytes.slice();
  const dv = new DataView(b.buffer);
  edit(dv, b);
  if (!keepCrc && b.length >= 4) dv.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
const HEADER = 24;
const sig = (x) => {
  const h = createHash('sha256');
  const walk = (y) => {
    if (ArrayBuffer.isView(y)) h.update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
    else if (y && typeof y === 'object') for (const k of Object.keys(y).sort()) { h.update(k); walk(y[k]); }
    else h.update(String(y));
  };
  walk(x);
  return h.digest('hex');
};

const KINDS = {
  STN: {
    code: 1, create: 'createSTN', load: 'loadSTN',
    opts: { height: 14, width: 14, classes: 4, seed: 3, locChannels: [3, 4], locKernels: [3, 3], locHidden: 5, channels: [3, 4], kernels: [3, 3], hidden: 6 },
    train: (m) => m.trainBatch(uniform(rng(1), 3 * 14 * 14, 0, 1), [0, 1, 3]),
    probe: (m) => {
      const x = uniform(rng(2), 3 * 14 * 14, 0, 1);
      return { p: m.predict(x), t: m.transform(x) };
    },
    // a config a small file may declare that needs ~1.2 GB of arenas: classes 100000 × hidden 1024
    huge: (set) => { set(2, 100000); set(24, 1024); },
    // an invalid configuration: height 3
    invalid: (set) => set(0, 3),
  },
  DRAW: {
    code: 2, create: 'createDRAW', load: 'loadDRAW',
    opts: { T: 3, readN: 2, writeN: 3, hidden: 7, latent: 3, height: 6, width: 7, seed: 3 },
    train: (m) => m.trainBatch(uniform(rng(1), 3 * 42, 0, 1)),
    probe: (m) => {
      const x = uniform(rng(2), 2 * 42, 0, 1);
      return { l: m.loss(x, { seed: 1 }), r: m.reconstruct(x, { seed: 2 }), g: m.generate({ count: 2, seed: 3 }) };
    },
    huge: (set) => { set(3, 2048); set(4, 4096); }, // hidden 2048, latent 4096: ~100M floats per arena
    invalid: (set) => set(0, 0), // T = 0
  },
  NTM: {
    code: 3, create: 'createNTM', load: 'loadNTM',
    opts: { bits: 3, memory: [7, 4], controller: 8, seed: 3, heads: { read: 2, write: 1 } },
    train: (m) => m.trainCopy({ batch: 2, minLength: 2, maxLength: 4 }),
    probe: (m) => m.copy(new Float32Array(4 * 3).map((_, i) => (i % 3 === 1 ? 1 : 0)), 4),
    huge: (set) => { set(0, 256); set(1, 4096); set(3, 4096); }, // bits 256, R 4096, controller 4096: ~70M floats per arena
    invalid: (set) => set(1, 0), // R = 0
  },
};
const present = Object.entries(KINDS).filter(([, K]) => typeof g[K.create] === 'function');

/** A trained model of kind K (a few steps, so the weights are not just the seeded init). */
function trained(K) {
  const m = g[K.create](K.opts);
  K.train(m);
  K.train(m);
  return m;
}

/** Expect loader(bytes) to throw an Error (exactly Error) whose message matches re. */
function refuses(t, K, bytes, re, what, gi = g) {
  let err;
  try {
    const m = gi[K.load](bytes);
    m.free();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${K.load} accepted ${what}`);
  assert.equal(err.constructor, Error, `${K.load} ${what}: ${err.constructor.name}: ${err.message}`);
  assert.match(err.message, new RegExp(`^${K.load}: `), `${what}: the message names the loader`);
  assert.match(err.message, re, `${K.load} ${what}: message "${err.message}" does not say ${re}`);
  return err.message;
}

for (const [name, K] of Object.entries(KINDS)) {
  const skip = typeof g[K.create] !== 'function' && `g.${K.create} does not exist (yet)`;

  test(`${name}: save → load gives bit-identical outputs (float32), float16 loads and re-saves identically`, { skip }, () => {
    const m = trained(K);
    const bytes = m.save();
    const m2 = g[K.load](bytes);
    assert.equal(sig(K.probe(m2)), sig(K.probe(m)), 'outputs of the loaded model');
    assert.deepEqual(m2.config, m.config, 'configuration');
    assert.equal(sig(m2.save()), sig(bytes), 'save of the loaded model gives the same bytes');
    // float16: half the parameter bytes; load → save(float16) reproduces the bytes exactly
    const h = m.save({ float16: true });
    const dv = new DataView(bytes.buffer);
    const nparams = dv.getUint32(20, true);
    assert.equal(bytes.length - h.length, 2 * nparams);
    const m3 = g[K.load](h);
    assert.equal(sig(m3.save({ float16: true })), sig(h));
    // both models keep training identically after the round trip (optimiser state starts fresh on
    // load, so compare two loads of the same bytes)
    const a = g[K.load](bytes), b = g[K.load](bytes);
    assert.equal(sig(K.train(a)), sig(K.train(b)));
    for (const x of [m, m2, m3, a, b]) x.free();
  });

  test(`${name}: malformed bytes are refused with an Error that says which check failed`, { skip }, (t) => {
    const m = trained(K);
    const bytes = m.save();
    const before = sig(K.probe(m));
    const dv = new DataView(bytes.buffer);
    const nconfig = dv.getUint32(16, true);
    const paramsAt = HEADER + 4 * nconfig;
    let n = 0;
    const no = (b, re, what) => {
      n++;
      return refuses(t, K, b, re, what);
    };
    // not a Uint8Array: TypeError naming bytes
    for (const x of [undefined, null, 'GLMW', bytes.buffer, Array.from(bytes), new Int8Array(bytes.buffer), new Uint8ClampedArray(bytes), {}]) {
      n++;
      assert.throws(() => g[K.load](x), (e) => e.constructor === TypeError && /bytes/.test(e.message), `${K.load}(${typeof x})`);
    }
    // truncated, at every interesting length
    for (const len of [0, 1, 4, 23, 27, HEADER + 4 * nconfig, paramsAt + 1, bytes.length >> 1, bytes.length - 4, bytes.length - 1]) {
      no(bytes.subarray(0, len), /truncated/, `truncated to ${len} bytes`);
      no(edited(bytes.subarray(0, len), () => {}), /truncated/, `truncated to ${len} bytes (checksum recomputed)`);
    }
    // trailing bytes
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    no(longer, /trailing/, 'three trailing bytes');
    no(edited(longer, () => {}), /trailing/, 'three trailing bytes (checksum recomputed)');
    // a flipped byte in the parameters, the config words, and the checksum itself
    const r = rng(7);
    for (let i = 0; i < 12; i++) {
      const at = paramsAt + Math.floor(r() * (bytes.length - 4 - paramsAt));
      no(edited(bytes, (d, b) => { b[at] ^= 1 << Math.floor(r() * 8); }, { keepCrc: true }), /checksum/, `bit flip in the parameters at ${at}`);
    }
    for (let w = 0; w < nconfig; w++) {
      no(edited(bytes, (d, b) => { b[HEADER + 4 * w] ^= 0x10; }, { keepCrc: true }), /checksum/, `flip in config word ${w}`);
    }
    no(edited(bytes, (d, b) => { b[b.length - 2] ^= 0x80; }, { keepCrc: true }), /checksum/, 'flip in the checksum');
    // every byte of the fixed header, flipped (0xff): the field's own check says why
    const why = [/magic/, /magic/, /magic/, /magic/, /version/, /version/, /version/, /version/, /wrong model/, /wrong model/,
      /wrong model/, /wrong model/, /dtype/, /dtype/, /dtype/, /dtype/, /config words|truncated|trailing/, /config words|truncated|trailing/,
      /config words|truncated|trailing/, /config words|truncated|trailing/, /truncated|trailing/, /truncated|trailing/, /truncated|trailing/,
      /truncated|trailing/];
    for (let at = 0; at < HEADER; at++) {
      no(edited(bytes, (d, b) => { b[at] ^= 0xff; }, { keepCrc: true }), why[at], `0xff flip of header byte ${at}`);
      no(edited(bytes, (d, b) => { b[at] ^= 0xff; }), why[at], `0xff flip of header byte ${at} (checksum recomputed)`);
    }
    // named fields, with a valid checksum so the named check is the one that fails
    no(edited(bytes, (d, b) => b.set([0x47, 0x4c, 0x4d, 0x4e], 0)), /bad magic/, 'magic "GLMN" (the MNIST file\'s)');
    no(edited(bytes, (d) => d.setUint32(4, 3, true)), /version 3/, 'version 3 (this build reads 1, and 2 for checkpoints)');
    // version 2 is a checkpoint: a weights file claiming it lacks the optimiser block
    no(edited(bytes, (d) => d.setUint32(4, 2, true)), /checkpoint|truncated/, 'version 2 without an optimiser block');
    no(edited(bytes, (d) => d.setUint32(4, 0, true)), /version 0/, 'version 0');
    no(edited(bytes, (d) => d.setUint32(12, 2, true)), /dtype/, 'dtype 2');
    no(edited(bytes, (d) => d.setUint32(16, 65, true)), /config words/, '65 config words');
    // nparams × 4 (or × 2) wraps a 32-bit size_t to exactly the header's length: still truncated
    for (const [np, dtype] of [[2 ** 30, 0], [2 ** 31, 1], [0xffffffff, 0]]) {
      const head = edited(bytes.subarray(0, paramsAt + 4), (d) => { d.setUint32(20, np, true); d.setUint32(12, dtype, true); });
      no(head, /truncated/, `nparams ${np} (dtype ${dtype}) with no parameter bytes`);
    }
    // the right length for another parameter count: the configuration needs a different one
    const fewer = edited(bytes.subarray(0, bytes.length - 4), (d) => d.setUint32(20, dv.getUint32(20, true) - 1, true));
    no(fewer, /parameters, the configuration needs/, 'one parameter fewer (length and checksum consistent)');
    // an invalid configuration and a non-finite parameter, checksums valid
    no(edited(bytes, (d) => K.invalid((w, x) => d.setUint32(HEADER + 4 * w, x, true))), /invalid configuration/, 'an invalid configuration');
    no(edited(bytes, (d) => d.setFloat32(paramsAt + 8, NaN, true)), /not finite/, 'a NaN parameter');
    no(edited(bytes, (d) => d.setFloat32(bytes.length - 8, -Infinity, true)), /not finite/, 'a -Infinity parameter');
    const h = m.save({ float16: true });
    no(edited(h, (d) => d.setUint16(HEADER + 4 * nconfig + 2, 0x7c00, true)), /not finite/, 'a float16 Inf parameter');
    // wrong model kind: these bytes into every other loader, and the other kinds' bytes into this one
    for (const [other, O] of present) {
      if (other === name) continue;
      const theirs = g[O.create](O.opts);
      no(theirs.save(), new RegExp(`wrong model: these are ${other} weights, expected ${name}`), `${other} bytes`);
      theirs.free();
      n++;
      refuses(t, O, bytes, new RegExp(`wrong model: these are ${name} weights, expected ${other}`), `${name} bytes`);
    }
    no(edited(bytes, (d) => d.setUint32(8, 9, true)), /wrong model: these are unknown weights/, 'kind 9');
    // the model that produced the bytes, and the instance, are unaffected
    assert.equal(sig(K.probe(m)), before, 'the model changed');
    const again = g[K.load](bytes);
    assert.equal(sig(K.probe(again)), before, 'a load after the refusals differs');
    again.free();
    m.free();
    t.diagnostic(`${n} malformed inputs refused`);
  });

  test(`${name}: a small file declaring a huge configuration is refused without growing wasm memory`, { skip }, async (t) => {
    const gi = await load(); // a fresh instance: memory freed by earlier tests would hide the growth
    const m = gi[K.create](K.opts);
    const bytes = edited(m.save(), (d) => K.huge((w, x) => d.setUint32(HEADER + 4 * w, x, true)));
    m.free();
    const mem = gi.memoryBytes();
    const t0 = performance.now();
    refuses(t, K, bytes, /parameters, the configuration needs|too large|exceeds the limit/, `a ${bytes.length}-byte file with a huge configuration`, gi);
    const ms = performance.now() - t0, grown = (gi.memoryBytes() - mem) / 2 ** 20;
    t.diagnostic(`${bytes.length} bytes refused in ${ms.toFixed(1)} ms, wasm memory +${grown.toFixed(1)} MiB`);
    assert.ok(grown < 16, `loading a ${bytes.length}-byte file grew wasm memory by ${grown.toFixed(0)} MiB`);
    assert.ok(ms < 500, `refusing took ${ms.toFixed(0)} ms`);
  });
}

test('seeded mutations of valid files, checksum fixed up, in wasm (32-bit size_t): never a trap, an Error or a working model', (t) => {
  const r = rng(20240611);
  const files = present.map(([name, K]) => {
    const m = g[K.create](K.opts);
    const f = [name, K, m.save(), m.save({ float16: true })];
    m.free();
    return f;
  });
  const run = (m) => {
    if (m.trainBatch && m.classes) return m.predict(uniform(r, 2 * m.height * m.width, 0, 1));
    if (m.trainBatch) return m.loss(uniform(r, m.height * m.width, 0, 1), { seed: 1 });
    return m.copy(new Float32Array(2 * m.bits), 2);
  };
  const mem = g.memoryBytes();
  let tried = 0, loaded = 0;
  const reasons = new Map();
  const t0 = performance.now();
  for (let i = 0; i < 600; i++) {
    const [, K, f32, f16] = files[i % files.length];
    const src = r() < 0.5 ? f32 : f16;
    const b = edited(src, (d, bb) => {
      const nc = d.getUint32(16, true);
      const edits = 1 + Math.floor(r() * 3);
      for (let e = 0; e < edits; e++) {
        const x = r();
        if (x < 0.5) {
          // a config word: a random small or huge value
          const w = Math.floor(r() * nc);
          const v = [0, 1, 2, 3, 7, 64, 255, 1024, 4096, 65535, 0x7fffffff, 0xffffffff][Math.floor(r() * 12)];
          d.setUint32(HEADER + 4 * w, r() < 0.3 ? Math.floor(r() * 2 ** 32) : v, true);
        } else if (x < 0.8) {
          bb[Math.floor(r() * (bb.length - 4))] ^= 1 << Math.floor(r() * 8);
        } else {
          d.setUint32(20, Math.floor(r() * 2 ** 32), true); // nparams
        }
      }
    });
    tried++;
    try {
      const m = g[K.load](b);
      loaded++;
      run(m); // sized from the loaded configuration, which the mutation may have changed
      m.free();
    } catch (e) {
      if (e.constructor !== Error) assert.fail(`mutation ${i}: ${e.constructor.name}: ${e.message}`);
      const key = e.message.replace(/[0-9.e+-]+/g, '#').slice(0, 70);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  const grown = (g.memoryBytes() - mem) / 2 ** 20;
  t.diagnostic(`${tried} mutated files in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${loaded} loaded and ran, ${tried - loaded} refused (${reasons.size} distinct messages); wasm memory +${grown.toFixed(1)} MiB`);
  assert.ok(grown < 64, `wasm memory grew by ${grown.toFixed(0)} MiB`);
});

test('checkpoints (save({ optimizer: true })): a save/load in the middle of training changes nothing in the following steps, with dropout on', async () => {
  const { loadMnist } = await import('../src/js/index.js');
  const { train } = await loadMnist();
  const batch = (k, n = 24) => train.images.slice(k * n * 784, (k + 1) * n * 784);
  const labels = (k, n = 24) => train.labels.slice(k * n, (k + 1) * n);
  const cases = [
    ['STN Adam', () => g.createSTN({ seed: 3, optimizer: 'adam', dropout: 0.5 }), (m, k) => m.trainBatch(batch(k), labels(k)).loss, 'loadSTN'],
    ['STN SGD', () => g.createSTN({ seed: 3, dropout: 0.5, transform: 'projective' }), (m, k) => m.trainBatch(batch(k), labels(k)).loss, 'loadSTN'],
    ['DRAW', () => g.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 1, binarize: 'stochastic' }), (m, k) => m.trainBatch(batch(k)).loss, 'loadDRAW'],
    ['NTM', () => g.createNTM({ bits: 4, memory: [16, 6], controller: 16, seed: 2 }), (m) => m.trainCopy({ batch: 6, maxLength: 5 }).loss, 'loadNTM'],
  ];
  for (const [name, create, step, loader] of cases) {
    const a = create();
    for (let k = 0; k < 3; k++) step(a, k);
    const bytes = a.save({ optimizer: true });
    const b = g[loader](bytes);
    for (let k = 3; k < 7; k++) assert.equal(step(b, k), step(a, k), `${name}: step ${k} after the round trip`);
    assert.deepEqual(b.save({ optimizer: true }), a.save({ optimizer: true }), `${name}: the states after the steps`);
    // a plain save of a checkpointed model is the weights file; a checkpoint is refused in float16
    assert.deepEqual(g[loader](bytes).save(), a.save().length === 0 ? null : g[loader](bytes).save());
    assert.throws(() => a.save({ optimizer: true, float16: true }), { name: 'RangeError', message: /float16/ });
    // malformed checkpoints: truncated optimiser block, wrong moment count, a corrupted moment
    const cut = bytes.slice(0, bytes.length - 40);
    assert.throws(() => g[loader](cut), /truncated|checksum|trailing/);
    const bad = bytes.slice();
    const nconfig = new DataView(bad.buffer).getUint32(16, true), nparams = new DataView(bad.buffer).getUint32(20, true);
    const opt = 24 + 4 * nconfig + 4 * nparams;
    new DataView(bad.buffer).setUint32(opt + 4, 3, true);
    assert.throws(() => g[loader](bad), /moments|checksum/);
    a.free();
    b.free();
  }
});
