// Robustness of the public JS surface (issue 7): a seeded property-style barrage of wrong inputs
// into EVERY public entry point that exists at run time (g.stn.*, g.draw.*, g.ntm.*, g.distort,
// the model constructors and loaders, every model method and setter, pretrained, parseIdx /
// loadIdx / loadMnist). Each case must throw a TypeError or RangeError (never another kind, never
// a wasm trap, never take seconds) whose message names the argument; afterwards the instance must
// still give bit-identical results on a fixed valid call taken before the barrage.
// Also the lifecycle: free() is idempotent, every method after free() throws an Error naming the
// model, and several models in one instance (and several instances) do not interfere.
//
// Coverage is enforced: a public function or model method without a spec here fails the test, so
// a new entry point gets a barrage too. Add its spec to kernelSpecs()/modelSpecs() below.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freemem } from 'node:os';
import { load, parseIdx, loadIdx, loadMnist } from '../src/js/index.js';
import { rng, uniform } from './util.js';

const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20240611);
const PER_SPEC = Number(process.env.ROBUSTNESS_PER_SPEC ?? 24); // cases drawn per entry point
const SLOW_MS = 2000; // a single refused call taking longer than this counts as a hang

const g = await load();
const rand = rng(SEED);
const shuffle = (a) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

// ------------------------------------------------------------------------------------------
// Bad-value families. A descriptor has a name, a valid value, and bad(): a list of
// { v, cls: 'T' | 'R' | 'E' (TypeError, RangeError, either), names: strings one of which the
// message must contain, what: a label for reports }.

