// draw_train.js: benchmark section "draw-train": DRAW training throughput (images/s) at batch 64 and
// the settings of the shipped 'draw-mnist' model (createDRAW's defaults, the schema in src/draw_model.c) on
// wasm-SIMD, wasm-scalar, native and PyTorch (one thread), with the DRAW issue's target
// (wasm-SIMD at least on par with PyTorch).
//
// One timed call = one training step: forward through T glimpses (attention read, LSTM encoder,
// sampling, LSTM decoder, attention write), BPTT, gradient clipping, Adam (src/draw_model.c;
// tests/bench/torch_draw_train.py is the same model in PyTorch). The wasm builds are timed in-process
// by calling gl_draw_train_batch directly on images already in wasm memory, and once more through
// the JS API (model.trainBatch: validation and copy-in included); native and PyTorch run as helper
// programs (tests/native/bench_draw.c, tests/bench/torch_draw_train.py) that use the same timing protocol
// (common.js measure()) and print JSON. Data: 64 images with U(0, 1) pixels, thresholded at 0.5.
import { load } from '../../src/js/index.js';
import { rng, uniform } from '../util.js';
import { Engines, trainingRatios, KIND, measure, withWasmModel, progress, timingArgs, wasmEngines, nativeEngines } from './common.js';

const S = (await load()).defaults.DRAW; // createDRAW's defaults (src/draw_model.c's schema)
const BATCH = 64;

export const name = 'draw-train';
export const title = `DRAW: training throughput (T=${S.T}, read ${S.readN}×${S.readN}, write ${S.writeN}×${S.writeN}, LSTM ${S.hidden}, z ${S.latent}, batch ${BATCH})`;

const ENGINES = [
  ...wasmEngines('gl_draw_train_batch', { api: 'model.trainBatch(images) of the JS API on the SIMD build (validation + copy-in included)' }),
  ...nativeEngines('bench_draw'),
  { id: 'torch', what: 'tests/bench/torch_draw_train.py: the same model in PyTorch (LSTMCell, autograd BPTT, Adam), 1 thread' },
];
const RATIOS = trainingRatios(1, { api: true });

const CONFIG = [S.T, S.readN, S.writeN, S.hidden, S.latent, S.attention ? 1 : 0, 28, 28, 1];

function timeWasm(g, profile, images) {
  const core = g._core, x = core.x;
  return withWasmModel(core, KIND.DRAW, CONFIG, (model, s) => {
    const pres = s.zeros(4), pimg = s.put(images);
    return measure(() => {
      const rc = x.gl_draw_train_batch(model, pres, pimg, BATCH);
      if (rc) core.check(rc, 'gl_draw_train_batch');
    }, profile);
  });
}

function timeApi(g, profile, images) {
  const m = g.createDRAW({ T: S.T, readN: S.readN, writeN: S.writeN, hidden: S.hidden, latent: S.latent, attention: S.attention, seed: 1 });
  try {
    return measure(() => m.trainBatch(images), profile);
  } finally {
    m.free();
  }
}

const helperArgs = (profile) => [...timingArgs(profile), '--batch', String(BATCH), '--T', String(S.T), '--readN', String(S.readN),
  '--writeN', String(S.writeN), '--hidden', String(S.hidden), '--latent', String(S.latent), '--attention', S.attention ? '1' : '0'];

export async function run({ profile }) {
  const eng = new Engines(name); // res: engine -> summary (seconds per call)
  const images = uniform(rng(1), BATCH * 784, 0, 1);
  await eng.wasm((g, _, id, simd) => {
    const m = timeWasm(g, profile, images);
    if (simd) {
      progress(`${name}: wasm-simd-api`);
      eng.put('wasm-simd-api', null, timeApi(g, profile, images));
    }
    return m;
  }, { needs: 'gl_draw_train_batch', companions: { 'wasm-simd': ['wasm-simd-api'] } });
  eng.native('bench_draw', helperArgs(profile), { timeoutSec: 600 });
  eng.torch('torch_draw_train.py', helperArgs(profile), { timeoutSec: 1800 });

  const { rows, checks, tables } = eng.perEngine(ENGINES, RATIOS, {
    title: `one training step of ${BATCH} images per call`,
    rateKey: 'imagesPerSec', rateLabel: 'images/s', perCall: BATCH, timeLabel: 'ms/step', scale: 1e3, timeDigits: 1,
  });
  const notes = [
    'images/s = batch / seconds per training step (forward over T glimpses, BPTT, clip_grad_norm 10, Adam).',
    `  Settings: createDRAW's defaults (those of weights/draw-mnist.bin): T=${S.T}, read ${S.readN}×${S.readN}, write ${S.writeN}×${S.writeN}, LSTM ${S.hidden}, z ${S.latent}, 28×28.`,
    ...eng.notes(profile, ENGINES, checks),
  ];
  return { title, notes, rows, checks, tables };
}
