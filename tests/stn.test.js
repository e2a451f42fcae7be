// Correctness of the STN kernels g.stn (affineGrid, affineGridBackward, gridSample,
// gridSampleBackward) in both wasm builds:
//   - PyTorch fixtures (tests/gen_fixtures_stn.py → tests/fixtures/stn.json, stn_modes.json), every
//     mode (bilinear, nearest, bicubic) × padding × alignCorners, forward and both gradients,
//     nearest's rounding ties, grids holding NaN / ±Inf / huge values (NaN where PyTorch has NaN),
//     affine_grid forward and dTheta;
//   - finite-difference gradient checks in float64 from the float32 forward, away from kinks
//     (bilinear and bicubic; nearest's input gradient, and its grid gradient is zero);
//   - SIMD vs scalar build, fast kernel vs the scalar C oracle (gl_grid_sample*_ref), and native
//     (build/native*/stn_dump) vs wasm on the same inputs;
//   - argument validation (and the instance still works afterwards), memory growth with a 40 MB
//     input, independent load() instances.
// Run: node --test tests/stn.test.js   (needs ./build.sh for the native comparison)
import test from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../src/js/index.js';
import { loadBuilds, loadTestBuilds, rng, uniform, compare, assertClose, fixture, nativeProgram, runNative } from './util.js';

const builds = await loadBuilds();
const testBuilds = await loadTestBuilds(); // with the scalar C oracles
const FX = fixture('stn.json');
const FXM = fixture('stn_modes.json');
const PADS = ['zeros', 'border', 'reflection'];
const MODES = ['bilinear', 'nearest', 'bicubic'];
const COMBOS = PADS.flatMap((padding) => [false, true].map((alignCorners) => ({ padding, alignCorners })));
const f32 = (a) => Float32Array.from(a);
const fmt = (x) => x.toExponential(2);

// ------------------------------------------------------------------------------------------
// An independent float64 oracle in JS: PyTorch's generic grid_sampler formulas (the fmod /
// flip-parity form of reflection, unlike the C code's period-2·span form).

function unnormalize(c, size, align) {
  return align ? ((c + 1) / 2) * (size - 1) : ((c + 1) * size - 1) / 2;
}
/** The same rounded to float32 step by step as PyTorch's CPU kernel (and src/stn.c) computes it:
 * (c + 1) · s − 0.5. For a 1000-pixel axis this differs from the exact value by up to ~1e-4 px. */
function unnormalizeF32(c, size, align) {
  const fr = Math.fround;
  const x = fr(fr(c + 1) * fr(align ? (size - 1) * 0.5 : size * 0.5));
  return align ? x : fr(x - 0.5);
}
/** Pixel coordinate after padding, and d coordinate / d grid value. */
function sourceIndex(c, size, padding, align, f32coords) {
  let x = f32coords ? unnormalizeF32(c, size, align) : unnormalize(c, size, align);
  let g = align ? (size - 1) / 2 : size / 2;
  if (padding === 'reflection') {
    const twiceLow = align ? 0 : -1, twiceHigh = align ? 2 * (size - 1) : 2 * size - 1;
    if (twiceLow === twiceHigh) {
      x = 0;
      g = 0;
    } else {
      const min = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
      const sign = x - min < 0 ? -1 : 1;
      const a = Math.abs(x - min), extra = a % span, flips = Math.floor(a / span);
      if (flips % 2 === 0) {
        x = extra + min;
        g *= sign;
      } else {
        x = span - extra + min;
        g *= -sign;
      }
    }
  }
  if (padding !== 'zeros') {
    if (x <= 0) { x = 0; g = 0; } else if (x >= size - 1) { x = size - 1; g = 0; }
  }
  return [x, g];
}

/** Forward and (with dOut) backward of bilinear grid_sample in float64 (f32coords: the pixel
 * coordinates rounded as in float32 kernels, for large images). */
function jsGridSample(input, [N, C, H, W], grid, [Ho, Wo], { padding = 'zeros', alignCorners = false } = {}, dOut, f32coords = false) {
  const P = Ho * Wo, HW = H * W;
  const out = new Float64Array(N * C * P), dIn = new Float64Array(N * C * HW), dGrid = new Float64Array(N * P * 2);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      const [x, gmx] = sourceIndex(grid[(n * P + p) * 2], W, padding, alignCorners, f32coords);
      const [y, gmy] = sourceIndex(grid[(n * P + p) * 2 + 1], H, padding, alignCorners, f32coords);
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const corners = [
        [x0, y0, (x0 + 1 - x) * (y0 + 1 - y), -(y0 + 1 - y), -(x0 + 1 - x)],
        [x0 + 1, y0, (x - x0) * (y0 + 1 - y), y0 + 1 - y, -(x - x0)],
        [x0, y0 + 1, (x0 + 1 - x) * (y - y0), -(y - y0), x0 + 1 - x],
        [x0 + 1, y0 + 1, (x - x0) * (y - y0), y - y0, x - x0],
      ];
      let gx = 0, gy = 0;
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * HW, o = (n * C + c) * P + p;
        let v = 0;
        for (const [cx, cy, w, dwx, dwy] of corners) {
          if (cx < 0 || cx >= W || cy < 0 || cy >= H) continue;
          const val = input[base + cy * W + cx];
          v += val * w;
          if (dOut) {
            dIn[base + cy * W + cx] += w * dOut[o];
            gx += val * dwx * dOut[o];
            gy += val * dwy * dOut[o];
          }
        }
        out[o] = v;
      }
      dGrid[(n * P + p) * 2] = gmx * gx;
      dGrid[(n * P + p) * 2 + 1] = gmy * gy;
    }
  }
  return { out, dIn, dGrid };
}

// ------------------------------------------------------------------------------------------
// Helpers.

