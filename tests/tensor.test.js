// Tensors that stay in wasm memory (g.tensor, g.zeros; src/js/tensor.js), in both wasm builds and
// the threaded one:
//   - every kernel of g.stn (every grid_sample mode), g.draw and g.ntm gives, bit for bit, the
//     Float32Array results with Tensor arguments (results are then Tensors), with `{ out }` (into
//     Tensors pre-filled with garbage: accumulating kernels must clear them), with mixed arguments
//     (Float32Array results) and with Float32Array arguments plus `{ out }`;
//   - the Tensor object: shape, size, toArray (a copy), set, free (idempotent), Symbol.dispose,
//     freed, every use after free() throwing; g.tensor / g.zeros argument checks;
//   - the errors: a Tensor of the wrong shape (as input or out), of another instance, freed, the
//     same Tensor as an input and an output, or as two outputs, a malformed `out`; the instance
//     keeps working and nothing leaks afterwards;
//   - no leak: the heap's allocated bytes (gl_test_heap_bytes, a test-build probe of malloc) and
//     memoryBytes stay flat over thousands of create/free cycles and kernel calls;
//   - the threaded build, whose memory is a growable SharedArrayBuffer: tensors stay valid when it
//     grows; g.close(); the garbage collector frees unreachable tensors.
// Run: node --test tests/tensor.test.js   (needs ./build.sh for build/test/)
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { load } from '../src/js/index.js';
import { loadTestBuild, rng, uniform, ROOT } from './util.js';

const builds = [['simd', await loadTestBuild('simd')], ['scalar', await loadTestBuild('scalar')]];
const threaded = await loadTestBuild('simd-threads', 2);

