// make_seeds.js: writes the committed seed corpora of the fuzz targets (tests/native/fuzz/corpus/).
//   fuzz_weights: byte 0 = mode (see fuzz_weights.c), then the save() bytes of small models of each
//                 kind that exists (float32 and float16), plus a few malformed variants.
//   fuzz_shapes:  byte 0 = kernel family, byte 1 = flags, then sizes and values (see fuzz_shapes.c).
// Usage: node tests/native/fuzz/make_seeds.js   (re-run when the weights format or a model changes)
import { mkdirSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { load } from '../../../src/js/index.js';

const dir = new URL('./corpus/', import.meta.url);
const wdir = new URL('fuzz_weights/', dir), sdir = new URL('fuzz_shapes/', dir);
for (const d of [wdir, sdir]) {
  mkdirSync(d, { recursive: true });
  for (const f of readdirSync(d)) rmSync(new URL(f, d));
}

const g = await load({ simd: false });
const models = [];
if (g.createSTN) {
  models.push(['stn', g.createSTN({
    height: 12, width: 12, classes: 3, locChannels: [2, 2], locKernels: [3, 3], locHidden: 4,
    channels: [2, 2], kernels: [3, 3], hidden: 4, seed: 1,
  })]);
  models.push(['stn-none', g.createSTN({ height: 8, width: 8, classes: 2, transform: 'none', channels: [1, 1], kernels: [1, 1], hidden: 2 })]);
}
if (g.createDRAW) {
  models.push(['draw', g.createDRAW({ T: 2, readN: 2, writeN: 2, hidden: 3, latent: 2, height: 4, width: 5, seed: 1 })]);
  models.push(['draw-noatt', g.createDRAW({ T: 1, hidden: 2, latent: 1, height: 3, width: 3, attention: false })]);
}
if (g.createNTM) {
  models.push(['ntm', g.createNTM({ bits: 2, memory: [5, 3], controller: 3, seed: 1 })]);
  models.push(['ntm-ff', g.createNTM({ bits: 1, memory: [3, 2], controller: 2, controllerType: 'feedforward', heads: { read: 2, write: 1 }, shift: 1 })]);
}
const withMode = (mode, bytes) => {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = mode;
  out.set(bytes, 1);
  return out;
};
let n = 0;
// safetensors, mode 4: the JSON header, a NUL, the data (fuzz_weights.c prepends the length)
for (const [name, m] of models) {
  const b = m.save({ format: 'safetensors' });
  const h = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const seed = new Uint8Array(1 + h + 1 + (b.length - 8 - h));
  seed[0] = 4;
  seed.set(b.subarray(8, 8 + h), 1);
  seed.set(b.subarray(8 + h), 2 + h);
  writeFileSync(new URL(`${name}-safetensors`, wdir), seed);
  writeFileSync(new URL(`${name}-checkpoint-fixcrc`, wdir), withMode(3, m.save({ optimizer: true })));
  n += 2;
}
for (const [name, m] of models) {
  for (const f16 of [false, true]) {
    const b = m.save({ float16: f16 });
    writeFileSync(new URL(`${name}${f16 ? '-f16' : ''}`, wdir), withMode(0, b));
    writeFileSync(new URL(`${name}${f16 ? '-f16' : ''}-fixcrc`, wdir), withMode(3, b));
    n += 2;
  }
}
// Regression seeds: small files declaring configurations whose arenas need ~1 GB (each word in its
// valid range). Mode 3 fixes nparams and the CRC, so they reach the loader's parameter-count
// check, which must come before any allocation (fuzz.sh runs with -malloc_limit_mb=512).
const HUGE = {
  stn: [[2, 100000], [24, 1024]], // classes 100000 × hidden 1024
  draw: [[3, 2048], [4, 4096]], // hidden 2048, latent 4096
  ntm: [[0, 256], [1, 4096], [3, 4096]], // bits 256, R 4096, controller 4096
};
for (const [name, m] of models) {
  const edits = HUGE[name];
  if (!edits) continue;
  const b = m.save();
  const dv = new DataView(b.buffer);
  for (const [w, x] of edits) dv.setUint32(24 + 4 * w, x, true);
  writeFileSync(new URL(`${name}-huge-config`, wdir), withMode(3, b));
  n++;
}
writeFileSync(new URL('empty', wdir), new Uint8Array([0]));
writeFileSync(new URL('magic-only', wdir), withMode(1, new TextEncoder().encode('GLMW')));
n += 2;

// fuzz_shapes: [family, flags, sizes..., value bytes...]
const ramp = (k) => Array.from({ length: k }, (_, i) => (i * 37 + 11) & 0xff);
const shapes = {
  affine: [0, 0, 3, 4, 5, 1, ...ramp(64)],
  sample: [1, 0, 2, 2, 4, 5, 3, 3, 1, ...ramp(128)],
  'sample-bad-pad': [1, 0, 2, 2, 4, 5, 3, 3, 4, ...ramp(16)],
  'sample-backward': [2, 0, 2, 2, 4, 5, 3, 3, 9, ...ramp(160)],
  'sample-raw': [1, 1, 2, 2, 3, 3, 2, 2, 1, ...ramp(200)],
  'draw-read': [3, 0, 3, 3, 5, 6, 0, ...ramp(200)],
  'draw-write': [4, 0, 3, 3, 5, 6, 1, ...ramp(200)],
  'draw-zero': [3, 0, 0xf0, 3, 5, 6, 0],
  'ntm-address': [5, 0, 3, 3, 6, 4, 4, 0, ...ramp(200)],
  'ntm-address-ref': [5, 0, 2, 2, 5, 3, 2, 1, ...ramp(200)],
  'ntm-rw': [6, 0, 3, 3, 6, 4, 0, ...ramp(200)],
  'ntm-huge': [6, 0, 0xf7, 0xf7, 3, 3, 0],
  'distort-T': [7, 0, 3, 3, 5, 1, 2, ...ramp(64)],
  'distort-R': [7, 0, 3, 1, 1, 9, 9, ...ramp(64)],
  'distort-E': [7, 0, 2, 1, 4, 9, 9, ...ramp(64)],
  mixed: [8, 0, 3, 4, 5, 1, 3, 3, 6, 4, 1, ...ramp(64)],
};
for (const [name, bytes] of Object.entries(shapes)) writeFileSync(new URL(name, sdir), new Uint8Array(bytes));
for (const [, m] of models) m.free();
console.log(`wrote ${n} fuzz_weights seeds (${models.map((m) => m[0]).join(', ')}) and ${Object.keys(shapes).length} fuzz_shapes seeds`);