/** Random inputs for one sampling case. */
function randomCase(rand, size, outSize, lo = -1.6, hi = 1.6) {
  const [N, C, H, W] = size, [Ho, Wo] = outSize;
  return {
    size, outSize,
    input: uniform(rand, N * C * H * W),
    grid: uniform(rand, N * Ho * Wo * 2, lo, hi),
    dOut: uniform(rand, N * C * Ho * Wo),
  };
}

/**
 * Redraw grid values whose pixel coordinate (before padding) lies within `margin` pixels of a
 * multiple of 0.5: every kink of bilinear sampling with any padding is there (integer corners,
 * clip points 0 and size-1, reflection points -0.5 + k·size or k·(size-1)).
 */
function avoidKinks(rand, grid, H, W, alignCorners, margin, lo, hi) {
  for (let i = 0; i < grid.length; i++) {
    const size = i % 2 === 0 ? W : H;
    if (alignCorners && size === 1) continue; // the coordinate is 0 whatever the grid says
    for (;;) {
      const x = unnormalize(grid[i], size, alignCorners);
      const d = Math.abs(2 * x - Math.round(2 * x)) / 2;
      if (d > margin) break;
      grid[i] = lo + (hi - lo) * rand();
    }
  }
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central difference of L(arr) = dot(w, f(arr)) at index i, with the perturbation rounded to float32. */
function centralDiff(f, w, arr, i, h) {
  const p = arr.slice(), m = arr.slice();
  p[i] = Math.fround(arr[i] + h);
  m[i] = Math.fround(arr[i] - h);
  return (dot(w, f(p)) - dot(w, f(m))) / (p[i] - m[i]);
}

/** Run the C oracle gl_grid_sample_ref / gl_grid_sample_backward_ref with wasm pointers. */
function refSample(g, c, padding, alignCorners, mode = 'bilinear') {
  const core = g._core, x = core.x;
  const [N, C, H, W] = c.size, [Ho, Wo] = c.outSize;
  const pad = PADS.indexOf(padding), align = alignCorners ? 1 : 0, m = MODES.indexOf(mode);
  const nIn = N * C * H * W, nOut = N * C * Ho * Wo, nGrid = N * Ho * Wo * 2;
  return core.scoped((s) => {
    const pi = s.put(c.input), pg = s.put(c.grid), pd = s.put(c.dOut);
    const po = s.zeros(nOut), pdi = s.zeros(nIn), pdg = s.zeros(nGrid);
    core.check(x.gl_grid_sample_ref(po, pi, pg, N, C, H, W, Ho, Wo, m, pad, align), 'gl_grid_sample_ref');
    core.check(x.gl_grid_sample_backward_ref(pdi, pdg, pd, pi, pg, N, C, H, W, Ho, Wo, m, pad, align), 'gl_grid_sample_backward_ref');
    return { out: s.get(po, nOut), dInput: s.get(pdi, nIn), dGrid: s.get(pdg, nGrid) };
  });
}

function runBoth(g, c, opts) {
  const out = g.stn.gridSample(c.input, c.size, c.grid, c.outSize, opts);
  const { dInput, dGrid } = g.stn.gridSampleBackward(c.dOut, c.input, c.size, c.grid, c.outSize, opts);
  return { out, dInput, dGrid };
}

/** Max |a-b| over arrays (NaN meeting NaN counts as equal), and whether they are bitwise identical. */
function maxDiff(a, b) {
  let m = 0, same = a.length === b.length;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN against a number propagates
    if (!Object.is(a[i], b[i])) same = false;
  }
  return { max: m, same };
}

/** Fixture numbers, with the strings 'NaN', 'Infinity', '-Infinity' of stn_modes.json. */
const f32n = (a) => Float32Array.from(a, (v) => (typeof v === 'string' ? Number(v) : v));

/** assertClose that requires NaN exactly where `expected` has NaN; returns the max |diff| elsewhere. */
function assertCloseNaN(actual, expected, name, tol) {
  assert.equal(actual.length, expected.length, `${name}: length`);
  const a = [], e = [];
  for (let i = 0; i < expected.length; i++) {
    const ne = Number.isNaN(expected[i]);
    if (ne !== Number.isNaN(actual[i])) assert.fail(`${name}: [${i}] is ${actual[i]}, expected ${expected[i]}`);
    if (!ne) { a.push(actual[i]); e.push(expected[i]); }
  }
  assertClose(null, a, e, name, tol);
  return compare(a, e).maxAbs;
}

// ------------------------------------------------------------------------------------------
// 1. PyTorch fixtures.

test('fixture file covers every padding × alignCorners and the affine_grid cases', () => {
  for (const { padding, alignCorners } of COMBOS) {
    assert.ok(FX.gridSample.some((c) => c.padding === padding && c.alignCorners === alignCorners), `${padding}/${alignCorners}`);
  }
  assert.ok(FX.gridSample.some((c) => c.size[0] > 1 && c.size[1] > 1 && (c.outSize[0] * c.outSize[1]) % 4 !== 0));
  assert.ok(FX.affineGrid.some((c) => c.size[2] === 1) && FX.affineGrid.some((c) => c.size[3] === 1));
});

test('the JS float64 oracle matches the PyTorch fixtures', (t) => {
  let worst = 0;
  for (const c of FX.gridSample) {
    const r = jsGridSample(c.input, c.size, c.grid, c.outSize, c, c.dOutput);
    const name = `${c.padding}/align=${c.alignCorners} ${c.size}→${c.outSize}`;
    for (const [k, got, exp] of [['output', r.out, c.output], ['dInput', r.dIn, c.dInput], ['dGrid', r.dGrid, c.dGrid]]) {
      assertClose(null, got, exp, `oracle ${name} ${k}`);
      worst = Math.max(worst, compare(got, exp).maxAbs);
    }
  }
  t.diagnostic(`JS oracle vs PyTorch: max |diff| ${fmt(worst)}`);
});

