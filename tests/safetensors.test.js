// safetensors.test.js: PyTorch interchange (issue: a library people can build on).
//  - PyTorch → glimpse: the PyTorch STN tutorial's Net, trained in PyTorch and written as
//    safetensors (no metadata), loads with g.loadSTN and predicts what PyTorch predicted on 500
//    digits (log-probabilities within 1e-4, same labels);
//  - glimpse → PyTorch: a model trained here, saved with save({ format: 'safetensors' }), loaded into
//    the tutorial Net with load_state_dict(strict=True) by PyTorch, predicted the same (recorded
//    in the fixture by tests/gen_fixtures_safetensors.py, which checks it at generation time), and
//    our writer reproduces that file byte for byte;
//  - DRAW and NTM round trips; the reader refuses malformed or hostile bytes with an Error saying
//    which check failed, never traps, and does not grow wasm memory.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { load, loadMnist } from '../src/js/index.js';
import { fixture, rng } from './util.js';

const g = await load({ threads: 1 });
const { test: digits } = await loadMnist();
const fx = fixture('stn_interop.json');
const N = fx.evalCount;
const file = (name) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

function logSoftmax(logits, classes) {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length / classes; i++) {
    const z = logits.subarray(i * classes, (i + 1) * classes);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let c = 0; c < classes; c++) out[i * classes + c] = z[c] - lse;
  }
  return out;
}

function compareLogp(t, ours, theirs, what) {
  let worst = 0, sameLabels = 0;
  for (let i = 0; i < N; i++) {
    let a = 0, b = 0;
    for (let c = 0; c < 10; c++) {
      worst = Math.max(worst, Math.abs(ours[i * 10 + c] - theirs[i * 10 + c]));
      if (ours[i * 10 + c] > ours[i * 10 + a]) a = c;
      if (theirs[i * 10 + c] > theirs[i * 10 + b]) b = c;
    }
    sameLabels += a === b;
  }
  t.diagnostic(`${what}: max |log p difference| ${worst.toExponential(2)} over ${N} digits, same labels ${sameLabels}/${N}`);
  assert.ok(worst <= 1e-4, `${what}: log-probabilities differ by ${worst}`);
  assert.equal(sameLabels, N, `${what}: labels differ`);
}

test('PyTorch → glimpse: the tutorial Net written by PyTorch loads with loadSTN and predicts the same on 500 digits', (t) => {
  const m = g.loadSTN(file(fx.tutorial.file));
  assert.deepEqual([m.height, m.width, m.classes, m.transformType], [28, 28, 10, 'affine'], 'no metadata: the tutorial configuration');
  compareLogp(t, logSoftmax(m.predict(digits.images.subarray(0, N * 784)).logits, 10), fx.tutorial.logp, 'PyTorch-trained Net');
  m.free();
});

test('glimpse → PyTorch: a model saved here loads into the tutorial Net (load_state_dict) and PyTorch predicts the same', (t) => {
  const bytes = file(fx.glimpse.file);
  const m = g.loadSTN(bytes);
  compareLogp(t, logSoftmax(m.predict(digits.images.subarray(0, N * 784)).logits, 10), fx.glimpse.torchLogp, 'glimpse-trained model in PyTorch');
  assert.deepEqual(m.save({ format: 'safetensors' }), bytes, 'the writer reproduces the file PyTorch loaded, byte for byte');
  // the header PyTorch read: the tutorial's names and shapes
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(Object.keys(header).filter((k) => k !== '__metadata__').sort(), [
    'conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight',
    'fc_loc.0.bias', 'fc_loc.0.weight', 'fc_loc.2.bias', 'fc_loc.2.weight',
    'localization.0.bias', 'localization.0.weight', 'localization.3.bias', 'localization.3.weight']);
  assert.deepEqual(header['localization.0.weight'].shape, [8, 1, 7, 7]);
  assert.deepEqual(header['fc1.weight'].shape, [50, 320]);
  assert.equal(header.__metadata__['glimpse.model'], 'stn');
  m.free();
});

test('safetensors round trips for every model kind: same predictions, same configuration', () => {
  const x = digits.images.subarray(0, 6 * 784);
  const cases = [
    ['STN', g.createSTN({ seed: 2, transform: 'projective', height: 28, width: 28 }), (m) => m.predict(x).logits],
    ['STN', g.createSTN({ seed: 2, transform: 'none' }), (m) => m.predict(x).logits],
    ['DRAW', g.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 3 }), (m) => m.generate({ count: 2, seed: 1 }).canvases],
    ['DRAW', g.createDRAW({ T: 3, hidden: 8, latent: 3, seed: 3, attention: false }), (m) => m.generate({ count: 2, seed: 1 }).canvases],
    ['NTM', g.createNTM({ seed: 4, heads: 2 }), (m) => m.copy(new Float32Array(40).fill(1), 5).output],
    ['NTM', g.createNTM({ seed: 4, controllerType: 'feedforward' }), (m) => m.copy(new Float32Array(40).fill(1), 5).output],
  ];
  for (const [kind, m, run] of cases) {
    const bytes = m.save({ format: 'safetensors' });
    const back = g[`load${kind}`](bytes);
    assert.deepEqual(back.config, m.config, `${kind}: config`);
    assert.deepEqual(run(back), run(m), `${kind}: outputs`);
    assert.throws(() => g[`load${kind === 'STN' ? 'DRAW' : 'STN'}`](bytes), /wrong model/);
    m.free();
    back.free();
  }
  assert.throws(() => g.createSTN().save({ format: 'safetensors', float16: true }), { name: 'RangeError', message: /safetensors/ });
  assert.throws(() => g.createSTN().save({ format: 'onnx' }), { name: 'RangeError', message: /format/ });
});