const bad = (v, cls, names, what) => ({ v, cls, names, what });
const show = (v) => {
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return v.toString();
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.length})`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
  } catch {
    return String(v);
  }
};

/** Values of the wrong type for anything that is not a number. */
function notTyped(names) {
  return [
    ['a string', 'T'], [null, 'T'], [undefined, 'T'], [{}, 'T'], [42, 'T'], [true, 'T'], [Symbol('x'), 'T'], [10n, 'T'],
  ].map(([v, c]) => bad(v, c, names, `type ${show(v)}`));
}

/** A Float32Array argument of exactly `len` floats. */
function f32(name, len, { lo = -1, hi = 1, extra = [] } = {}) {
  return {
    name,
    valid: uniform(rand, len, lo, hi),
    bad() {
      const n = [name];
      return [
        ...notTyped(n),
        bad(new Float64Array(len), 'T', n, 'Float64Array'),
        bad(Array.from({ length: len }, () => 0.5), 'T', n, 'plain array'),
        bad(new Int32Array(len), 'T', n, 'Int32Array'),
        bad(new Uint8Array(len), 'T', n, 'Uint8Array'),
        bad({ length: len }, 'T', n, 'array-like'),
        bad(new Float32Array(len + 1), 'R', n, 'length+1'),
        bad(new Float32Array(Math.max(len - 1, 0)), 'R', n, 'length-1'),
        bad(new Float32Array(0), 'R', n, 'length 0'),
        bad(new Float32Array(len * 2 + 3), 'R', n, 'length 2n+3'),
        ...extra,
      ];
    },
  };
}

/** Model images: count×pix floats; NaN / Inf (and, with unit: true, values outside [0, 1]) refused. */
function images(name, count, pix, { unit = false } = {}) {
  const d = f32(name, count * pix, { lo: 0, hi: 1 });
  const base = d.bad;
  d.bad = () => {
    const out = base();
    const poison = (x, what) => {
      const a = d.valid.slice();
      a[Math.floor(rand() * a.length)] = x;
      return bad(a, 'R', [name], what);
    };
    out.push(poison(NaN, 'a NaN pixel'), poison(Infinity, 'an Infinity pixel'), poison(-Infinity, 'a -Infinity pixel'));
    if (unit) out.push(poison(1.5, 'a pixel 1.5'), poison(-0.25, 'a pixel -0.25'));
    return out;
  };
  return d;
}

/** An integer argument in [min, max] (required unless optional). */
function int(name, valid, min, max, { optional = false, names = [name] } = {}) {
  return {
    name,
    valid,
    bad() {
      const out = [
        ['3', 'T'], [null, 'T'], [{}, 'T'], [[valid], 'T'], [true, 'T'], [10n, 'T'],
        [NaN, 'R'], [Infinity, 'R'], [-Infinity, 'R'], [min - 1, 'R'], [max + 1, 'R'], [valid + 0.5, 'R'],
        [2 ** 53, 'R'], [-(2 ** 31), 'R'], [1e300, 'R'],
      ];
      if (!optional) out.push([undefined, 'T']);
      return out.filter(([v]) => !(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max))
        .map(([v, c]) => bad(v, c, names, `${show(v)}`));
    },
  };
}

/** A finite number in [min, max]. */
function num(name, valid, min, max, { names = [name] } = {}) {
  return {
    name,
    valid,
    bad() {
      const out = [['0.1', 'T'], [null, 'T'], [undefined, 'T'], [{}, 'T'], [NaN, 'R'], [Infinity, 'R'], [-Infinity, 'R']];
      if (min > -Infinity) out.push([min - Math.max(1, Math.abs(min)), 'R']);
      if (max < Infinity) out.push([max * 10 + 1, 'R']);
      return out.map(([v, c]) => bad(v, c, names, `${show(v)}`));
    },
  };
}

/**
 * A shape argument [d0, d1, ...]. bound[i]: entry i determines the length of some input, so
 * changing it to another valid size must be refused too (naming one of sizeNames).
 */
function shape(name, dims, bound, sizeNames) {
  return {
    name,
    valid: dims,
    bad() {
      const n = [name];
      const any = [name, ...sizeNames, 'limit'];
      const out = [
        ...notTyped(n),
        bad(dims.join(','), 'T', n, 'a string'),
        bad({ 0: dims[0], length: dims.length }, 'T', n, 'array-like'),
        bad(dims.slice(0, -1), 'R', n, 'rank-1'),
        bad([...dims, 1], 'R', n, 'rank+1'),
        bad([], 'R', n, 'rank 0'),
        bad(dims.map(() => 2 ** 15), 'R', any, 'every entry 2^15 (over 1 GiB)'),
        bad(dims.map((d, i) => (i === 0 ? 2 ** 30 : d)), 'R', any, 'first entry 2^30'),
      ];
      dims.forEach((d, i) => {
        const at = (x) => dims.map((y, j) => (j === i ? x : y));
        for (const [x, c] of [[0, 'R'], [-1, 'R'], [1.5, 'R'], [NaN, 'R'], [Infinity, 'R'], [-Infinity, 'R'], [2 ** 31, 'R'],
          [2 ** 53, 'R'], ['2', 'T'], [null, 'T'], [undefined, 'T'], [[d], 'T']]) {
          out.push(bad(at(x), c, c === 'R' && x === 2 ** 31 ? any : n, `[${i}] = ${show(x)}`));
        }
        if (bound[i]) out.push(bad(at(d + 1), 'R', any, `[${i}] = ${d + 1} (inconsistent)`));
      });
      return out;
    },
  };
}

/** An options object: keys maps each known key to a descriptor of its valid value and bad values. */
function options(name, valid, keys, { optional = true } = {}) {
  return {
    name,
    valid,
    bad() {
      const n = [name];
      const out = [
        bad('a string', 'T', n, 'a string'), bad(42, 'T', n, '42'), bad([], 'T', n, '[]'), bad(null, 'T', n, 'null'),
        bad(true, 'T', n, 'true'), bad({ bogusKey: 1 }, 'R', [...n, 'bogusKey'], 'unknown key'),
        bad({ ...valid, ['__proto__x']: 1 }, 'R', [...n, '__proto__x'], 'unknown key beside valid ones'),
      ];
      if (!optional) out.push(bad(undefined, 'T', n, 'undefined'));
      for (const [k, d] of Object.entries(keys)) {
        for (const b of d.bad()) {
          if (b.v === undefined && d.optional !== false) continue; // a missing optional key is valid
          out.push(bad({ ...valid, [k]: b.v }, b.cls, [k, ...b.names], `${k} = ${b.what}`));
        }
      }
      return out;
    },
  };
}
const optBool = (name) => ({ name, bad: () => [['yes', 'T'], [1, 'T'], [null, 'T'], [{}, 'T']].map(([v, c]) => bad(v, c, [name], show(v))) });
const optEnum = (name, values) => ({
  name,
  bad: () => [[values[0].toUpperCase() + '!', 'R'], ['', 'R'], ['bogus', 'R'], [1, 'T'], [null, 'T'], [{}, 'T']]
    .map(([v, c]) => bad(v, c, [name], show(v))),
});
const optInt = (name, min, max) => ({ name, bad: () => int(name, min, min, max, { optional: true }).bad() });
const optNum = (name, min, max) => ({ name, bad: () => num(name, min, min, max).bad().filter((b) => b.v !== undefined) });
/** A pair [a, b] of sizes in [1, max]. */
const optPair = (name, max) => ({
  name,
  bad: () => [[5, 'T'], ['2,2', 'T'], [null, 'T'], [[1], 'R'], [[1, 2, 3], 'R'], [[0, 2], 'R'], [[2, max + 1], 'R'],
    [['2', 2], 'T'], [[2, 1.5], 'R'], [[2, NaN], 'R']].map(([v, c]) => bad(v, c, [name], show(v))),
});

/** A function argument (optional: undefined is valid too). */
const fnArg = (name, valid, { optional = false } = {}) => ({
  name,
  valid,
  bad: () => notTyped([name]).filter((b) => !(optional && b.v === undefined)),
});

/**
 * Bad-value descriptors of every option of a model, derived from its schema (g.schema.X, the
 * C core's declaration: type, range, choices); `special` replaces the generic ones of options
 * with rules of their own (NTM's memory, heads and shift).
 */
function schemaOptionKeys(schema, special = {}) {
  const keys = {};
  for (const o of schema) {
    const f = o.fields[0];
    if (o.shape === 'pair') keys[o.name] = optPair(o.name, Math.max(...o.fields.map((x) => x.max)));
    else if (o.shape === 'object') continue; // only NTM's heads: given in special
    else if (f.type === 'int') keys[o.name] = optInt(o.name, f.min, f.max);
    else if (f.type === 'float') keys[o.name] = optNum(o.name, f.min, f.max);
    else if (f.type === 'bool') keys[o.name] = optBool(o.name);
    else keys[o.name] = optEnum(o.name, [f.default ?? f.choices[0]]);
  }
  Object.assign(keys, special);
  for (const o of schema) assert.ok(keys[o.name], `option ${o.name} of the schema has no robustness descriptor`);
  return keys;
}

/** Uint8Array bytes for a loader: other types are TypeErrors. */
function bytesArg(name, valid) {
  return {
    name,
    valid,
    bad: () => [
      ...notTyped([name]),
      bad(new Int8Array(valid.length), 'T', [name], 'Int8Array'),
      bad(new Uint8ClampedArray(valid), 'T', [name], 'Uint8ClampedArray'),
      bad(valid.buffer.slice(0), 'T', [name], 'ArrayBuffer'),
      bad(Array.from(valid), 'T', [name], 'plain array'),
      bad(new Float32Array(4), 'T', [name], 'Float32Array'),
    ],
  };
}

// ------------------------------------------------------------------------------------------
// Specs. { id, call(...args), args: [descriptor], probe?: () => value (the fixed valid call,
// default: call with the valid args), mutating?: the valid call changes state (so only probe is
// compared), async?: call returns a promise, extra?: [{ args, cls, names, what }] hand-made cases }.

function sig(x) {
  const h = createHash('sha256');
  const walk = (y) => {
    if (ArrayBuffer.isView(y)) {
      h.update(`${y.constructor.name}:${y.length}:`);
      h.update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
    } else if (y && typeof y === 'object') {
      for (const k of Object.keys(y).sort()) {
        h.update(`${k}=`);
        walk(y[k]);
        h.update(';');
      }
    } else h.update(`${typeof y}:${Object.is(y, -0) ? '-0' : String(y)}`);
  };
  walk(x);
  return h.digest('hex');
}

/** Another instance, whose Tensors every kernel of g must refuse. */
const gOther = await load({ threads: 1 });
const freedTensor = (shape) => {
  const t = g.zeros(shape);
  t.free();
  return t;
};
/**
 * Bad values of a kernel's `out` option: outs is { name: shape }, one entry for a kernel with one
 * result (out is a Tensor), several for an object of Tensors.
 */
function outDesc(outs) {
  const entries = Object.entries(outs);
  const zerosOf = (shape) => g.zeros(shape);
  if (entries.length === 1) {
    const [, shape] = entries[0];
    const n = shape.reduce((a, b) => a * b);
    return {
      name: 'out',
      bad: () => [
        bad(new Float32Array(n), 'T', ['out'], 'a Float32Array'), bad(null, 'T', ['out'], 'null'), bad({}, 'T', ['out'], '{}'),
        bad('x', 'T', ['out'], 'a string'),
        bad(zerosOf(shape.length > 1 ? [n] : [1, n]), 'R', ['out'], 'a Tensor of another shape with as many elements'),
        bad(zerosOf([...shape.slice(0, -1), shape.at(-1) + 1]), 'R', ['out'], 'a Tensor one too long'),
        bad(freedTensor(shape), 'Error', ['out'], 'a freed Tensor'), bad(gOther.zeros(shape), 'T', ['out', 'another'], "another instance's Tensor"),
      ],
    };
  }
  const valid = () => Object.fromEntries(entries.map(([k, s]) => [k, zerosOf(s)]));
  return {
    name: 'out',
    bad: () => [
      bad(zerosOf(entries[0][1]), 'T', ['out'], 'a single Tensor'), bad(null, 'T', ['out'], 'null'), bad([], 'T', ['out'], '[]'),
      bad({ ...valid(), bogusKey: zerosOf([1]) }, 'R', ['out', 'bogusKey'], 'an unknown key'),
      ...entries.flatMap(([k, shape]) => {
        const without = valid();
        delete without[k];
        return [
          bad(without, 'T', ['out', k], `out without ${k}`),
          bad({ ...valid(), [k]: new Float32Array(shape.reduce((a, b) => a * b)) }, 'T', ['out', k], `out.${k} a Float32Array`),
          bad({ ...valid(), [k]: zerosOf([shape.reduce((a, b) => a * b) + 1]) }, 'R', ['out', k], `out.${k} of the wrong shape`),
          bad({ ...valid(), [k]: freedTensor(shape) }, 'Error', ['out', k], `out.${k} freed`),
          bad({ ...valid(), [k]: gOther.zeros(shape) }, 'T', ['out', k], `out.${k} of another instance`),
        ];
      }),
      bad(Object.fromEntries(entries.map(([k]) => [k, zerosOf(entries[0][1])])), 'R', ['out', 'same Tensor'], 'one Tensor for two outputs'),
    ],
  };
}
/**
 * Hand-made cases of a kernel whose valid arguments are `valid` (index i a tensor argument of
 * `shape`): that argument as a Tensor of the wrong shape, freed, or of another instance.
 */
function tensorExtras(valid, i, name, shape) {
  const args = (t) => valid.map((a, j) => (j === i ? t : a));
  const n = shape.reduce((a, b) => a * b);
  return [
    { args: args(g.zeros([n])), cls: 'R', names: [name], what: `${name}: a Tensor of shape [${n}]` },
    { args: args(freedTensor(shape)), cls: 'Error', names: [name], what: `${name}: a freed Tensor` },
    { args: args(gOther.zeros(shape)), cls: 'T', names: [name], what: `${name}: another instance's Tensor` },
  ];
}