for (const [name, g] of builds) {
  test(`${name}: gridSample / gridSampleBackward match PyTorch fixtures`, (t) => {
    const worst = { output: 0, dInput: 0, dGrid: 0 };
    for (const c of FX.gridSample) {
      const opts = { padding: c.padding, alignCorners: c.alignCorners };
      const label = `${c.padding}/align=${c.alignCorners} ${c.size}→${c.outSize}`;
      const out = g.stn.gridSample(f32(c.input), c.size, f32(c.grid), c.outSize, opts);
      const { dInput, dGrid } = g.stn.gridSampleBackward(f32(c.dOutput), f32(c.input), c.size, f32(c.grid), c.outSize, opts);
      for (const [k, got] of [['output', out], ['dInput', dInput], ['dGrid', dGrid]]) {
        assertClose(null, got, c[k], `${name} ${label} ${k}`);
        worst[k] = Math.max(worst[k], compare(got, c[k]).maxAbs);
      }
    }
    t.diagnostic(`${name} vs PyTorch max |diff|: output ${fmt(worst.output)}, dInput ${fmt(worst.dInput)}, dGrid ${fmt(worst.dGrid)}`);
  });

  test(`${name}: affineGrid / affineGridBackward match PyTorch fixtures`, (t) => {
    let wg = 0, wt = 0;
    for (const c of FX.affineGrid) {
      const opts = { alignCorners: c.alignCorners };
      const label = `${c.size} align=${c.alignCorners}`;
      const grid = g.stn.affineGrid(f32(c.theta), c.size, opts);
      const dTheta = g.stn.affineGridBackward(f32(c.dGrid), c.size, opts);
      assertClose(null, grid, c.grid, `${name} affineGrid ${label}`);
      assertClose(null, dTheta, c.dTheta, `${name} affineGridBackward ${label}`);
      wg = Math.max(wg, compare(grid, c.grid).maxAbs);
      wt = Math.max(wt, compare(dTheta, c.dTheta).maxAbs);
    }
    t.diagnostic(`${name} vs PyTorch max |diff|: grid ${fmt(wg)}, dTheta ${fmt(wt)}`);
  });
}

test('mode fixtures cover nearest and bicubic × every padding × alignCorners, ties, and non-finite grids in every mode', () => {
  for (const mode of ['nearest', 'bicubic']) {
    for (const { padding, alignCorners } of COMBOS) {
      assert.ok(FXM.modes.some((c) => c.mode === mode && c.padding === padding && c.alignCorners === alignCorners), `${mode} ${padding}/${alignCorners}`);
    }
  }
  for (const mode of MODES) {
    for (const { padding, alignCorners } of COMBOS) {
      const c = FXM.nonFinite.find((k) => k.mode === mode && k.padding === padding && k.alignCorners === alignCorners);
      assert.ok(c && c.grid.includes('NaN') && c.grid.includes('Infinity') && c.grid.includes('-Infinity'), `non-finite ${mode} ${padding}/${alignCorners}`);
      // the backward is in the fixture except where torch 1.13 crashes (bilinear, border / reflection)
      assert.equal(c.backward === null, mode === 'bilinear' && padding !== 'zeros', `non-finite ${mode} ${padding} backward`);
    }
  }
  assert.equal(FXM.ties.length, COMBOS.length);
  // a test that cannot fail is a defect: the non-finite fixtures do hold NaN outputs and gradients
  assert.ok(FXM.nonFinite.some((c) => c.output.includes('NaN')) && FXM.nonFinite.some((c) => c.dGrid?.includes('NaN')));
  assert.ok(FXM.nonFinite.some((c) => c.dInput?.includes('NaN')));
});

