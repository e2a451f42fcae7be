// g.ntm: the NTM memory kernels (src/ntm.c, src/js/ntm.js) in both wasm builds.
//  - against PyTorch autograd fixtures (tests/gen_fixtures_ntm.py → tests/fixtures/ntm.json):
//    address forward and every gradient, read and write forward and backward;
//  - finite differences of addressBackward for every input (away from the kinks: rows and key
//    far from zero norm, w̃ far above 1e-30);
//  - SIMD build vs scalar build, and fast kernels vs the scalar _ref oracles in each build;
//  - argument validation (RangeError / TypeError naming the argument; the instance keeps working);
//  - finiteness at extremes (β = 1000, γ = 50, a zero memory row, a zero key).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadTestBuilds, fixture, rng, uniform, compare } from './util.js';
import { makeNtm } from '../src/js/ntm.js';

const fx = fixture('ntm.json');
const f32 = (a) => Float32Array.from(a);
let builds; // [name, { g, fast, ref }]

before(async () => {
  builds = (await loadTestBuilds()).map(([name, g]) => [
    name,
    { g, fast: makeNtm(g._core, { testing: true }), ref: makeNtm(g._core, { reference: true, testing: true }) },
  ]);
});

// |a − b| <= atol·max(max|b|, 1e-2) + rtol·|b| over the tensor: gradients of very different scales (a zero
// memory row has gradients ~1e5) are judged relative to the tensor's own scale.
function closeScaled(actual, expected, name, { atol = 1e-5, rtol = 1e-4 } = {}, stats) {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  let scale = 0;
  for (const x of e) scale = Math.max(scale, Math.abs(x));
  const r = compare(a, e, { atol: atol * Math.max(scale, 1e-2), rtol });
  if (stats) {
    stats.maxAbs = Math.max(stats.maxAbs, r.maxAbs);
    stats.maxRel = Math.max(stats.maxRel, r.maxAbs / Math.max(scale, 1e-2));
  }
  if (!(r.ratio <= 1)) {
    throw new Error(`${name}: max |diff| ${r.maxAbs} (scale ${scale}; worst at [${r.at}]: got ${a[r.at]}, expected ${e[r.at]})`);
  }
}

function paramsOf(c) {
  return {
    memory: f32(c.memory), key: f32(c.key), beta: c.beta, gate: c.gate, shift: f32(c.shift), gamma: c.gamma, prev: f32(c.prev),
  };
}

const GRADS = ['dMemory', 'dKey', 'dBeta', 'dGate', 'dShift', 'dGamma', 'dPrev'];

test('address and addressBackward match PyTorch (both builds)', (t) => {
  for (const [name, { fast }] of builds) {
    const sw = { maxAbs: 0, maxRel: 0 }, sg = { maxAbs: 0, maxRel: 0 }, sz = { maxAbs: 0, maxRel: 0 };
    for (const c of fx.address) {
      const p = paramsOf(c);
      const w = fast.address(p, [c.R, c.C]);
      closeScaled(w, c.w, `${name} ${c.name} w`, { atol: 1e-6, rtol: 1e-4 }, sw);
      const d = fast.addressBackward(f32(c.dW), p, [c.R, c.C]);
      // The zero-row / zero-key cases have gradients ~1e5..1e7 (K = M·k/1e-8 below the clamp).
      const st = /zero/.test(c.name) ? sz : sg;
      for (const k of GRADS) closeScaled(d[k], c[k], `${name} ${c.name} ${k}`, { atol: 2e-5, rtol: 1e-3 }, st);
    }
    t.diagnostic(`${name}: w max |diff| ${sw.maxAbs.toExponential(2)}; gradients max |diff| ${sg.maxAbs.toExponential(2)} ` +
      `(max |diff|/tensor scale ${sg.maxRel.toExponential(2)}); zero-row/zero-key cases max |diff|/scale ${sz.maxRel.toExponential(2)}`);
  }
});