function kernelSpecs() {
  const specs = [];
  const N = 2, C = 2, H = 5, W = 6, Ho = 4, Wo = 3;
  const NCHW = [N, C, H, W];
  const theta = new Float32Array([1, 0.1, 0.05, -0.1, 0.9, 0, 0.8, 0, 0.1, 0.2, 1.1, -0.1]);
  const alignOpts = (outs) => options('options', { alignCorners: true }, { alignCorners: optBool('alignCorners'), out: outDesc(outs) });
  const sampleOpts = (outs) => options('options', { padding: 'border', alignCorners: false, mode: 'bicubic' }, {
    padding: optEnum('padding', ['zeros', 'border', 'reflection']), alignCorners: optBool('alignCorners'),
    mode: optEnum('mode', ['bilinear', 'nearest', 'bicubic']), out: outDesc(outs),
  });
  // DRAW's and NTM's last argument: { out }
  const outOpts = (outs) => options('options', {}, { out: outDesc(outs) });
  if (g.stn) {
    const t = { ...f32('theta', N * 6), valid: theta };
    specs.push({
      id: 'stn.affineGrid', call: g.stn.affineGrid,
      args: [t, shape('size', NCHW, [true, false, false, false], ['theta', 'grid']), alignOpts({ grid: [N, H, W, 2] })],
      extra: tensorExtras([theta, NCHW], 0, 'theta', [N, 2, 3]),
    });
    const ctl = { rotation: optNum('rotation', -Infinity, Infinity), scale: optNum('scale', -Infinity, Infinity), tx: optNum('tx', -Infinity, Infinity), ty: optNum('ty', -Infinity, Infinity) };
    specs.push({ id: 'stn.affineTheta', call: g.stn.affineTheta, args: [options('affineTheta options', { rotation: 30, scale: 0.8, tx: 0.1, ty: -0.2 }, ctl)] });
    specs.push({
      id: 'stn.affineGridBackward', call: g.stn.affineGridBackward,
      args: [f32('dGrid', N * H * W * 2), shape('size', NCHW, [true, false, true, true], ['dGrid']), alignOpts({ dTheta: [N, 2, 3] })],
      extra: tensorExtras([new Float32Array(N * H * W * 2), NCHW], 0, 'dGrid', [N, H, W, 2]),
    });
    // projective and thin-plate-spline grids (src/grid.c)
    const homography = { ...f32('theta', N * 9), valid: new Float32Array([1, 0.1, 0, 0, 1, 0, 0.05, 0, 1, 0.9, 0, 0.1, 0, 1.1, 0, 0, 0.1, 1]) };
    specs.push({
      id: 'stn.projectiveGrid', call: g.stn.projectiveGrid,
      args: [homography, shape('size', NCHW, [true, false, false, false], ['theta', 'grid']), alignOpts({ grid: [N, H, W, 2] })],
      extra: tensorExtras([homography.valid, NCHW], 0, 'theta', [N, 3, 3]),
    });
    specs.push({
      id: 'stn.projectiveGridBackward', call: g.stn.projectiveGridBackward,
      args: [f32('dGrid', N * H * W * 2), homography, shape('size', NCHW, [true, false, true, true], ['dGrid', 'theta']), alignOpts({ dTheta: [N, 3, 3] })],
      extra: tensorExtras([new Float32Array(N * H * W * 2), homography.valid, NCHW], 1, 'theta', [N, 3, 3]),
    });
    const tpsOpts = (outs) => options('options', { controlGrid: [2, 3], alignCorners: true }, {
      controlGrid: optPair('controlGrid', 8), alignCorners: optBool('alignCorners'), out: outDesc(outs),
    });
    const points = f32('points', N * 6 * 2);
    specs.push({
      id: 'stn.tpsGrid', call: g.stn.tpsGrid,
      args: [points, shape('size', NCHW, [true, false, false, false], ['points', 'grid']), tpsOpts({ grid: [N, H, W, 2] })],
      extra: tensorExtras([points.valid, NCHW, { controlGrid: [2, 3] }], 0, 'points', [N, 6, 2]),
    });
    specs.push({
      id: 'stn.tpsGridBackward', call: g.stn.tpsGridBackward,
      args: [f32('dGrid', N * H * W * 2), points, shape('size', NCHW, [true, false, true, true], ['dGrid', 'points']), tpsOpts({ dPoints: [N, 6, 2] })],
      extra: tensorExtras([new Float32Array(N * H * W * 2), points.valid, NCHW, { controlGrid: [2, 3] }], 0, 'dGrid', [N, H, W, 2]),
    });
    specs.push({
      id: 'stn.tpsControlPoints', call: g.stn.tpsControlPoints,
      args: [{ name: 'controlGrid', valid: [3, 4], bad: () => optPair('controlGrid', 8).bad() }],
    });
    const grid = f32('grid', N * Ho * Wo * 2, { lo: -1.2, hi: 1.2 });
    specs.push({
      id: 'stn.gridSample', call: g.stn.gridSample,
      args: [f32('input', N * C * H * W), shape('size', NCHW, [true, true, true, true], ['input', 'grid', 'output']), grid,
        shape('outSize', [Ho, Wo], [true, true], ['grid', 'output']), sampleOpts({ output: [N, C, Ho, Wo] })],
      extra: [
        ...tensorExtras([new Float32Array(N * C * H * W), NCHW, grid.valid, [Ho, Wo]], 0, 'input', NCHW),
        ...tensorExtras([new Float32Array(N * C * H * W), NCHW, grid.valid, [Ho, Wo]], 2, 'grid', [N, Ho, Wo, 2]),
      ],
    });
    specs.push({
      id: 'stn.gridSampleBackward', call: g.stn.gridSampleBackward,
      args: [f32('dOutput', N * C * Ho * Wo), f32('input', N * C * H * W),
        shape('size', NCHW, [true, true, true, true], ['input', 'dOutput', 'grid', 'output']), grid,
        shape('outSize', [Ho, Wo], [true, true], ['grid', 'dOutput', 'output']), sampleOpts({ dInput: NCHW, dGrid: [N, Ho, Wo, 2] })],
      extra: (() => {
        const valid = [new Float32Array(N * C * Ho * Wo), g.tensor(new Float32Array(N * C * H * W), NCHW), NCHW, grid.valid, [Ho, Wo]];
        return [
          ...tensorExtras(valid, 0, 'dOutput', [N, C, Ho, Wo]),
          { args: [...valid, { out: { dInput: valid[1], dGrid: g.zeros([N, Ho, Wo, 2]) } }], cls: 'R', names: ['out', 'dInput', 'input'], what: 'out.dInput is the input' },
        ];
      })(),
    });
  }
  if (g.draw) {
    const b = 2, n = 3, A = 6, B = 5, size = [b, n, A, B];
    // raw params within the kernels' domain; out-of-domain values are RangeErrors naming params
    const params = f32('params', b * 5, { lo: -0.5, hi: 0.5, extra: [] });
    const pBad = params.bad;
    params.bad = () => [...pBad(), ...[NaN, Infinity, 1e7].map((x) => { // |centre| <= 1e6, |log ...| <= 60
      const a = params.valid.slice();
      a[Math.floor(rand() * a.length)] = x;
      return bad(a, 'R', ['params'], `a param ${x}`);
    })];
    const sz = (boundN, boundAB) => shape('size', size, [true, boundN, boundAB, boundAB],
      ['params', 'x', 'xHat', 'w', 'dRead', 'dCanvas', 'image', 'Fx', 'Fy', 'read output']);
    const x = f32('x', b * B * A, { lo: 0, hi: 1 }), xHat = f32('xHat', b * B * A);
    specs.push({ id: 'draw.filterbank', call: g.draw.filterbank, args: [params, sz(false, false), outOpts({ Fx: [b, n, A], Fy: [b, n, B], gamma: [b] })] });
    if (g.draw.decode) specs.push({ id: 'draw.decode', call: g.draw.decode, args: [params, sz(false, false), outOpts({ decoded: [b, 5] })] });
    specs.push({
      id: 'draw.read', call: g.draw.read, args: [x, xHat, params, sz(false, true), outOpts({ read: [b, 2, n, n] })],
      extra: tensorExtras([x.valid, xHat.valid, params.valid, size], 2, 'params', [b, 5]),
    });
    specs.push({
      id: 'draw.readBackward', call: g.draw.readBackward,
      args: [f32('dRead', b * 2 * n * n), x, xHat, params, sz(true, true), outOpts({ dX: [b, B, A], dXHat: [b, B, A], dParams: [b, 5] })],
    });
    const w = f32('w', b * n * n);
    specs.push({ id: 'draw.write', call: g.draw.write, args: [w, params, sz(true, false), outOpts({ canvas: [b, B, A] })] });
    specs.push({ id: 'draw.writeBackward', call: g.draw.writeBackward, args: [f32('dCanvas', b * B * A), w, params, sz(true, true), outOpts({ dW: [b, n, n], dParams: [b, 5] })] });
  }
  if (g.ntm) {
    const R = 6, Cm = 4, size = shape('size', [R, Cm], [true, true], ['memory', 'key', 'prev', 'w', 'dW', 'erase', 'add']);
    const memory = f32('memory', R * Cm);
    const prevW = new Float32Array(R).fill(1 / R);
    const addrValid = {
      memory: memory.valid, key: uniform(rand, Cm), beta: 3, gate: 0.7,
      shift: new Float32Array([0.2, 0.5, 0.3]), gamma: 1.5, prev: prevW,
    };
    const fields = {
      memory: memory.bad(),
      key: f32('key', Cm).bad(),
      beta: num('beta', 3, 0, Infinity).bad(),
      gate: num('gate', 0.7, 0, 1).bad(),
      gamma: num('gamma', 1.5, 1, Infinity).bad(),
      shift: [
        ...notTyped(['shift']), bad(new Float64Array(3), 'T', ['shift'], 'Float64Array'),
        bad(new Float32Array([0.5, 0.5]), 'R', ['shift'], 'even length'), bad(new Float32Array(0), 'R', ['shift'], 'empty'),
        bad(new Float32Array([0.2, 0.2, 0.2]), 'R', ['shift'], 'not summing to 1'),
        bad(new Float32Array([-0.5, 1, 0.5]), 'R', ['shift'], 'a negative weight'),
        bad(new Float32Array([NaN, 1, 0]), 'R', ['shift'], 'a NaN weight'),
      ],
      prev: [
        ...f32('prev', R).bad(),
        bad(new Float32Array(R).fill(-1), 'R', ['prev'], 'negative'), bad(new Float32Array(R).fill(NaN), 'R', ['prev'], 'NaN'),
      ],
    };
    const addr = {
      name: 'params',
      valid: addrValid,
      bad() {
        const out = [
          ...notTyped(['params']).map((b) => (b.what === 'type {}' ? { ...b, names: ['params', 'memory'] } : b)), // {} lacks every field
          bad([addrValid.memory], 'T', ['params'], 'an array'), bad(addrValid.memory, 'T', ['params'], 'a Float32Array'),
          bad({ ...addrValid, bogusKey: 1 }, 'R', ['params', 'bogusKey'], 'unknown key'),
        ];
        for (const [k, list] of Object.entries(fields)) {
          for (const b of list) out.push(bad({ ...addrValid, [k]: b.v }, b.cls, b.names, `${k}: ${b.what}`));
        }
        return out;
      },
    };
    specs.push({
      id: 'ntm.address', call: g.ntm.address, args: [addr, size, outOpts({ w: [R] })],
      extra: [
        { args: [{ ...addrValid, shift: g.tensor(new Float32Array([0.2, 0.2, 0.2])) }, [R, Cm]], cls: 'R', names: ['shift'], what: 'a shift Tensor not summing to 1' },
        { args: [{ ...addrValid, prev: g.tensor(new Float32Array(R).fill(-1)) }, [R, Cm]], cls: 'R', names: ['prev'], what: 'a negative prev Tensor' },
        { args: [{ ...addrValid, memory: g.zeros([R * Cm]) }, [R, Cm]], cls: 'R', names: ['memory'], what: 'a memory Tensor of shape [R·C]' },
        { args: [{ ...addrValid, key: freedTensor([Cm]) }, [R, Cm]], cls: 'Error', names: ['key'], what: 'a freed key Tensor' },
      ],
    });
    specs.push({ id: 'ntm.addressBackward', call: g.ntm.addressBackward, args: [f32('dW', R), addr, size, outOpts({ dMemory: [R, Cm], dKey: [Cm], dShift: [3], dPrev: [R] })] });
    const w = f32('w', R, { lo: 0, hi: 0.3 });
    specs.push({ id: 'ntm.read', call: g.ntm.read, args: [memory, w, size, outOpts({ r: [Cm] })] });
    const memT = g.tensor(memory.valid, [R, Cm]);
    specs.push({
      id: 'ntm.write', call: g.ntm.write, args: [memory, w, f32('erase', Cm, { lo: 0, hi: 1 }), f32('add', Cm), size, outOpts({ memory: [R, Cm] })],
      extra: [{ args: [memT, w.valid, new Float32Array(Cm), new Float32Array(Cm), [R, Cm], { out: memT }], cls: 'R', names: ['out', 'memory'], what: 'out is the memory' }],
    });
  }
  if (g.tensor) {
    // the Tensor is freed at once: the barrage calls the valid form often
    const use = (t) => { const a = t.toArray(); t.free(); return a; };
    const tshape = { name: 'shape', valid: [3, 4], bad: () => [
      bad('3,4', 'T', ['shape'], 'a string'), bad(null, 'T', ['shape'], 'null'), bad(12, 'T', ['shape'], 'a number'),
      bad([], 'R', ['shape'], 'rank 0'), bad([3, 4.5], 'R', ['shape[1]'], 'a fraction'), bad([0, 12], 'R', ['shape[0]'], 'a zero'),
      bad([-3, -4], 'R', ['shape[0]'], 'negative'), bad([2, 4], 'R', ['shape'], 'holding 8 of the 12 elements'),
      bad([3, 5], 'R', ['shape'], 'holding 15'), bad(['3', 4], 'T', ['shape[0]'], 'a string entry'),
      bad([1, 1, 1, 1, 1, 1, 1, 1, 12], 'R', ['shape'], 'rank 9'), bad([65536, 65536], 'R', ['shape', 'limit'], 'over 1 GiB'),
      bad([NaN, 12], 'R', ['shape[0]'], 'NaN'), bad([Infinity, 1], 'R', ['shape[0]'], 'Infinity'),
    ] };
    specs.push({ id: 'tensor', call: (...a) => use(g.tensor(...a)), args: [f32('data', 12), tshape] });
    const zshape = { ...tshape, bad: () => tshape.bad().filter((b) => !/holding/.test(b.what)).concat([bad(undefined, 'T', ['shape'], 'undefined')]) };
    specs.push({ id: 'zeros', call: (...a) => use(g.zeros(...a)), args: [zshape] });
  }
  if (g.distort) {
    const count = 2, pix = 784;
    const imgs = f32('images', count * pix, { lo: 0, hi: 1 });
    const clutterBad = [
      ...notTyped(['clutter']).filter((b) => b.v !== undefined),
      bad(new Float64Array(pix), 'T', ['clutter'], 'Float64Array'), bad(new Float32Array(pix - 1), 'R', ['clutter'], '783 floats'),
      bad(new Float32Array(0), 'R', ['clutter'], 'empty'), bad(new Float32Array(pix + 5), 'R', ['clutter'], '789 floats'),
    ];
    specs.push({
      id: 'distort', call: g.distort,
      args: [imgs, int('count', count, 1, 2 ** 28, { names: ['count', 'images'] }),
        { name: 'kind', valid: 'RTS', bad: () => optEnum('kind', ['R']).bad().concat([bad(undefined, 'T', ['kind'], 'undefined')]) },
        options('distort options', { seed: 7, clutter: imgs.valid }, { seed: optInt('seed', 0, 0xffffffff), clutter: { bad: () => clutterBad } })],
      extra: [
        { args: [imgs.valid, 3, 'R'], cls: 'R', names: ['images'], what: 'count 3 for 2 images' },
        { args: [new Float32Array(0), 2 ** 28, 'T'], cls: 'R', names: ['images', 'count'], what: 'count 2^28 (over 1 GiB)' },
      ],
    });
  }
  return specs;
}