for (const [name, g] of builds) {
  test(`${name}: nearest and bicubic match PyTorch fixtures (every padding × alignCorners, forward and both gradients)`, (t) => {
    const worst = {};
    for (const c of [...FXM.modes, ...FXM.ties]) {
      const opts = { mode: c.mode, padding: c.padding, alignCorners: c.alignCorners };
      const label = `${c.mode} ${c.padding}/align=${c.alignCorners} ${c.size}→${c.outSize}`;
      const out = g.stn.gridSample(f32(c.input), c.size, f32(c.grid), c.outSize, opts);
      const { dInput, dGrid } = g.stn.gridSampleBackward(f32(c.dOutput), f32(c.input), c.size, f32(c.grid), c.outSize, opts);
      for (const [k, got] of [['output', out], ['dInput', dInput], ['dGrid', dGrid]]) {
        assertClose(null, got, c[k], `${name} ${label} ${k}`);
        const key = `${c.mode} ${k}`;
        worst[key] = Math.max(worst[key] ?? 0, compare(got, c[k]).maxAbs);
      }
      if (c.mode === 'nearest') {
        assert.deepEqual(out, f32(c.output), `${name} ${label}: nearest must pick exactly torch's pixels`);
        assert.ok(dGrid.every((v) => v === 0), `${name} ${label}: nearest's grid gradient is zero`);
      }
    }
    t.diagnostic(`${name} vs PyTorch max |diff|: ${Object.entries(worst).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  });

  test(`${name}: grids holding NaN, ±Inf and huge values give PyTorch's results, NaN where it has NaN (every mode × padding × alignCorners)`, (t) => {
    const worst = {};
    let nans = 0;
    for (const c of FXM.nonFinite) {
      const opts = { mode: c.mode, padding: c.padding, alignCorners: c.alignCorners };
      const label = `${name} ${c.mode} ${c.padding}/align=${c.alignCorners} non-finite`;
      const grid = f32n(c.grid);
      const out = g.stn.gridSample(f32(c.input), c.size, grid, c.outSize, opts);
      const res = { output: out };
      if (c.backward !== null) Object.assign(res, g.stn.gridSampleBackward(f32(c.dOutput), f32(c.input), c.size, grid, c.outSize, opts));
      for (const k of ['output', 'dInput', 'dGrid']) {
        if (!c[k]) continue;
        const exp = f32n(c[k]);
        nans += exp.filter(Number.isNaN).length;
        const key = `${c.mode} ${k}`;
        worst[key] = Math.max(worst[key] ?? 0, assertCloseNaN(res[k], exp, `${label} ${k}`));
      }
    }
    assert.ok(nans > 100, `only ${nans} NaN values in the fixtures`);
    t.diagnostic(`${name} vs PyTorch on non-finite grids (${nans} NaN positions, all matched) max |diff| elsewhere: ${Object.entries(worst).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  });

  test(`${name}: bilinear backward with border / reflection padding treats a NaN (reflection: also ±Inf) as its forward does (torch 1.13 crashes there)`, () => {
    // border: NaN and -Inf clip to pixel 0, +Inf to the last pixel, with zero gradient: the same as
    // a grid value far outside on that side. reflection: NaN and ±Inf clip to pixel 0: the same as
    // a value whose pixel coordinate is exactly 0 (aligned: -1) or in [-0.5, 0] (not aligned).
    const rand = rng(4242);
    const size = [2, 2, 5, 6], outSize = [3, 4];
    for (const alignCorners of [false, true]) {
      for (const padding of ['border', 'reflection']) {
        const c = randomCase(rand, size, outSize);
        const grid = c.grid.slice(), same = c.grid.slice();
        const bads = [NaN, Infinity, -Infinity];
        // the clipped equivalent on an axis of `n` pixels
        const good = (bad, n) => (padding === 'border' ? (bad === Infinity ? 5 : -5) : alignCorners ? -1 : 0.5 / n - 1);
        for (let i = 0; i < grid.length; i += 3) {
          const bad = bads[(i / 3) % 3];
          grid[i] = bad;
          same[i] = good(bad, i % 2 === 0 ? size[3] : size[2]);
        }
        const opts = { padding, alignCorners };
        const a = g.stn.gridSampleBackward(c.dOut, c.input, size, grid, outSize, opts);
        const b = g.stn.gridSampleBackward(c.dOut, c.input, size, same, outSize, opts);
        assert.deepEqual(a, b, `${name} ${padding}/${alignCorners}: NaN/Inf backward differs from the clipped equivalent`);
        assert.ok(a.dGrid.every(Number.isFinite) && a.dInput.every(Number.isFinite));
        assert.deepEqual(g.stn.gridSample(c.input, size, grid, outSize, opts), g.stn.gridSample(c.input, size, same, outSize, opts));
      }
    }
  });
}

// ------------------------------------------------------------------------------------------
// 2. Finite differences in float64 from the float32 forward.
//    Grid: step H_GRID in normalised units (≤ 0.014 pixels for these sizes); points within
//    2·H_GRID·scale + 1e-3 pixels of a kink are redrawn, so no perturbation crosses one and the
//    central difference of the piecewise-bilinear map is exact up to float32 rounding of the
//    outputs (~6e-8 · C / (2·H_GRID) ≈ 2e-5): tolerance 2e-4 abs + 1e-3 rel.
//    Input and theta: the maps are linear, so a large step (0.25) is exact up to rounding.

const H_GRID = 2e-3;
const FD_TOL = { atol: 2e-4, rtol: 1e-3 };

for (const [name, g] of builds) {
  test(`${name}: gridSampleBackward matches finite differences (all paddings, grids in and far outside [-1,1])`, (t) => {
    const rand = rng(101);
    const size = [2, 2, 5, 7], outSize = [3, 5];
    let worstIn = 0, worstGrid = 0, count = 0;
    for (const opts of COMBOS) {
      for (const [lo, hi] of [[-1.6, 1.6], [-4, 4]]) {
        const c = randomCase(rand, size, outSize, lo, hi);
        const scale = Math.max(...size.slice(2)) / 2;
        avoidKinks(rand, c.grid, size[2], size[3], opts.alignCorners, 2 * H_GRID * scale + 1e-3, lo, hi);
        const { dInput, dGrid } = g.stn.gridSampleBackward(c.dOut, c.input, size, c.grid, outSize, opts);
        const fdIn = new Float64Array(c.input.length), fdGrid = new Float64Array(c.grid.length);
        for (let i = 0; i < c.input.length; i++) {
          fdIn[i] = centralDiff((inp) => g.stn.gridSample(inp, size, c.grid, outSize, opts), c.dOut, c.input, i, 0.25);
        }
        for (let i = 0; i < c.grid.length; i++) {
          fdGrid[i] = centralDiff((gr) => g.stn.gridSample(c.input, size, gr, outSize, opts), c.dOut, c.grid, i, H_GRID);
        }
        const label = `${name} ${opts.padding}/align=${opts.alignCorners} grid in [${lo},${hi}]`;
        assertClose(null, dInput, fdIn, `${label} dInput vs FD`, FD_TOL);
        assertClose(null, dGrid, fdGrid, `${label} dGrid vs FD`, FD_TOL);
        worstIn = Math.max(worstIn, compare(dInput, fdIn).maxAbs);
        worstGrid = Math.max(worstGrid, compare(dGrid, fdGrid).maxAbs);
        // A test that cannot fail is a defect: the gradients must not be trivially zero.
        count += dGrid.filter((v) => v !== 0).length;
      }
    }
    assert.ok(count > 100, `too few non-zero grid gradients (${count})`);
    t.diagnostic(`${name} vs finite differences: dInput max |diff| ${fmt(worstIn)}, dGrid ${fmt(worstGrid)}`);
  });

  test(`${name}: affineGridBackward matches finite differences (incl. size-1 dimensions)`, (t) => {
    const rand = rng(202);
    let worst = 0;
    for (const size of [[2, 3, 5, 7], [1, 1, 1, 6], [3, 2, 4, 1], [1, 1, 1, 1]]) {
      for (const alignCorners of [false, true]) {
        const [N, , H, W] = size;
        const theta = uniform(rand, N * 6, -1.5, 1.5), w = uniform(rand, N * H * W * 2);
        const dTheta = g.stn.affineGridBackward(w, size, { alignCorners });
        const fd = new Float64Array(N * 6);
        for (let i = 0; i < fd.length; i++) fd[i] = centralDiff((th) => g.stn.affineGrid(th, size, { alignCorners }), w, theta, i, 0.25);
        assertClose(null, dTheta, fd, `${name} affineGridBackward ${size} align=${alignCorners} vs FD`, { atol: 1e-5, rtol: 1e-4 });
        worst = Math.max(worst, compare(dTheta, fd).maxAbs);
      }
    }
    t.diagnostic(`${name} affineGridBackward vs finite differences: max |diff| ${fmt(worst)}`);
  });
}

// Bicubic is a cubic polynomial between integer pixel coordinates: the five-point stencil
// (−f(+2h) + 8f(+h) − 8f(−h) + f(−2h)) / 12h is exact for it (up to float32 rounding of the outputs,
// ~1.5·6e-8·C·P/h ≈ 3e-5) when no point crosses an integer; grid values are rounded to multiples of
// 2^-20 so that every perturbed value is exact in float32. Nearest: d/dinput is the pick (exact with
// a large step), d/dgrid is zero away from the rounding ties.
const H_CUBIC = 2 ** -7;
function fivePoint(f, w, arr, i, h) {
  const at = (d) => { const a = arr.slice(); a[i] = arr[i] + d; return dot(w, f(a)); };
  return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
}

for (const [name, g] of builds) {
  test(`${name}: bicubic and nearest gradients match finite differences (all paddings, grids in and far outside [-1,1])`, (t) => {
    const rand = rng(111);
    const size = [2, 2, 5, 7], outSize = [3, 5];
    const worst = { bicubic: [0, 0], nearest: [0, 0] };
    let count = 0;
    for (const mode of ['bicubic', 'nearest']) {
      for (const base of COMBOS) {
        const opts = { ...base, mode };
        for (const [lo, hi] of [[-1.6, 1.6], [-4, 4]]) {
          const c = randomCase(rand, size, outSize, lo, hi);
          const scale = Math.max(...size.slice(2)) / 2;
          const round = () => { for (let i = 0; i < c.grid.length; i++) c.grid[i] = Math.round(c.grid[i] * 2 ** 20) / 2 ** 20; };
          round();
          avoidKinks(rand, c.grid, size[2], size[3], opts.alignCorners, 4 * H_CUBIC * scale + 1e-3, lo, hi);
          round();
          const { dInput, dGrid } = g.stn.gridSampleBackward(c.dOut, c.input, size, c.grid, outSize, opts);
          const fdIn = new Float64Array(c.input.length), fdGrid = new Float64Array(c.grid.length);
          for (let i = 0; i < c.input.length; i++) {
            fdIn[i] = centralDiff((inp) => g.stn.gridSample(inp, size, c.grid, outSize, opts), c.dOut, c.input, i, 0.25);
          }
          for (let i = 0; i < c.grid.length; i++) {
            fdGrid[i] = fivePoint((gr) => g.stn.gridSample(c.input, size, Float32Array.from(gr), outSize, opts), c.dOut, c.grid, i, H_CUBIC);
          }
          const label = `${name} ${mode} ${opts.padding}/align=${opts.alignCorners} grid in [${lo},${hi}]`;
          assertClose(null, dInput, fdIn, `${label} dInput vs FD`, FD_TOL);
          assertClose(null, dGrid, fdGrid, `${label} dGrid vs FD`, FD_TOL);
          worst[mode][0] = Math.max(worst[mode][0], compare(dInput, fdIn).maxAbs);
          worst[mode][1] = Math.max(worst[mode][1], compare(dGrid, fdGrid).maxAbs);
          if (mode === 'bicubic') count += dGrid.filter((v) => v !== 0).length;
          else assert.ok(dGrid.every((v) => v === 0), `${label}: nearest's dGrid must be zero`);
        }
      }
    }
    assert.ok(count > 100, `too few non-zero bicubic grid gradients (${count})`);
    t.diagnostic(`${name} vs finite differences max |diff|: bicubic dInput ${fmt(worst.bicubic[0])}, dGrid ${fmt(worst.bicubic[1])}; nearest dInput ${fmt(worst.nearest[0])}, dGrid ${fmt(worst.nearest[1])}`);
  });
}