const isTensor = (x) => Object.prototype.toString.call(x) === '[object Tensor]';
/** Bit-for-bit equality of two Float32Arrays (NaN payloads included). */
function sameBits(a, b, what) {
  assert.ok(a instanceof Float32Array && b instanceof Float32Array, `${what}: not Float32Arrays`);
  assert.equal(a.length, b.length, `${what}: length`);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}: differs at [${i}]: ${a[i]} vs ${b[i]}`);
}

// ------------------------------------------------------------------------------------------
// Every kernel: its tensor inputs (name, values, shape), how to call it with values (arrays or
// Tensors) and options, and its tensor outputs (name → shape; one unnamed output: a plain result).

function kernels() {
  const rand = rng(77);
  const out = [];
  {
    const N = 2, C = 3, H = 5, W = 7, Ho = 4, Wo = 6, size = [N, C, H, W], os = [Ho, Wo];
    const theta = uniform(rand, N * 6, -1, 1);
    const grid = uniform(rand, N * Ho * Wo * 2, -1.3, 1.3);
    grid[3] = NaN; grid[10] = Infinity; // non-finite values travel the same way
    out.push({ id: 'stn.affineGrid', inputs: [['theta', theta, [N, 2, 3]]], outs: { grid: [N, H, W, 2] }, single: true,
      call: (g, [t], o) => g.stn.affineGrid(t, size, { alignCorners: true, ...o }) });
    out.push({ id: 'stn.affineGridBackward', inputs: [['dGrid', uniform(rand, N * H * W * 2), [N, H, W, 2]]], outs: { dTheta: [N, 2, 3] }, single: true,
      call: (g, [d], o) => g.stn.affineGridBackward(d, size, o) });
    const homography = uniform(rand, N * 9, -0.2, 0.2).map((v, i) => v + (i % 9 === 0 || i % 9 === 4 || i % 9 === 8 ? 1 : 0));
    out.push({ id: 'stn.projectiveGrid', inputs: [['theta', homography, [N, 3, 3]]], outs: { grid: [N, H, W, 2] }, single: true,
      call: (g, [t], o) => g.stn.projectiveGrid(t, size, { alignCorners: true, ...o }) });
    out.push({ id: 'stn.projectiveGridBackward', inputs: [['dGrid', uniform(rand, N * H * W * 2), [N, H, W, 2]], ['theta', homography, [N, 3, 3]]],
      outs: { dTheta: [N, 3, 3] }, single: true, call: (g, [d, t], o) => g.stn.projectiveGridBackward(d, t, size, o) });
    const points = uniform(rand, N * 6 * 2, -1, 1);
    out.push({ id: 'stn.tpsGrid', inputs: [['points', points, [N, 6, 2]]], outs: { grid: [N, H, W, 2] }, single: true,
      call: (g, [p], o) => g.stn.tpsGrid(p, size, { controlGrid: [2, 3], ...o }) });
    out.push({ id: 'stn.tpsGridBackward', inputs: [['dGrid', uniform(rand, N * H * W * 2), [N, H, W, 2]], ['points', points, [N, 6, 2]]],
      outs: { dPoints: [N, 6, 2] }, single: true, call: (g, [d, p], o) => g.stn.tpsGridBackward(d, p, size, { controlGrid: [2, 3], alignCorners: true, ...o }) });
    for (const mode of ['bilinear', 'nearest', 'bicubic']) {
      for (const padding of ['zeros', 'reflection']) {
        const input = uniform(rand, N * C * H * W), dOut = uniform(rand, N * C * Ho * Wo);
        out.push({ id: `stn.gridSample ${mode} ${padding}`, inputs: [['input', input, size], ['grid', grid, [N, Ho, Wo, 2]]],
          outs: { output: [N, C, Ho, Wo] }, single: true,
          call: (g, [a, b], o) => g.stn.gridSample(a, size, b, os, { mode, padding, ...o }) });
        out.push({ id: `stn.gridSampleBackward ${mode} ${padding}`,
          inputs: [['dOutput', dOut, [N, C, Ho, Wo]], ['input', input, size], ['grid', grid, [N, Ho, Wo, 2]]],
          outs: { dInput: size, dGrid: [N, Ho, Wo, 2] },
          call: (g, [d, a, b], o) => g.stn.gridSampleBackward(d, a, size, b, os, { mode, padding, alignCorners: true, ...o }) });
      }
    }
  }
  {
    const b = 2, n = 3, A = 6, B = 5, size = [b, n, A, B];
    const params = uniform(rand, b * 5, -0.5, 0.5), x = uniform(rand, b * B * A, 0, 1), xh = uniform(rand, b * B * A);
    const P = ['params', params, [b, 5]];
    out.push({ id: 'draw.filterbank', inputs: [P], outs: { Fx: [b, n, A], Fy: [b, n, B], gamma: [b] }, call: (g, [p], o) => g.draw.filterbank(p, size, o) });
    out.push({ id: 'draw.decode', inputs: [P], outs: { decoded: [b, 5] }, single: true, call: (g, [p], o) => g.draw.decode(p, size, o) });
    out.push({ id: 'draw.read', inputs: [['x', x, [b, B, A]], ['xHat', xh, [b, B, A]], P], outs: { read: [b, 2, n, n] }, single: true,
      call: (g, [u, v, p], o) => g.draw.read(u, v, p, size, o) });
    out.push({ id: 'draw.readBackward', inputs: [['dRead', uniform(rand, b * 2 * n * n), [b, 2, n, n]], ['x', x, [b, B, A]], ['xHat', xh, [b, B, A]], P],
      outs: { dX: [b, B, A], dXHat: [b, B, A], dParams: [b, 5] }, call: (g, [d, u, v, p], o) => g.draw.readBackward(d, u, v, p, size, o) });
    const w = uniform(rand, b * n * n);
    out.push({ id: 'draw.write', inputs: [['w', w, [b, n, n]], P], outs: { canvas: [b, B, A] }, single: true, call: (g, [u, p], o) => g.draw.write(u, p, size, o) });
    out.push({ id: 'draw.writeBackward', inputs: [['dCanvas', uniform(rand, b * B * A), [b, B, A]], ['w', w, [b, n, n]], P],
      outs: { dW: [b, n, n], dParams: [b, 5] }, call: (g, [d, u, p], o) => g.draw.writeBackward(d, u, p, size, o) });
  }
  {
    const R = 6, C = 4, size = [R, C];
    const memory = uniform(rand, R * C), key = uniform(rand, C), shift = Float32Array.of(0.2, 0.5, 0.3);
    const prev = uniform(rand, R, 0, 1 / R), w = uniform(rand, R, 0, 0.3);
    const params = (m, k, s, p) => ({ memory: m, key: k, beta: 2.5, gate: 0.6, shift: s, gamma: 1.7, prev: p });
    const addrIn = [['memory', memory, [R, C]], ['key', key, [C]], ['shift', shift, [3]], ['prev', prev, [R]]];
    out.push({ id: 'ntm.address', inputs: addrIn, outs: { w: [R] }, single: true, call: (g, [m, k, s, p], o) => g.ntm.address(params(m, k, s, p), size, o) });
    out.push({ id: 'ntm.addressBackward', inputs: [['dW', uniform(rand, R), [R]], ...addrIn],
      outs: { dMemory: [R, C], dKey: [C], dShift: [3], dPrev: [R] }, scalars: ['dBeta', 'dGate', 'dGamma'],
      call: (g, [d, m, k, s, p], o) => g.ntm.addressBackward(d, params(m, k, s, p), size, o) });
    out.push({ id: 'ntm.read', inputs: [['memory', memory, [R, C]], ['w', w, [R]]], outs: { r: [C] }, single: true, call: (g, [m, u], o) => g.ntm.read(m, u, size, o) });
    out.push({ id: 'ntm.write', inputs: [['memory', memory, [R, C]], ['w', w, [R]], ['erase', uniform(rand, C, 0, 1), [C]], ['add', uniform(rand, C), [C]]],
      outs: { memory: [R, C] }, single: true, call: (g, [m, u, e, a], o) => g.ntm.write(m, u, e, a, size, o) });
  }
  return out;
}
const KERNELS = kernels();

/** Public entry points of g.stn, g.draw and g.ntm: every one is in KERNELS. */
test('every kernel of g.stn, g.draw and g.ntm is covered here', () => {
  const g = builds[0][1];
  const ids = new Set(KERNELS.map((k) => k.id.split(' ')[0]));
  for (const ns of ['stn', 'draw', 'ntm']) {
    for (const [k, f] of Object.entries(g[ns])) {
      if (typeof f === 'function' && k !== 'affineTheta' && k !== 'tpsControlPoints') assert.ok(ids.has(`${ns}.${k}`), `g.${ns}.${k} has no Tensor test`);
    }
  }
});

/** The outputs of a result as { name: Float32Array }, reading Tensors (and checking their shapes). */
function outputs(k, r, want) {
  const res = {};
  const names = Object.keys(k.outs);
  if (k.single) {
    res[names[0]] = r;
  } else {
    for (const n of names) res[n] = r[n];
    for (const n of k.scalars ?? []) assert.equal(typeof r[n], 'number', `${k.id} ${n} is a number`);
  }
  for (const [n, v] of Object.entries(res)) {
    if (want === 'tensor') {
      assert.ok(isTensor(v), `${k.id} ${n}: expected a Tensor, got ${v?.constructor?.name}`);
      assert.deepEqual(v.shape, k.outs[n], `${k.id} ${n} shape`);
      res[n] = v.toArray();
    } else {
      assert.ok(v instanceof Float32Array, `${k.id} ${n}: expected a Float32Array`);
    }
  }
  return res;
}

const tensorsOf = (g, k) => k.inputs.map(([, a, shape]) => g.tensor(a, shape));
const freeAll = (...ts) => ts.flat().forEach((t) => isTensor(t) && t.free());

for (const [name, g] of [...builds, ['simd-threads', threaded]]) {
  test(`${name}: every kernel gives the Float32Array results bit for bit through Tensors, { out }, and mixed arguments`, () => {
    for (const k of KERNELS) {
      const arrays = k.inputs.map(([, a]) => a);
      const ref = k.call(g, arrays);
      const want = outputs(k, ref, 'array');
      // all Tensors: Tensor results
      const ts = tensorsOf(g, k);
      const r1 = k.call(g, ts);
      const got1 = outputs(k, r1, 'tensor');
      for (const n of Object.keys(want)) sameBits(got1[n], want[n], `${name} ${k.id} tensors ${n}`);
      for (const n of k.scalars ?? []) assert.ok(Object.is(r1[n], ref[n]), `${k.id} ${n}`);
      // { out }: into Tensors holding garbage, returned as they are
      const outs = Object.entries(k.outs).map(([, shape]) => g.tensor(new Float32Array(shape.reduce((a, b) => a * b)).fill(7.25), shape));
      const outOpt = k.single ? outs[0] : Object.fromEntries(Object.keys(k.outs).map((n, i) => [n, outs[i]]));
      const r2 = k.call(g, ts, { out: outOpt });
      if (k.single) assert.equal(r2, outs[0], `${k.id}: out is returned`);
      else Object.keys(k.outs).forEach((n, i) => assert.equal(r2[n], outs[i], `${k.id}: out.${n} is returned`));
      const got2 = outputs(k, r2, 'tensor');
      for (const n of Object.keys(want)) sameBits(got2[n], want[n], `${name} ${k.id} out ${n}`);
      // Float32Array arguments and { out }: the out Tensors
      const r3 = k.call(g, arrays, { out: outOpt });
      const got3 = outputs(k, r3, 'tensor');
      for (const n of Object.keys(want)) sameBits(got3[n], want[n], `${name} ${k.id} arrays + out ${n}`);
      // mixed: one Float32Array among Tensors gives Float32Arrays
      const mixed = ts.map((t, i) => (i === 0 ? arrays[0] : t));
      const got4 = outputs(k, k.call(g, mixed), 'array');
      for (const n of Object.keys(want)) sameBits(got4[n], want[n], `${name} ${k.id} mixed ${n}`);
      // inputs unchanged
      ts.forEach((t, i) => sameBits(t.toArray(), arrays[i], `${k.id} input ${k.inputs[i][0]} unchanged`));
      freeAll(ts, outs, k.single ? [r1] : Object.values(r1));
    }
  });
}

test('threaded build: Tensors and their results equal the single-threaded build bit for bit', () => {
  const g1 = builds[0][1];
  for (const k of KERNELS) {
    const a = k.call(g1, tensorsOf(g1, k)), b = k.call(threaded, tensorsOf(threaded, k));
    const x = outputs(k, a, 'tensor'), y = outputs(k, b, 'tensor');
    for (const n of Object.keys(x)) sameBits(y[n], x[n], `threads ${k.id} ${n}`);
  }
});

// ------------------------------------------------------------------------------------------
// The Tensor object.

for (const [name, g] of builds) {
  test(`${name}: Tensor shape, size, toArray (a copy), set, free, Symbol.dispose, freed, use after free`, () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 3);
    const t = g.tensor(data, [2, 3, 4]);
    assert.deepEqual(t.shape, [2, 3, 4]);
    assert.ok(Object.isFrozen(t.shape) && Array.isArray(t.shape));
    assert.equal(t.size, 24);
    assert.equal(t.freed, false);
    assert.equal(String(t), '[object Tensor]');
    const a = t.toArray();
    sameBits(a, data, 'toArray');
    assert.notEqual(a.buffer, g._core.memory.buffer, 'toArray is a copy, not a view of wasm memory');
    a[0] = 99;
    assert.equal(t.toArray()[0], 0, 'changing the copy leaves the tensor');
    data[1] = -5;
    assert.equal(t.toArray()[1], Math.fround(1 / 3), 'the tensor copied its data');
    assert.equal(t.set(Float32Array.from({ length: 24 }, () => 2)), t, 'set returns the tensor');
    assert.ok(t.toArray().every((v) => v === 2));
    assert.deepEqual(g.tensor(new Float32Array(5)).shape, [5], 'shape defaults to [data.length]');
    const z = g.zeros([3, 1]);
    assert.deepEqual([...z.toArray()], [0, 0, 0]);
    // set refuses a wrong length or type
    assert.throws(() => t.set(new Float32Array(23)), (e) => e instanceof RangeError && /Tensor.set data/.test(e.message));
    assert.throws(() => t.set(new Float64Array(24)), (e) => e instanceof TypeError && /Float32Array/.test(e.message));
    assert.throws(() => t.set([1, 2]), TypeError);
    // free: idempotent; then every use throws an Error saying so; freed stays readable
    t.free();
    t.free();
    assert.equal(t.freed, true);
    for (const [what, f] of [['shape', () => t.shape], ['size', () => t.size], ['toArray', () => t.toArray()], ['set', () => t.set(new Float32Array(24))]]) {
      assert.throws(f, (e) => e instanceof Error && /freed/.test(e.message), `${what} after free`);
    }
    z[Symbol.dispose]();
    assert.equal(z.freed, true);
    z[Symbol.dispose]();
    // only g.tensor / g.zeros make Tensors
    const Tensor = Object.getPrototypeOf(z).constructor;
    assert.throws(() => new Tensor(), (e) => e instanceof TypeError && /g\.tensor/.test(e.message));
  });

  test(`${name}: g.tensor and g.zeros refuse bad data and shapes with TypeError / RangeError naming them`, () => {
    const cases = [
      [() => g.tensor([1, 2, 3], [3]), TypeError, /data/],
      [() => g.tensor(new Float64Array(3), [3]), TypeError, /data/],
      [() => g.tensor(new Float32Array(6), [2, 2]), RangeError, /shape/],
      [() => g.tensor(new Float32Array(6), [2, 3.5]), RangeError, /shape\[1\]/],
      [() => g.tensor(new Float32Array(6), '2,3'), TypeError, /shape/],
      [() => g.tensor(new Float32Array(0)), RangeError, /empty/],
      [() => g.zeros([]), RangeError, /shape/],
      [() => g.zeros([0, 3]), RangeError, /shape\[0\]/],
      [() => g.zeros([-1]), RangeError, /shape\[0\]/],
      [() => g.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]), RangeError, /shape/],
      [() => g.zeros([65536, 65536]), RangeError, /limit/],
      [() => g.zeros(4), TypeError, /shape/],
      [() => g.zeros(['4']), TypeError, /shape\[0\]/],
    ];
    for (const [f, cls, re] of cases) {
      assert.throws(f, (e) => e instanceof cls && re.test(e.message), String(f));
    }
  });
}

// ------------------------------------------------------------------------------------------
// Errors.

const heap = (g) => g._core.x.gl_test_heap_bytes();

for (const [name, g] of builds) {
  test(`${name}: wrong shapes, other instances, freed tensors and aliased outputs are refused clearly; nothing leaks`, async () => {
    const other = await load({ simd: name === 'simd', threads: 1 });
    const N = 2, C = 1, H = 4, W = 5, size = [N, C, H, W], os = [3, 3];
    const input = g.tensor(uniform(rng(5), N * C * H * W), size), grid = g.tensor(uniform(rng(6), N * 9 * 2), [N, 3, 3, 2]);
    const dOut = g.tensor(uniform(rng(7), N * C * 9), [N, C, 3, 3]);
    const want = g.stn.gridSample(input.toArray(), size, grid.toArray(), os);
    const before = heap(g), mem = g.memoryBytes();
    const freed = g.zeros([N, C, 3, 3]);
    freed.free();
    const foreign = other.tensor(input.toArray(), size);
    const outOk = () => ({ dInput: g.zeros(size), dGrid: g.zeros([N, 3, 3, 2]) });
    const cases = [
      ['input of another shape with as many elements', () => g.stn.gridSample(g.tensor(input.toArray(), [N * C, H, W]), size, grid, os), RangeError, /input must be a Tensor of shape \[2, 1, 4, 5\].*got a Tensor of shape \[2, 4, 5\]/],
      ['input too small', () => g.stn.gridSample(g.zeros([N, C, H, W - 1]), size, grid, os), RangeError, /input/],
      ['grid of another instance', () => g.stn.gridSample(input, size, other.tensor(grid.toArray(), [N, 3, 3, 2]), os), TypeError, /grid is a Tensor of another glimpse-wasm instance/],
      ['input of another instance', () => g.stn.gridSample(foreign, size, grid, os), TypeError, /input is a Tensor of another/],
      ['freed input', () => g.stn.gridSampleBackward(freed, input, size, grid, os), Error, /dOutput is a freed Tensor/],
      ['out of the wrong shape', () => g.stn.gridSample(input, size, grid, os, { out: g.zeros([N, C, 9]) }), RangeError, /options\.out must be a Tensor of shape \[2, 1, 3, 3\]/],
      ['out a Float32Array', () => g.stn.gridSample(input, size, grid, os, { out: new Float32Array(18) }), TypeError, /options\.out must be a Tensor/],
      ['out of another instance', () => g.stn.gridSample(input, size, grid, os, { out: other.zeros([N, C, 3, 3]) }), TypeError, /options\.out is a Tensor of another/],
      ['out freed', () => g.stn.gridSample(input, size, grid, os, { out: freed }), Error, /options\.out is a freed Tensor/],
      ['out null', () => g.ntm.write(g.zeros([4, 2]), g.zeros([4]), g.zeros([2]), g.zeros([2]), [4, 2], { out: null }), TypeError, /write options\.out must be a Tensor of shape \[4, 2\]/],
      ['ntm.write into its own memory', () => { const m = g.zeros([4, 2]); return g.ntm.write(m, g.zeros([4]), g.zeros([2]), g.zeros([2]), [4, 2], { out: m }); }, RangeError, /options\.out is also the input memory/],
      ['backward out.dInput is the input', () => g.stn.gridSampleBackward(dOut, input, size, grid, os, { out: { ...outOk(), dInput: input } }), RangeError, /options\.out\.dInput is also the input input/],
      ['backward out.dGrid is the grid', () => g.stn.gridSampleBackward(dOut, input, size, grid, os, { out: { ...outOk(), dGrid: grid } }), RangeError, /options\.out\.dGrid is also the input grid/],
      ['two outputs in one tensor', () => { const t = g.zeros([4]); return g.ntm.addressBackward(g.zeros([4]), { memory: g.zeros([4, 4]), key: g.zeros([4]), beta: 1, gate: 1, shift: g.tensor(Float32Array.of(0, 1, 0)), gamma: 1, prev: g.zeros([4]) }, [4, 4], { out: { dMemory: g.zeros([4, 4]), dKey: t, dShift: g.zeros([3]), dPrev: t } }); }, RangeError, /options\.out\.dPrev is the same Tensor as options\.out\.dKey/],
      ['backward out missing dGrid', () => g.stn.gridSampleBackward(dOut, input, size, grid, os, { out: { dInput: g.zeros(size) } }), TypeError, /options\.out\.dGrid must be a Tensor/],
      ['backward out with an unknown key', () => g.stn.gridSampleBackward(dOut, input, size, grid, os, { out: { ...outOk(), dTheta: g.zeros([1]) } }), RangeError, /unknown key 'dTheta'/],
      ['backward out a single Tensor', () => g.stn.gridSampleBackward(dOut, input, size, grid, os, { out: g.zeros(size) }), TypeError, /options\.out must be an object \{ dInput, dGrid \}/],
      ['draw params out of the domain (a C error) with fresh Tensor results', () => g.draw.write(g.zeros([1, 2, 2]), g.tensor(Float32Array.of(0, 0, 0, 0, 99), [1, 5]), [1, 2, 4, 4]), RangeError, /write/],
      ['ntm shift Tensor not summing to 1', () => g.ntm.address({ memory: g.zeros([4, 2]), key: g.zeros([2]), beta: 1, gate: 1, shift: g.tensor(Float32Array.of(0.2, 0.2, 0.2)), gamma: 1, prev: g.zeros([4]) }, [4, 2]), RangeError, /shift must sum to 1/],
      ['ntm shift Tensor of rank 2', () => g.ntm.address({ memory: g.zeros([4, 2]), key: g.zeros([2]), beta: 1, gate: 1, shift: g.tensor(Float32Array.of(0, 1, 0), [1, 3]), gamma: 1, prev: g.zeros([4]) }, [4, 2]), RangeError, /shift must be a Tensor of rank 1/],
      ['ntm prev Tensor with a negative weight', () => g.ntm.address({ memory: g.zeros([4, 2]), key: g.zeros([2]), beta: 1, gate: 1, shift: g.tensor(Float32Array.of(0, 1, 0)), gamma: 1, prev: g.tensor(Float32Array.of(0, 1, -1, 0)) }, [4, 2]), RangeError, /prev\[2\]/],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [what, f, cls, re] of cases) {
        let err;
        try {
          const r = f();
          if (isTensor(r)) r.free();
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
        assert.match(err.message, re, `${what}`);
        assert.ok(!(err instanceof WebAssembly.RuntimeError));
      }
    }
    // the instance still works, gives the same numbers; the refused calls kept nothing (the test's
    // own throwaway tensors are left to the collector, so the heap is measured after the same
    // number of rounds: it must not grow from round to round)
    const r = g.stn.gridSample(input, size, grid, os);
    sameBits(r.toArray(), want, 'result after the errors');
    r.free();
    assert.ok(g.memoryBytes() - mem < 8 << 20, 'memory grew');
    assert.ok(heap(g) >= before, 'heap probe sanity');
    foreign.free();
    for (const t of [input, grid, dOut]) t.free();
  });
}

// ------------------------------------------------------------------------------------------
// Leaks.

for (const [name, g] of builds) {
  test(`${name}: no leak: the heap's allocated bytes and memoryBytes stay flat over create/free cycles, kernel calls and refused calls`, () => {
    const k = KERNELS.find((x) => x.id === 'stn.gridSampleBackward bicubic zeros');
    const ins = tensorsOf(g, k);
    const data = new Float32Array(1000).fill(1.5);
    // one round: tensors made and freed, kernel calls with fresh Tensor results (freed), the
    // Float32Array path, and a refused call (its bad argument freed by the test)
    const round = () => {
      for (let i = 0; i < 200; i++) g.tensor(data, [10, 100]).free();
      for (let i = 0; i < 20; i++) {
        const z = g.zeros([64, 1024]);
        z.set(new Float32Array(64 * 1024));
        z[Symbol.dispose]();
      }
      for (let i = 0; i < 50; i++) {
        const r = k.call(g, ins);
        r.dInput.free();
        r.dGrid.free();
        k.call(g, k.inputs.map(([, a]) => a));
        const bad = g.zeros([1]);
        assert.throws(() => k.call(g, [...ins.slice(0, 2), bad]), RangeError);
        bad.free();
      }
    };
    round(); // warm up (the first call may size the allocator's bins)
    const baseHeap = heap(g), baseMem = g.memoryBytes();
    const heaps = [];
    for (let r = 0; r < 5; r++) {
      round();
      heaps.push(heap(g));
    }
    assert.deepEqual(heaps, heaps.map(() => baseHeap), `heap bytes in use drifted from ${baseHeap}: ${heaps}`);
    assert.equal(g.memoryBytes(), baseMem, 'memory grew');
    freeAll(ins);
    assert.ok(heap(g) < baseHeap, 'freeing the inputs returns their bytes');
  });
}