// Small models, fast to create and run.
const STN_OPTS = {
  height: 12, width: 12, classes: 3, seed: 5, locChannels: [2, 2], locKernels: [3, 3], locHidden: 4,
  channels: [2, 2], kernels: [3, 3], hidden: 4,
};
const DRAW_OPTS = { T: 2, readN: 2, writeN: 2, hidden: 6, latent: 3, height: 6, width: 7, seed: 5 };
const NTM_OPTS = { bits: 3, memory: [6, 4], controller: 6, seed: 5 };

const MODELS = {
  STN: {
    create: 'createSTN', load: 'loadSTN', opts: STN_OPTS,
    api: ['trainBatch', 'predict', 'classify', 'transform', 'save', 'free'],
    optionKeys: schemaOptionKeys(g.schema.STN),
    // Option values each in range whose combination needs more than 1 GiB (or, on wasm32, a
    // size_t product that wraps): must be a RangeError naming one of the options involved.
    huge: [
      { o: { height: 526, width: 526, locPool: 0, locChannels: [8, 1024], locHidden: 256 }, names: ['locChannels', 'locHidden', 'localisation', 'options'] },
      { o: { height: 196, width: 196, locPool: 0, locChannels: [1024, 1], locKernels: [7, 64] }, names: ['locChannels', 'locKernels', 'localisation', 'options'] },
      { o: { height: 1024, width: 1024, channels: [1024, 1024], kernels: [5, 5], hidden: 1024 }, names: ['channels', 'hidden', 'classifier', 'options'] },
    ],
  },
  DRAW: {
    create: 'createDRAW', load: 'loadDRAW', opts: DRAW_OPTS,
    api: ['trainBatch', 'loss', 'generate', 'reconstruct', 'save', 'free'],
    optionKeys: schemaOptionKeys(g.schema.DRAW),
    huge: [
      { o: { hidden: 4096, latent: 4096, height: 512, width: 512 }, names: ['hidden', 'latent', 'height', 'width', 'options'] },
    ],
  },
  NTM: {
    create: 'createNTM', load: 'loadNTM', opts: NTM_OPTS,
    api: ['trainCopy', 'copy', 'trainTask', 'evaluateTask', 'runTask', 'taskExample', 'save', 'free'],
    optionKeys: schemaOptionKeys(g.schema.NTM, {
      memory: {
        bad: () => [[[0, 4], 'R'], [[5000, 4], 'R'], [[6, 2000], 'R'], [[6], 'R'], ['6x4', 'T'], [null, 'T'], [[6, 4.5], 'R']]
          .map(([v, c]) => bad(v, c, ['memory'], show(v))),
      },
      heads: {
        bad: () => [[0, 'R'], [17, 'R'], ['1', 'T'], [null, 'T'], [[1, 1], 'T'], [{ read: 0 }, 'R'], [{ write: 17 }, 'R'],
          [{ bogusKey: 1 }, 'R'], [1.5, 'R']].map(([v, c]) => bad(v, c, ['heads'], show(v))),
      },
      shift: { bad: () => [[3, 'R'], [65, 'R'], [-1, 'R'], ['1', 'T'], [0.5, 'R']].map(([v, c]) => bad(v, c, ['shift'], show(v))) },
    }),
    huge: [
      { o: { memory: [4096, 1024], controller: 4096, heads: 16 }, names: ['memory', 'controller', 'heads', 'options'] },
    ],
  },
};