test('read/write forward and backward match PyTorch (both builds)', (t) => {
  for (const [name, { fast }] of builds) {
    const st = { maxAbs: 0, maxRel: 0 };
    for (const c of fx.read) {
      const M = f32(c.memory), w = f32(c.w), sz = [c.R, c.C];
      closeScaled(fast.read(M, w, sz), c.r, `${name} read ${c.R}x${c.C} r`, undefined, st);
      const d = fast.readBackward(f32(c.dR), M, w, sz);
      closeScaled(d.dMemory, c.dMemory, `${name} read dMemory`, undefined, st);
      closeScaled(d.dW, c.dW, `${name} read dW`, undefined, st);
    }
    for (const c of fx.write) {
      const M = f32(c.memory), w = f32(c.w), e = f32(c.erase), a = f32(c.add), sz = [c.R, c.C];
      closeScaled(fast.write(M, w, e, a, sz), c.out, `${name} write ${c.R}x${c.C} out`, undefined, st);
      const d = fast.writeBackward(f32(c.dOut), M, w, e, a, sz);
      for (const k of ['dMemory', 'dW', 'dErase', 'dAdd']) closeScaled(d[k], c[k], `${name} write ${k}`, undefined, st);
    }
    t.diagnostic(`${name}: read/write max |diff| ${st.maxAbs.toExponential(2)}`);
  }
});

// Random address inputs away from the kinks.
function randomParams(seed, R, C, S, { beta = 5, gate = 0.6, gamma = 2.5 } = {}) {
  const r = rng(seed);
  const soft = (n, spread) => {
    const a = new Float64Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] = Math.exp(spread * (r() - 0.5));
    return Float32Array.from(a, (x) => x / s);
  };
  return {
    memory: uniform(r, R * C, -1, 1), key: uniform(r, C, -1, 1), beta, gate, shift: soft(S, 2), gamma, prev: soft(R, 3),
  };
}

test('addressBackward agrees with finite differences for every input', (t) => {
  const cases = [
    { seed: 1, R: 9, C: 5, S: 3, opts: { beta: 5, gate: 0.6, gamma: 2.5 } },
    { seed: 2, R: 7, C: 6, S: 5, opts: { beta: 12, gate: 0.3, gamma: 1.05 } }, // γ − h stays >= 1
  ];
  for (const [name, { fast }] of builds) {
    let worst = 0;
    for (const { seed, R, C, S, opts } of cases) {
      const p = randomParams(seed, R, C, S, opts);
      const dW = uniform(rng(seed + 100), R, -1, 1);
      const loss = (q) => {
        const w = fast.address(q, [R, C]);
        let L = 0;
        for (let i = 0; i < R; i++) L += dW[i] * w[i];
        return L;
      };
      const an = fast.addressBackward(dW, p, [R, C]);
      const check = (key, grad, perturb, h) => {
        const n = typeof grad === 'number' ? 1 : grad.length;
        let scale = 0;
        for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(typeof grad === 'number' ? grad : grad[i]));
        for (let i = 0; i < n; i++) {
          const fd = (loss(perturb(i, h)) - loss(perturb(i, -h))) / (2 * h);
          const g = typeof grad === 'number' ? grad : grad[i];
          const err = Math.abs(fd - g) / (1e-3 + 2e-2 * scale);
          worst = Math.max(worst, err);
          assert.ok(err <= 1, `${name} R${R} C${C} S${S} ${key}[${i}]: analytic ${g} vs finite difference ${fd} (scale ${scale})`);
        }
      };
      const arr = (k) => (i, h) => {
        const a = Float32Array.from(p[k]);
        a[i] += h;
        return { ...p, [k]: a };
      };
      const num = (k) => (_i, h) => ({ ...p, [k]: p[k] + h });
      check('dMemory', an.dMemory, arr('memory'), 1e-3);
      check('dKey', an.dKey, arr('key'), 1e-3);
      check('dBeta', an.dBeta, num('beta'), 1e-3 * opts.beta);
      check('dGate', an.dGate, num('gate'), 1e-3);
      check('dShift', an.dShift, arr('shift'), 2e-4); // keeps Σ shift within the 1e-3 tolerance
      check('dGamma', an.dGamma, num('gamma'), 1e-3);
      check('dPrev', an.dPrev, arr('prev'), 1e-4);
    }
    t.diagnostic(`${name}: worst |fd − analytic| / (1e-3 + 2e-2·scale) = ${worst.toFixed(3)}`);
  }
});