// ------------------------------------------------------------------------------------------
// Threads (shared, growable memory), close(), the garbage collector.

test('threaded build: tensors stay valid and correct when the shared memory grows under them', async () => {
  const g = await loadTestBuild('simd-threads', 2);
  const buf0 = g._core.memory.buffer;
  assert.ok(buf0 instanceof SharedArrayBuffer);
  const k = KERNELS.find((x) => x.id === 'stn.gridSampleBackward bilinear zeros');
  const ins = tensorsOf(g, k);
  const want = outputs(k, k.call(g, k.inputs.map(([, a]) => a)), 'array');
  const big = g.zeros([48 << 20 >> 2]); // 48 MiB: memory grows, memory.buffer is a new SharedArrayBuffer
  assert.notEqual(g._core.memory.buffer, buf0, 'memory grew');
  const r = k.call(g, ins);
  const got = outputs(k, r, 'tensor');
  for (const n of Object.keys(want)) sameBits(got[n], want[n], `after growth ${n}`);
  ins.forEach((t, i) => sameBits(t.toArray(), k.inputs[i][1], 'input after growth'));
  freeAll(ins, big, Object.values(r));
  g.close();
});

test('after g.close() tensors refuse every use but free()', async () => {
  const g = await load({ threads: 1 });
  const t = g.tensor(new Float32Array(4), [2, 2]);
  g.close();
  assert.throws(() => t.toArray(), /closed/);
  assert.throws(() => t.shape, /closed/);
  assert.throws(() => g.tensor(new Float32Array(4)), /closed/);
  t.free();
  assert.equal(t.freed, true);
});

test('tensors that become unreachable without free() are freed by the garbage collector', () => {
  const script = `
    import { _instantiate } from ${JSON.stringify(`${ROOT}src/js/index.js`)};
    import { readFileSync } from 'node:fs';
    const g = await _instantiate(await WebAssembly.compile(readFileSync(${JSON.stringify(`${ROOT}build/test/glimpse-test-simd.wasm`)})), { simd: true, build: 'simd' });
    const heap = () => g._core.x.gl_test_heap_bytes();
    const h0 = heap();
    for (let i = 0; i < 100; i++) g.zeros([1 << 16]);
    const h1 = heap();
    for (let i = 0; i < 10 && heap() > h0 + (1 << 20); i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
    console.log(JSON.stringify({ h0, h1, h2: heap() }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { h0, h1, h2 } = JSON.parse(r.stdout);
  assert.ok(h1 - h0 >= 100 * 4 << 16, `allocated ${h1 - h0}`);
  assert.ok(h2 - h0 < 1 << 20, `the collector left ${h2 - h0} bytes (of ${h1 - h0})`);
});