/** A safetensors file from a header object and raw data. */
function build(header, data = new Uint8Array(0), { length } = {}) {
  let h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test('the reader refuses malformed and hostile safetensors with an Error saying which check failed', () => {
  const good = file(fx.tutorial.file);
  const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
  const data = good.subarray(8 + n);
  const edit = (f) => {
    const h = structuredClone(header);
    f(h);
    return build(h, data);
  };
  const mem0 = g.memoryBytes();
  const cases = [
    [good.subarray(0, 7), /truncated/],
    [build('{}', data, { length: 1e9 }), /past the end/],
    [build('{}', new Uint8Array(0), { length: 2 ** 40 }), /past the end/],
    [build('{"a":', data), /ends inside|expected/],
    [build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} trailing', new Uint8Array(8)), /after the header/],
    [build(`{"${'x'.repeat(5000)}":1}`, data), /longer than/],
    [build(`{${Array.from({ length: 1100 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`), /more than 1024 tensors/],
    [build('{"a":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}}', new Uint8Array(8)), /non-integer/],
    [build('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', new Uint8Array(8)), /non-negative integer/],
    [build('{"a":{"dtype":"F32","shape":[99999999999999999],"data_offsets":[0,8]}}', new Uint8Array(8)), /too large/],
    [edit((h) => { h['conv1.weight'].dtype = 'BF16'; }), /dtype BF16/],
    [edit((h) => { h['conv1.weight'].data_offsets[1] += 4; }), /bytes of data for a shape|overlap|outside/],
    [edit((h) => { h['conv1.weight'].data_offsets = [0, 10 ** 9]; }), /outside the/],
    [edit((h) => { h['fc2.bias'].data_offsets = h['fc2.weight'].data_offsets.map((v, i) => (i ? v : v)); h['fc2.bias'].shape = h['fc2.weight'].shape; }), /overlap/],
    [edit((h) => { h['conv1.weight'].shape = [10, 25]; }), /shape \[10x25\], the configuration needs \[10x1x5x5\]/],
    [edit((h) => { delete h['fc1.bias']; }), /no tensor 'fc1.bias'|parameters/],
    [edit((h) => { h.extra = { dtype: 'F32', shape: [0], data_offsets: [0, 0] }; }), /tensor 'extra' this configuration does not/],
    [edit((h) => { h['conv1.weight'].extra = 1; }), /unknown field/],
    [edit((h) => { h.__metadata__ = { 'glimpse.model': 'ntm' }; }), /wrong model/],
    [edit((h) => { h.__metadata__ = { 'glimpse.config': '[1,2' }; }), /glimpse.config/],
    [edit((h) => { h.__metadata__ = { 'glimpse.config': '[3,3]' }; }), /config words/],
    [build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', new Uint8Array(16)), /appears twice/],
    [build('[1,2]', data), /neither glimpse-wasm weights .* nor safetensors/],
  ];
  for (const [bytes, why] of cases) {
    assert.throws(() => g.loadSTN(bytes), (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError) && why.test(e.message),
      `expected ${why} for ${new TextDecoder().decode(bytes.subarray(8, 80))}…`);
  }
  // NaN in the data: refused
  const nan = good.slice();
  new DataView(nan.buffer).setFloat32(8 + n, NaN, true);
  assert.throws(() => g.loadSTN(nan), /not finite/);
  // seeded mutations of the header and data: an Error or a working model, never a trap
  const r = rng(33);
  let refused = 0, loaded = 0;
  for (let k = 0; k < 400; k++) {
    const b = good.slice();
    const flips = 1 + Math.floor(r() * 4);
    for (let f = 0; f < flips; f++) {
      const at = r() < 0.8 ? 8 + Math.floor(r() * n) : Math.floor(r() * b.length);
      b[at] = Math.floor(r() * 256);
    }
    try {
      const m = g.loadSTN(b);
      m.predict(digits.images.subarray(0, 784));
      m.free();
      loaded++;
    } catch (e) {
      assert.ok(!(e instanceof WebAssembly.RuntimeError), `mutation ${k} trapped: ${e.message}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} of 400 mutations refused`);
  assert.equal(g.memoryBytes(), mem0, 'wasm memory did not grow');
});