// ------------------------------------------------------------------------------------------
// 3. SIMD vs scalar, fast vs oracle, native vs wasm.

/** Larger random cases: odd sizes (Ho·Wo = 713, a tail of 1), C = 5, grids to ±5 (several
 * reflections) with a sprinkling of kinks and extreme values. */
function largerCases(seed) {
  const rand = rng(seed);
  const special = [-1, 1, 0, 0.5, -0.5, 1 / 3, 2, -3, 1e30, -1e30, Infinity, -Infinity, NaN];
  const cases = [];
  for (const [size, outSize, lo, hi, withSpecial] of [
    [[3, 5, 37, 29], [23, 31], -1.6, 1.6, false],
    [[2, 3, 19, 41], [17, 9], -5, 5, false],
    [[2, 2, 9, 1], [7, 3], -1.6, 1.6, true],
    [[1, 4, 11, 13], [6, 10], -1.6, 1.6, true],
  ]) {
    const c = randomCase(rand, size, outSize, lo, hi);
    if (withSpecial) for (let i = 0; i < c.grid.length; i++) if (rand() < 0.4) c.grid[i] = special[Math.floor(rand() * special.length)];
    cases.push(c);
  }
  return cases;
}

/** Every mode × padding × alignCorners as gridSample options. */
const ALL = MODES.flatMap((mode) => COMBOS.map((o) => ({ ...o, mode })));