test('SIMD build agrees with scalar build; fast kernels agree with the _ref oracles', (t) => {
  const [[, A], [, B]] = builds;
  const shapes = [[128, 20, 3], [128, 20, 5], [17, 7, 5], [5, 3, 1], [3, 9, 7]];
  let worst = 0;
  const cmp = (a, b, name) => {
    const st = { maxAbs: 0, maxRel: 0 };
    closeScaled(a, b, name, { atol: 1e-5, rtol: 1e-4 }, st);
    worst = Math.max(worst, st.maxRel);
  };
  shapes.forEach(([R, C, S], n) => {
    const p = randomParams(10 + n, R, C, S, { beta: 15, gate: 0.8, gamma: 3 });
    const r = rng(50 + n);
    const dW = uniform(r, R, -1, 1), dR = uniform(r, C, -1, 1), dOut = uniform(r, R * C, -1, 1);
    const erase = uniform(r, C, 0, 1), add = uniform(r, C, -1, 1);
    const run = (ns) => {
      const w = ns.address(p, [R, C]);
      return {
        w, ...ns.addressBackward(dW, p, [R, C]),
        r: ns.read(p.memory, w, [R, C]), ...prefix('read', ns.readBackward(dR, p.memory, w, [R, C])),
        out: ns.write(p.memory, w, erase, add, [R, C]), ...prefix('write', ns.writeBackward(dOut, p.memory, w, erase, add, [R, C])),
      };
    };
    const ra = run(A.fast), rb = run(B.fast), refA = run(A.ref), refB = run(B.ref);
    for (const k of Object.keys(ra)) {
      cmp(ra[k], rb[k], `simd vs scalar R${R} C${C} S${S} ${k}`);
      cmp(ra[k], refA[k], `simd fast vs ref R${R} C${C} S${S} ${k}`);
      cmp(rb[k], refB[k], `scalar fast vs ref R${R} C${C} S${S} ${k}`);
    }
  });
  t.diagnostic(`worst |diff|/scale across simd/scalar/ref: ${worst.toExponential(2)}`);
});