/** Images for a model: count×height×width in [0, 1]. */
const modelImages = (m, count, seed) => uniform(rng(seed), count * m.height * m.width, 0, 1);

/** Specs of every method of one model instance (m), with the probe the barrage must not change. */
function modelSpecs(kind, m) {
  const specs = [];
  const pix = m.height * m.width;
  const unit = kind === 'DRAW';
  const img = (count) => ({ ...images('images', count, pix, { unit }), valid: modelImages(m, count, 11) });
  const lr = num('learningRate', 0.01, 1e-12, kind === 'NTM' ? 10 : 100);
  const setLr = (x) => { m.learningRate = x; };
  let probe;
  if (kind === 'STN') {
    const x = modelImages(m, 3, 12);
    probe = () => ({ p: m.predict(x), t: m.transform(x), s: m.save() });
    const labels = {
      name: 'labels', valid: new Int32Array([0, 2]),
      bad: () => [
        ...notTyped(['labels']), bad(new Float32Array([0, 1]), 'T', ['labels'], 'Float32Array'),
        bad(new Int32Array([0]), 'R', ['labels'], 'one label for two images'), bad(new Int32Array([0, 1, 2]), 'R', ['labels'], 'three labels'),
        bad(new Int32Array([0, 3]), 'R', ['labels'], 'class 3 of 3'), bad([0, -1], 'R', ['labels'], 'class -1'),
        bad([0, 1.5], 'R', ['labels'], 'class 1.5'), bad([0, NaN], 'R', ['labels'], 'class NaN'), bad([0, '1'], 'R', ['labels'], "class '1'"),
      ],
    };
    specs.push({ id: 'STN.trainBatch', call: (...a) => m.trainBatch(...a), args: [img(2), labels], mutating: true });
    specs.push({ id: 'STN.predict', call: (...a) => m.predict(...a), args: [img(2)] });
    specs.push({ id: 'STN.transform', call: (...a) => m.transform(...a), args: [img(2)] });
    const po = m.outputHeight * m.outputWidth; // classify takes the classifier's input side
    specs.push({ id: 'STN.classify', call: (...a) => m.classify(...a), args: [{ ...images('images', 2, po), valid: uniform(rng(13), 2 * po, 0, 1) }] });
    specs.push({ id: 'STN.evaluate', call: (...a) => m.evaluate(...a), args: [img(2), labels] });
  } else if (kind === 'DRAW') {
    const x = modelImages(m, 2, 12);
    probe = () => ({ l: m.loss(x, { seed: 3 }), r: m.reconstruct(x, { seed: 4 }), g: m.generate({ count: 2, seed: 5 }), s: m.save() });
    const seedOpts = (what) => options(`${what} options`, { seed: 9 }, { seed: optInt('seed', 0, 0xffffffff) });
    specs.push({ id: 'DRAW.trainBatch', call: (...a) => m.trainBatch(...a), args: [img(2)], mutating: true });
    specs.push({ id: 'DRAW.loss', call: (...a) => m.loss(...a), args: [img(2), seedOpts('loss')] });
    specs.push({ id: 'DRAW.reconstruct', call: (...a) => m.reconstruct(...a), args: [img(2), seedOpts('reconstruct')] });
    specs.push({
      id: 'DRAW.generate', call: (...a) => m.generate(...a),
      args: [options('generate options', { count: 2, seed: 1 }, { count: optInt('count', 1, 100000), seed: optInt('seed', 0, 0xffffffff) })],
    });
  } else {
    const seq = new Float32Array(4 * m.bits).map((_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    probe = () => ({ c: m.copy(seq, 4), e: m.evaluateCopy?.({ batch: 2, minLength: 2, maxLength: 3, count: 2, seed: 1 }), s: m.save() });
    const lens = (batchMax) => ({ batch: optInt('batch', 1, batchMax), minLength: optInt('minLength', 1, 10000), maxLength: optInt('maxLength', 1, 10000) });
    specs.push({
      id: 'NTM.trainCopy', call: (...a) => m.trainCopy(...a), mutating: true,
      args: [options('trainCopy options', { batch: 2, minLength: 2, maxLength: 3 }, lens(65536))],
      extra: [
        { args: [{ batch: 2, minLength: 5, maxLength: 3 }], cls: 'R', names: ['maxLength', 'minLength'], what: 'maxLength < minLength' },
        { args: [{ batch: 65536, minLength: 10000, maxLength: 10000 }], cls: 'R', names: ['batch', 'sequences', 'length'], what: 'batch 65536 × length 10000 (over 1 GiB)' },
      ],
    });
    if (m.evaluateCopy) {
      specs.push({
        id: 'NTM.evaluateCopy', call: (...a) => m.evaluateCopy(...a),
        args: [options('evaluateCopy options', { batch: 2, minLength: 2, maxLength: 3, count: 2, seed: 1 },
          { ...lens(65536), count: optInt('count', 1, 1 << 24), seed: optInt('seed', 0, 0xffffffff) })],
        extra: [{ args: [{ batch: 65536, minLength: 10000, maxLength: 10000, count: 65536 }], cls: 'R', names: ['batch', 'sequences', 'length'], what: 'over 1 GiB' }],
      });
    }
    const seqArg = {
      ...f32('sequence', 3 * m.bits, { lo: 0, hi: 1 }),
      valid: seq.subarray(0, 3 * m.bits).slice(),
    };
    const sb = seqArg.bad;
    seqArg.bad = () => [...sb(), ...[NaN, 2, -1, Infinity].map((v) => {
      const a = seqArg.valid.slice();
      a[1] = v;
      return bad(a, 'R', ['sequence'], `a bit ${v}`);
    })];
    specs.push({
      id: 'NTM.copy', call: (...a) => m.copy(...a),
      args: [seqArg, int('length', 3, 1, 10000, { names: ['length', 'sequence'] }), options('copy options', { traces: true }, { traces: optBool('traces') })],
    });
    // the task entry points (a copy model here; the other tasks' option rules: tests/ntm_tasks.test.js)
    const huge = { batch: 65536, minLength: 10000, maxLength: 10000 };
    specs.push({
      id: 'NTM.trainTask', call: (...a) => m.trainTask(...a), mutating: true,
      args: [options('trainTask options', { batch: 2, minLength: 2, maxLength: 3 }, lens(65536))],
      extra: [
        { args: [{ batch: 2, minLength: 5, maxLength: 3 }], cls: 'R', names: ['maxLength', 'minLength'], what: 'maxLength < minLength' },
        { args: [{ minRepeats: 2 }], cls: 'R', names: ['minRepeats'], what: "repeat-copy's option on a copy model" },
        { args: [huge], cls: 'R', names: ['batch', 'sequences', 'length'], what: 'batch 65536 × length 10000 (over 1 GiB)' },
      ],
    });
    specs.push({
      id: 'NTM.evaluateTask', call: (...a) => m.evaluateTask(...a),
      args: [options('evaluateTask options', { batch: 2, minLength: 2, maxLength: 3, count: 2, seed: 1 },
        { ...lens(65536), count: optInt('count', 1, 1 << 24), seed: optInt('seed', 0, 0xffffffff) })],
      extra: [{ args: [{ ...huge, count: 65536 }], cls: 'R', names: ['batch', 'sequences', 'length'], what: 'over 1 GiB' }],
    });
    const exOpts = () => options('taskExample options', { seed: 1, minLength: 2, maxLength: 3 },
      { seed: optInt('seed', 0, 0xffffffff), minLength: optInt('minLength', 1, 10000), maxLength: optInt('maxLength', 1, 10000) });
    specs.push({ id: 'NTM.taskExample', call: (...a) => m.taskExample(...a), args: [exOpts()] });
    const ex = m.taskExample({ seed: 3, minLength: 3, maxLength: 3 });
    const Ix = m.inputWidth;
    const withInput = (input, what, cls = 'R') => bad({ ...ex, input }, cls, ['input'], what);
    const broken = (edit, what) => {
      const a = ex.input.slice();
      edit(a);
      return withInput(a, what);
    };
    const exampleArg = {
      name: 'example',
      valid: ex,
      bad: () => [
        ...notTyped(['example']).filter((b) => typeof b.v !== 'object' || b.v === null),
        bad([ex.input], 'T', ['example'], 'an array'), bad(ex.input, 'T', ['example'], 'a Float32Array'),
        bad({ ...ex, bogusKey: 1 }, 'R', ['bogusKey'], 'unknown key'),
        ...['x', null, 3, [0, 1]].map((v) => withInput(v, `input ${show(v)}`, 'T')),
        withInput(new Float64Array(ex.input.length), 'input Float64Array', 'T'),
        withInput(new Float32Array(ex.input.length + 1), 'input of steps×width + 1 floats'),
        withInput(new Float32Array(0), 'an empty input'),
        broken((a) => { a[5] = NaN; }, 'a NaN in the input'),
        broken((a) => { a[1] = 2; }, 'a bit 2'),
        broken((a) => { a[3 * Ix + m.bits] = 0; }, 'no delimiter'),
        broken((a) => { a[5 * Ix] = 1; }, 'a bit in the output phase'),
        withInput(ex.input.slice(0, ex.input.length - Ix), 'one step short'),
        bad({ seed: -1 }, 'R', ['seed'], 'the options of an example: seed -1'),
        bad({ minLength: 0 }, 'R', ['minLength'], 'the options of an example: minLength 0'),
        bad({ itemLength: 2 }, 'R', ['itemLength'], "the options of an example: recall's itemLength"),
      ],
    };
    specs.push({
      id: 'NTM.runTask', call: (...a) => m.runTask(...a),
      args: [exampleArg, options('runTask options', { traces: true }, { traces: optBool('traces') })],
    });
  }
  // trainFor: one step at ms 0; what nextBatch returns goes through the model's own checks
  const nextValid = kind === 'STN' ? () => ({ images: modelImages(m, 2, 11), labels: [0, 2] })
    : kind === 'DRAW' ? () => modelImages(m, 2, 11) : () => ({ batch: 2, minLength: 2, maxLength: 3 });
  specs.push({
    id: `${kind}.trainFor`, call: (...a) => m.trainFor(...a), mutating: true,
    args: [num('ms', 0, 0, Infinity), fnArg('nextBatch', nextValid), fnArg('onStep', () => {}, { optional: true })],
    extra: [
      { args: [0, () => null], cls: 'T', names: ['nextBatch', 'images', 'options'], what: 'nextBatch returns null' },
      { args: [0, () => ({ images: new Float32Array(3), labels: [0] })], cls: 'E', names: ['images', 'options'], what: 'nextBatch returns a wrong batch' },
    ],
  });
  specs.push({ id: `${kind}.learningRate=`, call: setLr, args: [lr], mutating: true });
  specs.push({ id: `${kind}.save`, call: (...a) => m.save(...a), args: [options('save options', { float16: true }, { float16: optBool('float16') })] });
  for (const s of specs) s.probe = probe;
  return specs;
}

/** Constructor and loader specs; the probe builds a model from valid input and takes its probe. */
function constructorSpecs(kind) {
  const M = MODELS[kind];
  if (!g[M.create]) return [];
  const specs = [];
  const probeOf = (m) => {
    const ms = modelSpecs(kind, m);
    const r = ms[0].probe();
    m.free();
    return r;
  };
  const createOpts = options(`${M.create} options`, M.opts, M.optionKeys);
  specs.push({
    id: M.create, call: g[M.create], args: [createOpts], mutating: true, probe: () => probeOf(g[M.create](M.opts)),
    extra: M.huge.map((h) => ({ args: [{ ...M.opts, ...h.o }], cls: 'R', names: h.names, what: `in-range options needing > 1 GiB: ${show(h.o)}` })),
  });
  const saved = g[M.create](M.opts);
  const bytes = saved.save();
  saved.free();
  specs.push({
    id: M.load, call: g[M.load], args: [bytesArg('bytes', bytes)], mutating: true, probe: () => probeOf(g[M.load](bytes)),
    extra: [
      // malformed bytes are an Error (not a Type/RangeError): the message names the loader
      { args: [new Uint8Array(0)], cls: 'Error', names: [M.load], what: 'empty bytes' },
      { args: [bytes.subarray(0, 40)], cls: 'Error', names: [M.load], what: 'truncated' },
      { args: [uniformBytes(bytes.length)], cls: 'Error', names: [M.load], what: 'random bytes' },
    ],
  });
  return specs;
}

function uniformBytes(n) {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(rand() * 256);
  return a;
}

// ------------------------------------------------------------------------------------------
// The barrage.

function expectedClass(cls) {
  return { T: [TypeError], R: [RangeError], E: [TypeError, RangeError], Error: [Error] }[cls];
}

/** Run one case; returns null when it behaved, else a problem description. */
async function runCase(spec, args, cls, names, what) {
  const t0 = performance.now();
  let result, error;
  try {
    result = spec.call(...args);
    if (spec.async || result instanceof Promise) result = await result;
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const where = `${spec.id}(${args.map(show).join(', ')}) [${what}]`;
  if (!error) {
    if (result && typeof result.free === 'function') result.free();
    return `${where}: accepted (no error)`;
  }
  const classes = expectedClass(cls);
  const okClass = cls === 'Error' ? error.constructor === Error : classes.some((C) => error.constructor === C);
  const msg = String(error?.message ?? error);
  if (error instanceof WebAssembly.RuntimeError) return `${where}: wasm trap ${msg}`;
  if (!okClass) return `${where}: ${error?.constructor?.name} (expected ${classes.map((C) => C.name).join(' or ')}): ${msg}`;
  if (!names.some((n) => msg.includes(n))) return `${where}: message does not name ${names.map((n) => `'${n}'`).join(' or ')}: ${msg}`;
  if (ms > SLOW_MS) return `${where}: took ${ms.toFixed(0)} ms to refuse`;
  return null;
}

/** All bad cases of a spec (one argument wrong at a time, the others valid) plus its extras. */
function casesOf(spec) {
  const valid = spec.args.map((a) => a.valid);
  const cases = [];
  spec.args.forEach((a, i) => {
    for (const b of a.bad()) {
      const args = valid.slice();
      args[i] = b.v;
      cases.push({ args, cls: b.cls, names: b.names, what: `${a.name}: ${b.what}` });
    }
  });
  for (const e of spec.extra ?? []) cases.push(e);
  return cases;
}

async function barrage(t, specs, label) {
  const before = new Map();
  const validOf = (s) => (s.mutating ? s.probe() : s.probe ? { v: s.call(...s.args.map((a) => a.valid)), p: s.probe() } : s.call(...s.args.map((a) => a.valid)));
  for (const s of specs) before.set(s.id, sig(await validOf(s)));
  const plan = [];
  for (const s of specs) {
    const all = shuffle(casesOf(s));
    const extras = all.filter((c) => (s.extra ?? []).includes(c));
    const rest = all.filter((c) => !extras.includes(c)).slice(0, Math.max(0, PER_SPEC - extras.length));
    for (const c of [...extras, ...rest]) plan.push([s, c]);
  }
  shuffle(plan);
  const problems = [];
  const mem0 = g.memoryBytes();
  const t0 = performance.now();
  let n = 0;
  for (const [s, c] of plan) {
    const p = await runCase(s, c.args, c.cls, c.names, c.what);
    n++;
    if (p) problems.push(p);
    // the instance still gives the same result on the fixed valid call, right after the case
    const now = sig(await validOf(s));
    if (now !== before.get(s.id)) problems.push(`${s.id}: the fixed valid call changed after [${c.what}]`);
  }
  for (const s of specs) {
    if (sig(await validOf(s)) !== before.get(s.id)) problems.push(`${s.id}: the fixed valid call changed after the barrage`);
  }
  const ms = performance.now() - t0;
  const grown = (g.memoryBytes() - mem0) / 2 ** 20;
  t.diagnostic(`${label}: ${n} wrong-input cases over ${specs.length} entry points in ${(ms / 1000).toFixed(1)} s (seed ${SEED}); wasm memory +${grown.toFixed(1)} MiB; ${problems.length} problems`);
  if (grown > 64) problems.push(`wasm memory grew by ${grown.toFixed(0)} MiB during a barrage of refused calls`);
  return { n, problems };
}

const report = (problems) => (problems.length ? `${problems.length} problems:\n  ${problems.slice(0, 60).join('\n  ')}${problems.length > 60 ? '\n  …' : ''}` : '');

// ------------------------------------------------------------------------------------------
// Coverage: every public function / model method that exists has a spec; API.md's exist.

const API_KERNELS = {
  stn: ['affineGrid', 'affineGridBackward', 'gridSample', 'gridSampleBackward', 'projectiveGrid', 'projectiveGridBackward', 'tpsGrid', 'tpsGridBackward'],
  draw: ['filterbank', 'read', 'readBackward', 'write', 'writeBackward'],
  ntm: ['address', 'addressBackward', 'read', 'write'],
};
// memoryBytes and close take no arguments (close: tests/threads.test.js); distort and pretrained have specs above
const TOP_LEVEL = ['distort', 'memoryBytes', 'pretrained', 'close', 'tensor', 'zeros'];

/** Public member names of a model object: methods, getters and setters up the prototype chain. */
function members(obj) {
  const out = new Set();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || k.startsWith('_')) continue;
      out.add(k);
    }
  }
  return out;
}