test('SIMD and scalar builds agree on larger random inputs (every mode × padding, extreme grid values)', (t) => {
  const [[, simd], [, scalar]] = builds;
  const worst = {}, identical = {};
  for (const c of largerCases(303)) {
    for (const opts of ALL) {
      const a = runBoth(simd, c, opts), b = runBoth(scalar, c, opts);
      for (const k of ['out', 'dInput', 'dGrid']) {
        const what = `simd vs scalar ${opts.mode} ${c.size}→${c.outSize} ${opts.padding}/${opts.alignCorners} ${k}`;
        assertCloseNaN(a[k], b[k], what);
        const d = maxDiff(a[k], b[k]);
        worst[opts.mode] = Math.max(worst[opts.mode] ?? 0, d.max);
        identical[opts.mode] = (identical[opts.mode] ?? true) && d.same;
        // NaN comes only from non-finite grid values: zeros padding (bilinear, bicubic) or bicubic's weights
        if (opts.mode === 'nearest' || (opts.mode === 'bilinear' && opts.padding !== 'zeros')) {
          assert.ok(a[k].every(Number.isFinite), `${what} has non-finite values`);
        }
      }
    }
  }
  t.diagnostic(`simd vs scalar max |diff|: ${MODES.map((m) => `${m} ${fmt(worst[m])}${identical[m] ? ' (bitwise identical)' : ''}`).join(', ')}`);
});