function prefix(p, o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}.${k}`, v]));
}

test('validation: bad arguments throw RangeError/TypeError naming the argument; the instance keeps working', () => {
  const R = 6, C = 4;
  const good = randomParams(7, R, C, 3);
  for (const [name, { g }] of builds) {
    const ntm = g.ntm;
    assert.ok(ntm, `${name}: load() provides g.ntm`);
    const before = ntm.address(good, [R, C]);
    const bad = (patch) => ({ ...good, ...patch });
    const rangeCases = [
      [() => ntm.address(bad({ memory: new Float32Array(R * C - 1) }), [R, C]), /memory/],
      [() => ntm.address(bad({ key: new Float32Array(C + 1) }), [R, C]), /key/],
      [() => ntm.address(bad({ prev: new Float32Array(R + 1).fill(1 / (R + 1)) }), [R, C]), /prev/],
      [() => ntm.address(bad({ shift: Float32Array.of(0.5, 0.5) }), [R, C]), /shift.*odd/],
      [() => ntm.address(bad({ shift: new Float32Array(0) }), [R, C]), /shift.*odd/],
      [() => ntm.address(bad({ shift: Float32Array.of(0.2, 0.5, 0.2) }), [R, C]), /shift.*sum/],
      [() => ntm.address(bad({ shift: Float32Array.of(-0.1, 1.0, 0.1) }), [R, C]), /shift/],
      [() => ntm.address(bad({ shift: Float32Array.of(NaN, 1, 0) }), [R, C]), /shift/],
      [() => ntm.address(bad({ prev: Float32Array.from(good.prev, (x, i) => (i ? x : -x)) }), [R, C]), /prev/],
      [() => ntm.address(bad({ beta: -0.5 }), [R, C]), /beta/],
      [() => ntm.address(bad({ beta: Infinity }), [R, C]), /beta/],
      [() => ntm.address(bad({ gate: 1.5 }), [R, C]), /gate/],
      [() => ntm.address(bad({ gate: -0.01 }), [R, C]), /gate/],
      [() => ntm.address(bad({ gamma: 0.99 }), [R, C]), /gamma/],
      [() => ntm.address(bad({ gamma: NaN }), [R, C]), /gamma/],
      [() => ntm.address(bad({ extra: 1 }), [R, C]), /extra/],
      [() => ntm.address(good, [R, 0]), /size/],
      [() => ntm.address(good, [R, C, 1]), /size/],
      [() => ntm.address(good, [R, 2.5]), /size/],
      [() => ntm.addressBackward(new Float32Array(R + 1), good, [R, C]), /dW/],
      [() => ntm.addressBackward(new Float32Array(R), bad({ gamma: 0 }), [R, C]), /gamma/],
      [() => ntm.read(good.memory, new Float32Array(R - 1), [R, C]), /\bw\b/],
      [() => ntm.read(new Float32Array(3), good.prev, [R, C]), /memory/],
      [() => ntm.write(good.memory, good.prev, new Float32Array(C + 1), new Float32Array(C), [R, C]), /erase/],
      [() => ntm.write(good.memory, good.prev, new Float32Array(C), new Float32Array(C - 1), [R, C]), /add/],
    ];
    for (const [fn, re] of rangeCases) assert.throws(fn, (e) => e instanceof RangeError && re.test(e.message), `${name}: ${fn}`);
    const typeCases = [
      [() => ntm.address(null, [R, C]), /params/],
      [() => ntm.address(good.memory, [R, C]), /params/],
      [() => ntm.address(bad({ memory: Array.from(good.memory) }), [R, C]), /memory/],
      [() => ntm.address(bad({ key: new Float64Array(C) }), [R, C]), /key/],
      [() => ntm.address(bad({ shift: undefined }), [R, C]), /shift/],
      [() => ntm.address(bad({ prev: 'x' }), [R, C]), /prev/],
      [() => ntm.address(bad({ beta: '1' }), [R, C]), /beta/],
      [() => ntm.address(bad({ gate: undefined }), [R, C]), /gate/],
      [() => ntm.address(bad({ gamma: 2n }), [R, C]), /gamma/],
      [() => ntm.address(good, 'R,C'), /size/],
      [() => ntm.address(good, [R, '4']), /size/],
      [() => ntm.addressBackward([0, 0, 0, 0, 0, 0], good, [R, C]), /dW/],
      [() => ntm.read(good.memory, null, [R, C]), /\bw\b/],
      [() => ntm.write(good.memory, good.prev, null, new Float32Array(C), [R, C]), /erase/],
      [() => ntm.write(good.memory, good.prev, new Float32Array(C), {}, [R, C]), /add/],
    ];
    for (const [fn, re] of typeCases) assert.throws(fn, (e) => e instanceof TypeError && re.test(e.message), `${name}: ${fn}`);
    assert.deepEqual(ntm.address(good, [R, C]), before, `${name}: instance still works after errors`);
    // Boundary values are accepted.
    for (const patch of [{ beta: 0 }, { gate: 0 }, { gate: 1 }, { gamma: 1 }, { shift: Float32Array.of(1) }, { shift: Float32Array.of(0, 1.0009, 0) }]) {
      const w = ntm.address(bad(patch), [R, C]);
      assert.equal(w.length, R);
    }
  }
});

test('finite at extremes: β = 1000, γ = 50, zero memory row, zero key, zero prev', (t) => {
  const R = 16, C = 6;
  const cases = [
    { beta: 1000, gamma: 1, gate: 0.5 },
    { beta: 1000, gamma: 50, gate: 1 },
    { beta: 0, gamma: 50, gate: 0.5 },
    { beta: 20, gamma: 50, gate: 1, zeroRow: 3 },
    { beta: 20, gamma: 2, gate: 0.5, zeroKey: true },
    { beta: 1000, gamma: 50, gate: 1, zeroRow: 3, zeroKey: true },
    { beta: 5, gamma: 3, gate: 0, zeroPrev: true },
    { beta: 1000, gamma: 50, gate: 0, zeroRow: 5, zeroKey: true, zeroPrev: true },
    { beta: 1e6, gamma: 1e4, gate: 0.9 },
  ];
  for (const [name, { g }] of builds) {
    for (const c of cases) {
      const p = randomParams(3, R, C, 3, c);
      if (c.zeroRow !== undefined) p.memory.fill(0, c.zeroRow * C, (c.zeroRow + 1) * C);
      if (c.zeroKey) p.key.fill(0);
      if (c.zeroPrev) p.prev.fill(0);
      const label = `${name} ${JSON.stringify(c)}`;
      const w = g.ntm.address(p, [R, C]);
      let sum = 0;
      for (const x of w) {
        assert.ok(Number.isFinite(x) && x >= 0, `${label}: w has ${x}`);
        sum += x;
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `${label}: Σw = ${sum}`);
      const d = g.ntm.addressBackward(uniform(rng(9), R, -1, 1), p, [R, C]);
      for (const k of GRADS) {
        const v = typeof d[k] === 'number' ? [d[k]] : d[k];
        for (const x of v) assert.ok(Number.isFinite(x), `${label}: ${k} has ${x}`);
      }
    }
  }
  t.diagnostic(`${cases.length} extreme cases finite in both builds`);
});