test('coverage: every public entry point that exists has a barrage spec, and API.md\'s entry points exist', () => {
  const specIds = new Set(kernelSpecs().map((s) => s.id));
  const missing = [];
  for (const [ns, fns] of Object.entries(API_KERNELS)) {
    if (!g[ns]) continue; // module not there (yet)
    for (const f of fns) if (typeof g[ns][f] !== 'function') missing.push(`g.${ns}.${f} (in API.md) is missing`);
    for (const [k, v] of Object.entries(g[ns])) {
      if (typeof v === 'function' && !specIds.has(`${ns}.${k}`)) missing.push(`g.${ns}.${k} has no robustness spec`);
    }
  }
  const known = new Set([...TOP_LEVEL, ...Object.values(MODELS).flatMap((m) => [m.create, m.load])]);
  for (const [k, v] of Object.entries(g)) {
    if (typeof v === 'function' && !known.has(k)) missing.push(`g.${k} has no robustness spec`);
  }
  for (const [kind, M] of Object.entries(MODELS)) {
    if (!g[M.create]) continue;
    if (typeof g[M.load] !== 'function') missing.push(`g.${M.load} is missing beside g.${M.create}`);
    const m = g[M.create](M.opts);
    const have = members(m);
    for (const f of M.api) if (!have.has(f)) missing.push(`${kind}.${f} (in API.md) is missing`);
    const specced = new Set(modelSpecs(kind, m).map((s) => s.id.slice(kind.length + 1).replace(/=$/, '')));
    // no-argument members checked by the lifecycle test instead
    for (const k of ['free', 'freed', 'ptr', 'parameterCount', 'learningRate']) specced.add(k);
    for (const k of have) if (!specced.has(k)) missing.push(`${kind}.${k} has no robustness spec`);
    m.free();
  }
  assert.deepEqual(missing, []);
});