for (const [name, g] of testBuilds) {
  test(`${name}: fast kernels agree with the scalar C oracle (gl_grid_sample*_ref), every mode`, (t) => {
    const worst = {};
    for (const c of largerCases(404)) {
      for (const opts of ALL) {
        const a = runBoth(g, c, opts), r = refSample(g, c, opts.padding, opts.alignCorners, opts.mode);
        for (const k of ['out', 'dInput', 'dGrid']) {
          const key = `${opts.mode} ${k}`;
          worst[key] = Math.max(worst[key] ?? 0, assertCloseNaN(a[k], r[k], `${name} fast vs ref ${opts.mode} ${c.size}→${c.outSize} ${opts.padding}/${opts.alignCorners} ${k}`));
        }
        // nearest's forward and input gradient, bicubic's forward and grid gradient: the oracle's
        // operations in its order, so the same bits
        const exact = opts.mode === 'nearest' ? ['out', 'dInput', 'dGrid'] : opts.mode === 'bicubic' ? ['out', 'dGrid'] : [];
        for (const k of exact) assert.ok(maxDiff(a[k], r[k]).same, `${name} ${opts.mode} ${opts.padding}/${opts.alignCorners} ${k}: not bitwise equal to the oracle`);
      }
    }
    t.diagnostic(`${name} fast vs oracle max |diff|: ${Object.entries(worst).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  });
}

/** Build the stdin of build/native/stn_dump (see tests/native/stn_dump.c). */
function dumpInput(op, ints, ...floats) {
  const head = Int32Array.from([0x314e5453, op, ...ints]);
  const parts = [Buffer.from(head.buffer), ...floats.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))];
  return Buffer.concat(parts);
}
function runDump(prog, input, lengths) {
  const r = runNative(prog, [], input);
  assert.equal(r.status, 0, `${prog} failed: ${r.error ?? ''} ${r.stderr}`);
  const buf = new Uint8Array(r.stdout).slice().buffer;
  const total = lengths.reduce((a, b) => a + b, 0);
  assert.equal(buf.byteLength, total * 4, `${prog} wrote ${buf.byteLength} bytes, expected ${total * 4}`);
  let o = 0;
  return lengths.map((n) => {
    const a = new Float32Array(buf, o * 4, n);
    o += n;
    return a;
  });
}

test('native builds (build/native*/stn_dump) agree with both wasm builds on the same inputs', (t) => {
  const progs = ['native', 'native-scalar'].map((dir) => [dir, nativeProgram('stn_dump', dir)]);
  for (const [dir, p] of progs) assert.ok(p, `build/${dir}/stn_dump is missing: run ./build.sh (it builds the native programs)`);
  const TOL = { atol: 1e-5, rtol: 1e-5 };
  let worst = 0, identical = true;
  const note = (a, b, what) => {
    assertCloseNaN(a, b, what, TOL);
    const d = maxDiff(a, b);
    worst = Math.max(worst, d.max);
    identical &&= d.same;
  };
  for (const c of largerCases(505)) {
    const [N, C, H, W] = c.size, [Ho, Wo] = c.outSize;
    for (const opts of ALL) {
      const pad = PADS.indexOf(opts.padding), align = opts.alignCorners ? 1 : 0, mode = MODES.indexOf(opts.mode);
      // op 1 is bilinear, op 3 takes the mode
      const input = mode === 0 && pad === 0 ? dumpInput(1, [N, C, H, W, Ho, Wo, pad, align], c.input, c.grid, c.dOut)
        : dumpInput(3, [N, C, H, W, Ho, Wo, mode, pad, align], c.input, c.grid, c.dOut);
      const wasm = builds.map(([, g]) => runBoth(g, c, opts));
      for (const [dir, prog] of progs) {
        const [out, dInput, dGrid] = runDump(prog, input, [N * C * Ho * Wo, N * C * H * W, N * Ho * Wo * 2]);
        for (const [i, [bname]] of builds.entries()) {
          const what = `${dir} vs wasm ${bname} ${opts.mode} ${c.size}→${c.outSize} ${opts.padding}/${opts.alignCorners}`;
          note(out, wasm[i].out, `${what} output`);
          note(dInput, wasm[i].dInput, `${what} dInput`);
          note(dGrid, wasm[i].dGrid, `${what} dGrid`);
        }
      }
    }
  }
  const rand = rng(606);
  for (const size of [[2, 3, 5, 7], [1, 1, 1, 6], [3, 2, 4, 1]]) {
    for (const alignCorners of [false, true]) {
      const [N, , H, W] = size;
      const theta = uniform(rand, N * 6, -1.5, 1.5), dGrid = uniform(rand, N * H * W * 2);
      const input = dumpInput(2, [N, H, W, alignCorners ? 1 : 0], theta, dGrid);
      for (const [dir, prog] of progs) {
        const [grid, dTheta] = runDump(prog, input, [N * H * W * 2, N * 6]);
        for (const [bname, g] of builds) {
          note(grid, g.stn.affineGrid(theta, size, { alignCorners }), `${dir} vs ${bname} affineGrid ${size}`);
          note(dTheta, g.stn.affineGridBackward(dGrid, size, { alignCorners }), `${dir} vs ${bname} affineGridBackward ${size}`);
        }
      }
    }
  }
  t.diagnostic(`native vs wasm: max |diff| ${fmt(worst)}${identical ? ' (bitwise identical)' : ''}`);
});

// ------------------------------------------------------------------------------------------
// 4. Validation, memory growth, independent instances.

/** A small known call (first fixture case) whose result must not change. */
function probe(g) {
  const c = FX.gridSample[0];
  const out = g.stn.gridSample(f32(c.input), c.size, f32(c.grid), c.outSize, { padding: c.padding, alignCorners: c.alignCorners });
  assertClose(null, out, c.output, `${g.build} probe after error`);
  return out;
}

for (const [name, g] of builds) {
  test(`${name}: bad arguments throw TypeError/RangeError naming the argument; the instance stays usable`, () => {
    const size = [2, 3, 4, 5], outSize = [3, 3];
    const input = new Float32Array(120), grid = new Float32Array(36), dOut = new Float32Array(54);
    const theta = new Float32Array(12), dGrid = new Float32Array(2 * 4 * 5 * 2);
    const before = probe(g);
    const cases = [
      // [description, thunk, error class, message pattern]
      ['input too short', () => g.stn.gridSample(new Float32Array(119), size, grid, outSize), RangeError, /input/],
      ['grid too long', () => g.stn.gridSample(input, size, new Float32Array(37), outSize), RangeError, /grid/],
      ['input Float64Array', () => g.stn.gridSample(new Float64Array(120), size, grid, outSize), TypeError, /input.*Float32Array/],
      ['grid plain array', () => g.stn.gridSample(input, size, Array.from(grid), outSize), TypeError, /grid.*Float32Array/],
      ['size non-integer', () => g.stn.gridSample(input, [2, 3, 4.5, 5], grid, outSize), RangeError, /size\[2\]/],
      ['size zero', () => g.stn.gridSample(input, [0, 3, 4, 5], grid, outSize), RangeError, /size\[0\]/],
      ['size negative', () => g.stn.gridSample(input, [2, -3, 4, 5], grid, outSize), RangeError, /size\[1\]/],
      ['size wrong rank', () => g.stn.gridSample(input, [2, 3, 4], grid, outSize), RangeError, /size/],
      ['size not an array', () => g.stn.gridSample(input, 'big', grid, outSize), TypeError, /size/],
      ['outSize zero', () => g.stn.gridSample(input, size, grid, [3, 0]), RangeError, /outSize\[1\]/],
      ['outSize non-integer', () => g.stn.gridSample(input, size, grid, [1.5, 3]), RangeError, /outSize\[0\]/],
      ['size over the limit', () => g.stn.gridSample(input, [65536, 65536, 2, 2], grid, outSize), RangeError, /input|output/],
      ['unknown padding', () => g.stn.gridSample(input, size, grid, outSize, { padding: 'wrap' }), RangeError, /padding/],
      ['padding not a string', () => g.stn.gridSample(input, size, grid, outSize, { padding: 1 }), TypeError, /padding/],
      ['unknown option key', () => g.stn.gridSample(input, size, grid, outSize, { align_corners: true }), RangeError, /align_corners/],
      ['alignCorners not boolean', () => g.stn.gridSample(input, size, grid, outSize, { alignCorners: 1 }), TypeError, /alignCorners/],
      ['options not an object', () => g.stn.gridSample(input, size, grid, outSize, 'zeros'), TypeError, /options/],
      ['dOutput too short', () => g.stn.gridSampleBackward(new Float32Array(53), input, size, grid, outSize), RangeError, /dOutput/],
      ['backward input Float64Array', () => g.stn.gridSampleBackward(dOut, new Float64Array(120), size, grid, outSize), TypeError, /input/],
      ['backward grid too short', () => g.stn.gridSampleBackward(dOut, input, size, new Float32Array(35), outSize), RangeError, /grid/],
      ['backward unknown padding', () => g.stn.gridSampleBackward(dOut, input, size, grid, outSize, { padding: 'circular' }), RangeError, /padding/],
      ['backward unknown key', () => g.stn.gridSampleBackward(dOut, input, size, grid, outSize, { interpolation: 'nearest' }), RangeError, /interpolation/],
      ['unknown mode', () => g.stn.gridSample(input, size, grid, outSize, { mode: 'area' }), RangeError, /mode/],
      ['backward mode not a string', () => g.stn.gridSampleBackward(dOut, input, size, grid, outSize, { mode: 2 }), TypeError, /mode/],
      ['theta too short', () => g.stn.affineGrid(new Float32Array(11), size), RangeError, /theta/],
      ['theta Float64Array', () => g.stn.affineGrid(new Float64Array(12), size), TypeError, /theta/],
      ['affineGrid size zero', () => g.stn.affineGrid(theta, [2, 3, 0, 5]), RangeError, /size\[2\]/],
      ['affineGrid unknown key', () => g.stn.affineGrid(theta, size, { padding: 'zeros' }), RangeError, /padding/],
      ['dGrid too long', () => g.stn.affineGridBackward(new Float32Array(81), size), RangeError, /dGrid/],
      ['dGrid array', () => g.stn.affineGridBackward(Array.from(dGrid), size), TypeError, /dGrid/],
      ['affineGridBackward non-integer size', () => g.stn.affineGridBackward(dGrid, [2, 3, 4, 5.5]), RangeError, /size\[3\]/],
    ];
    for (const [what, fn, cls, re] of cases) {
      assert.throws(fn, (e) => {
        assert.ok(e instanceof cls, `${what}: expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
        assert.match(e.message, re, `${what}: message should name the argument`);
        return true;
      }, what);
      assert.deepEqual(probe(g), before, `${what}: later results changed`);
    }
    // The well-formed versions of the same calls work.
    assert.equal(g.stn.gridSample(input, size, grid, outSize).length, 54);
    assert.equal(g.stn.affineGrid(theta, size).length, 80);
    assert.equal(g.stn.affineGridBackward(dGrid, size).length, 12);
  });

  test(`${name}: results are fresh arrays; inputs are not modified`, () => {
    const c = randomCase(rng(707), [2, 2, 6, 5], [4, 3]);
    const copies = [c.input.slice(), c.grid.slice(), c.dOut.slice()];
    const r = runBoth(g, c, { padding: 'reflection', alignCorners: true });
    for (const a of [r.out, r.dInput, r.dGrid]) assert.notEqual(a.buffer, g._core.memory.buffer);
    assert.deepEqual([c.input, c.grid, c.dOut], copies);
    const r2 = runBoth(g, c, { padding: 'reflection', alignCorners: true });
    assert.deepEqual(r2, r, 'the same call twice gives the same numbers');
  });

  test(`${name}: a 40 MB input (memory growth) then small calls are still correct`, (t) => {
    const small = randomCase(rng(808), [2, 3, 7, 6], [5, 3]);
    const opts = { padding: 'border', alignCorners: false };
    const first = runBoth(g, small, opts);
    const mem0 = g.memoryBytes();
    const rand = rng(909);
    const big = randomCase(rand, [1, 10, 1000, 1000], [8, 9]); // input: 10^7 floats = 40 MB
    for (const o of [opts, { padding: 'zeros', alignCorners: true }]) {
      const r = runBoth(g, big, o);
      const js = jsGridSample(big.input, big.size, big.grid, big.outSize, o, big.dOut, true);
      assertClose(null, r.out, js.out, `${name} big output`);
      assertClose(null, r.dGrid, js.dGrid, `${name} big dGrid`);
      // dInput is 10^7 values: compare where the samples landed (non-zero) and the total.
      let nz = 0;
      for (let i = 0; i < js.dIn.length; i++) {
        if (js.dIn[i] !== 0 || r.dInput[i] !== 0) {
          nz++;
          assert.ok(Math.abs(r.dInput[i] - js.dIn[i]) <= 1e-5 + 1e-4 * Math.abs(js.dIn[i]), `${name} big dInput[${i}]`);
        }
      }
      assert.ok(nz > 100, `big dInput has only ${nz} non-zero entries`);
    }
    const grown = g.memoryBytes() - mem0;
    t.diagnostic(`${name}: wasm memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB (to ${(g.memoryBytes() / 2 ** 20).toFixed(0)} MiB)`);
    assert.ok(g.memoryBytes() >= 40e6, 'memory should have grown past 40 MB');
    for (let k = 0; k < 3; k++) {
      const again = runBoth(g, small, opts);
      assert.deepEqual(again, first, 'small call after growth differs');
    }
    const ref = jsGridSample(small.input, small.size, small.grid, small.outSize, opts, small.dOut);
    assertClose(null, first.out, ref.out, `${name} small output`);
  });
}

for (const [name, g] of testBuilds) {
  test(`${name}: an image wider than 2^23 pixels samples the same pixels as the oracle`, (t) => {
    // Pixel indices beyond 2^22 leave the fast float→int conversion's exact range in the SIMD
    // build (VF_TO_VI_SMALL); the kernels must still read the right pixels there.
    for (const W of [2 ** 22 - 1, 2 ** 23 + 4000]) {
      const input = new Float32Array(W);
      for (let i = 0; i < W; i++) input[i] = (i % 1000) / 1000;
      const px = [W - 10.25, W - 2000.5, Math.floor(W / 2) + 0.25, 100.5, 7.75, W - 1.5, W - 0.75, -0.25];
      const grid = new Float32Array(2 * px.length);
      px.forEach((x, k) => { grid[2 * k] = (2 * x + 1) / W - 1; });
      const c = { size: [1, 1, 1, W], outSize: [1, px.length], input, grid, dOut: uniform(rng(1111), px.length) };
      for (const padding of ['zeros', 'border']) {
        const a = runBoth(g, c, { padding }), r = refSample(g, c, padding, false);
        assertClose(null, a.out, r.out, `${name} W=${W} ${padding} output`);
        assertClose(null, a.dGrid, r.dGrid, `${name} W=${W} ${padding} dGrid`);
        assertClose(null, a.dInput, r.dInput, `${name} W=${W} ${padding} dInput`);
      }
    }
  });
}

test('several load() instances are independent', async () => {
  const a = await load(), b = await load(), s1 = await load({ simd: false }), s2 = await load({ simd: false });
  assert.notEqual(a._core.memory, b._core.memory);
  assert.notEqual(s1._core.memory, s2._core.memory);
  assert.equal(s1.simd, false);
  const c = randomCase(rng(1001), [2, 3, 8, 7], [5, 6]);
  const opts = { padding: 'reflection', alignCorners: false };
  const want = runBoth(a, c, opts);
  const bBefore = b.memoryBytes();
  // Grow a's memory and leave an error behind in a; b must be unaffected.
  a.stn.gridSample(new Float32Array(4e6), [1, 1, 2000, 2000], new Float32Array(8), [2, 2]);
  assert.throws(() => a.stn.gridSample(c.input, [2, 3, 8, 8], c.grid, [5, 6], opts), RangeError);
  assert.equal(b.memoryBytes(), bBefore, 'growing one instance grew another');
  for (const g of [b, a, s1, s2, b]) assert.deepEqual(runBoth(g, c, opts).out, want.out);
  for (const g of [s2, s1]) {
    const r = runBoth(g, c, opts);
    assertClose(null, r.dInput, want.dInput, 'scalar instance dInput');
    assertClose(null, r.dGrid, want.dGrid, 'scalar instance dGrid');
  }
});