test('kernels: wrong inputs throw TypeError/RangeError naming the argument; results unchanged afterwards', async (t) => {
  const { n, problems } = await barrage(t, kernelSpecs(), 'kernels');
  assert.ok(n >= 200, `only ${n} cases`);
  assert.equal(problems.length, 0, report(problems));
});

for (const kind of Object.keys(MODELS)) {
  const M = MODELS[kind];
  test(`${kind}: constructor, loader and every method refuse wrong inputs; the model is unchanged (bit-identical) afterwards`, { skip: !g[M.create] && `g.${M.create} does not exist (yet)` }, async (t) => {
    const m = g[M.create](M.opts);
    const twin = g[M.create](M.opts); // never barraged
    const specs = [...constructorSpecs(kind), ...modelSpecs(kind, m)];
    const { n, problems } = await barrage(t, specs, kind);
    assert.ok(n >= 100, `only ${n} cases`);
    // optimiser state and RNG streams untouched too: one valid training step on both gives the same numbers
    const step = (x) => {
      if (kind === 'STN') return x.trainBatch(modelImages(x, 4, 99), [0, 1, 2, 1]);
      if (kind === 'DRAW') return x.trainBatch(modelImages(x, 4, 99));
      return x.trainCopy({ batch: 2, minLength: 2, maxLength: 3 });
    };
    for (let i = 0; i < 2; i++) {
      if (sig(step(m)) !== sig(step(twin))) problems.push(`training step ${i} after the barrage differs from a twin model that was never barraged`);
    }
    if (sig(m.save()) !== sig(twin.save())) problems.push('weights after training differ from the twin\'s');
    m.free();
    twin.free();
    assert.equal(problems.length, 0, report(problems));
  });
}

test('top level and data: pretrained, parseIdx, loadIdx, loadMnist refuse wrong types with TypeError/RangeError', async (t) => {
  const problems = [];
  const specs = [
    { id: 'pretrained', call: g.pretrained, async: true, args: [{ name: 'name', valid: 'ntm-copy', bad: () => [...notTyped(['name', 'pretrained']).filter((b) => typeof b.v !== 'string'), ...['', 'stn', 'NTM-COPY', 'ntm-copy ', '../package.json'].map((v) => bad(v, 'R', ['name', 'pretrained'], show(v)))] }] },
    { id: 'parseIdx', call: parseIdx, args: [{ name: 'bytes', valid: null, bad: () => notTyped(['bytes', 'parseIdx']) }] },
    { id: 'loadIdx', call: loadIdx, async: true, args: [{ name: 'source', valid: null, bad: () => notTyped(['source', 'loadIdx']).filter((b) => typeof b.v !== 'string') }] },
    {
      id: 'loadMnist', call: loadMnist, async: true,
      args: [{ name: 'options', valid: null, bad: () => [bad('x', 'T', ['options'], 'a string'), bad(null, 'T', ['options'], 'null'), bad({ bogusKey: 1 }, 'R', ['bogusKey'], 'unknown key'), bad({ url: 5 }, 'T', ['url'], 'url 5'), bad({ url: null }, 'T', ['url'], 'url null')] }],
    },
  ];
  let n = 0;
  for (const s of specs) {
    for (const c of casesOf(s)) {
      const p = await runCase(s, c.args, c.cls, c.names, c.what);
      n++;
      if (p) problems.push(p);
    }
  }
  // malformed IDX bytes are an Error that says why
  for (const [bytes, why] of [[new Uint8Array([0, 0, 8]), 'truncated'], [new Uint8Array([1, 2, 8, 1, 0, 0, 0, 1, 5]), 'magic'], [new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 5]), 'truncated'], [new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), 'extra']]) {
    n++;
    try {
      parseIdx(bytes);
      problems.push(`parseIdx accepted ${why} bytes`);
    } catch (e) {
      if (e.constructor !== Error || !e.message.includes(why)) problems.push(`parseIdx (${why}): ${e.constructor.name}: ${e.message}`);
    }
  }
  t.diagnostic(`${n} cases`);
  assert.equal(problems.length, 0, report(problems));
});

test('wasm32 size_t: gridSample inputs within the limit whose padded workspace would wrap are RangeErrors, not traps', { skip: freemem() < 4 * 2 ** 30 && 'needs 4 GiB of free memory' }, async (t) => {
  // C = 2^32 / 108: C·(1+2)·(1+2)·4 bytes·3 planes is 2^32 + 32, which a 32-bit size_t wraps to 32
  // bytes (backward); 2^32 / 36 likewise for the forward's single plane. Both inputs are under 1 GiB.
  const gi = await load(); // a fresh instance: the inputs alone grow its memory by ~1 GB
  const grid = new Float32Array([0.1, -0.2]);
  const problems = [];
  for (const [what, C, f] of [
    ['gridSampleBackward', Math.ceil(2 ** 32 / 108), (C, x) => gi.stn.gridSampleBackward(x, x, [1, C, 1, 1], grid, [1, 1])],
    ['gridSample', Math.ceil(2 ** 32 / 36), (C, x) => gi.stn.gridSample(x, [1, C, 1, 1], grid, [1, 1])],
  ]) {
    const p = await runCase({ id: what, call: () => f(C, new Float32Array(C)) }, [], 'R', ['input', 'size'], `C = ${C}, 1x1 images`);
    if (p) problems.push(p);
  }
  t.diagnostic(`wasm memory of the instance: ${(gi.memoryBytes() / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(problems.length, 0, report(problems));
});

test('wasm32 size_t: a DRAW batch whose activations would wrap (T·B·H·W = 2^32) is a RangeError, not a trap', { skip: (!g.createDRAW && 'no createDRAW') || (freemem() < 4 * 2 ** 30 && 'needs 4 GiB of free memory') }, async (t) => {
  // every option in range, the batch of 256 images of 256×256 under the input limit; the model
  // alone takes ~0.6 GB (its encoder sees 2·256² floats per step), hence a fresh instance
  const gi = await load();
  const m = gi.createDRAW({ T: 256, attention: false, hidden: 64, latent: 16, height: 256, width: 256 });
  const p = await runCase({ id: 'DRAW.trainBatch', call: () => m.trainBatch(new Float32Array(256 * 256 * 256).fill(0.7)) }, [], 'R', ['batch', 'images'], 'T 256 × batch 256 × 256²');
  m.free();
  t.diagnostic(`wasm memory of the instance: ${(gi.memoryBytes() / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(p, null, p ?? '');
});

// ------------------------------------------------------------------------------------------
// Lifecycle.

test('lifecycle: free() is idempotent and every member used after free() throws an Error naming the model', (t) => {
  const problems = [];
  for (const [kind, M] of Object.entries(MODELS)) {
    if (!g[M.create]) continue;
    const m = g[M.create](M.opts);
    const specs = modelSpecs(kind, m);
    m.free();
    try {
      m.free();
      m.free();
    } catch (e) {
      problems.push(`${kind}.free() twice threw ${e.message}`);
    }
    if (m.freed !== true) problems.push(`${kind}.freed is not true after free()`);
    const uses = [
      ...specs.map((s) => [s.id, () => s.call(...s.args.map((a) => a.valid))]),
      [`${kind}.parameterCount`, () => m.parameterCount],
      [`${kind}.learningRate (get)`, () => m.learningRate],
      [`${kind}.save()`, () => m.save()],
    ];
    for (const [id, f] of uses) {
      try {
        f();
        problems.push(`${id} after free() did not throw`);
      } catch (e) {
        if (!(e instanceof Error) || e instanceof WebAssembly.RuntimeError || !e.message.includes(kind)) {
          problems.push(`${id} after free(): ${e?.constructor?.name}: ${e?.message} (expected an Error naming ${kind})`);
        }
      }
    }
    t.diagnostic(`${kind}: ${uses.length} members refused after free()`);
  }
  assert.equal(problems.length, 0, report(problems));
});

test('lifecycle: models and instances coexist: interleaved training gives the numbers of each model trained alone', async (t) => {
  const kinds = Object.entries(MODELS).filter(([, M]) => g[M.create]);
  const steps = 3;
  const run = (gg, kind, opts, i) => {
    const m = gg.__models[`${kind}${opts.seed}`];
    if (kind === 'STN') return m.trainBatch(modelImages(m, 4, 100 + i), [i % 3, 1, 2, 0]);
    if (kind === 'DRAW') return m.trainBatch(modelImages(m, 3, 100 + i));
    return m.trainCopy({ batch: 2, minLength: 2, maxLength: 4 });
  };
  const roster = kinds.flatMap(([kind, M]) => [[kind, M, { ...M.opts, seed: 1 }], [kind, M, { ...M.opts, seed: 2 }]]);
  // interleaved: all models (two of each kind) in one instance, one step each in turn
  const shared = await load();
  shared.__models = {};
  for (const [kind, M, o] of roster) shared.__models[`${kind}${o.seed}`] = shared[M.create](o);
  const inter = {};
  for (let i = 0; i < steps; i++) {
    for (const [kind, , o] of roster) (inter[`${kind}${o.seed}`] ??= []).push(sig(run(shared, kind, o, i)));
  }
  for (const [kind, , o] of roster) inter[`${kind}${o.seed}`].push(sig(shared.__models[`${kind}${o.seed}`].save()));
  // alone: each model in an instance of its own, plus another instance running at the same time
  const problems = [];
  const other = await load();
  other.__models = {};
  for (const [kind, M, o] of roster) {
    const alone = await load();
    alone.__models = { [`${kind}${o.seed}`]: alone[M.create](o) };
    other.__models[`${kind}${o.seed}`] = other[M.create](o);
    const seq = [];
    for (let i = 0; i < steps; i++) {
      seq.push(sig(run(alone, kind, o, i)));
      run(other, kind, o, i); // the same work in a second live instance, interleaved
    }
    seq.push(sig(alone.__models[`${kind}${o.seed}`].save()));
    if (seq.join() !== inter[`${kind}${o.seed}`].join()) problems.push(`${kind} seed ${o.seed}: interleaved training differs from training alone`);
    if (sig(other.__models[`${kind}${o.seed}`].save()) !== seq.at(-1)) problems.push(`${kind} seed ${o.seed}: the model in the second instance differs`);
    alone.__models[`${kind}${o.seed}`].free();
  }
  for (const m of [...Object.values(shared.__models), ...Object.values(other.__models)]) m.free();
  t.diagnostic(`${roster.length} models × ${steps} steps interleaved in one instance vs alone`);
  assert.equal(problems.length, 0, report(problems));
});
