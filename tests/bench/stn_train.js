// stn_train.js: benchmark section "stn-train": STN training throughput (images/s, batch 64, 28×28,
// the PyTorch STN tutorial's network) on wasm-SIMD, wasm-scalar, native and PyTorch 1.13 (one
// thread), with the STN issue's target (wasm-SIMD ≥ 2× PyTorch), for the ST-CNN and the plain CNN.
//
// One timed call = one training step on a batch of 64: forward (localisation net, affine grid,
// bilinear sampler, classifier with dropout), log-softmax cross-entropy, backward, gradient
// clipping to norm 10, SGD (lr 0.01, momentum 0.9). The wasm builds are timed in-process by calling
// gl_stn_train_batch directly on batches already in wasm memory (no JS validation or copies);
// "wasm-simd (JS API)" times model.trainBatch(images, labels) as a caller pays it (validation and
// copies included). native and PyTorch run as helper programs (tests/native/bench_stn_train.c,
// tests/bench/torch_stn_train.py) with the same timing protocol (common.js measure()) and print JSON.
// Inputs: 8 batches of U(0,1) pixels with random labels, cycled (the data does not change the work).
import { rng, uniform } from '../util.js';
import {
  Engines, trainingRatios, measure, group, summarizeJson, ratioCheck, ratioTable, timingArgs, timeColumns, timeCells,
  wasmEngines, nativeEngines,
} from './common.js';

export const name = 'stn-train';
export const title = 'STN training throughput (PyTorch STN tutorial network, 28×28, batch 64, SGD momentum)';

const B = 64, S = 28, NB = 8;

const NETS = [
  { id: 'st', label: 'ST-CNN (affine)', transform: 'affine', torch: 'affine' },
  { id: 'cnn', label: 'CNN (no transformer)', transform: 'none', torch: 'none' },
];
const ENGINES = [
  ...wasmEngines('gl_stn_train_batch', {
    detail: ' on batches in wasm memory', api: 'model.trainBatch(images, labels) on the SIMD build: JS validation and copies included',
  }),
  ...nativeEngines('bench_stn_train'),
  { id: 'torch', what: 'tests/bench/torch_stn_train.py: the tutorial network in PyTorch (autograd, SGD momentum, clip_grad_norm_), 1 thread' },
];
const RATIOS = trainingRatios(2, { api: true, nativeTorch: false, nets: ['st'] });

/** Time one net on one wasm build: { direct, api } summaries (api only when withApi). */
function timeWasm(g, net, profile, withApi) {
  const core = g._core, x = core.x;
  const model = g.createSTN({ height: S, width: S, classes: 10, seed: 1, transform: net.transform });
  const rand = rng(7);
  const batches = Array.from({ length: NB }, () => ({
    images: uniform(rand, B * S * S, 0, 1),
    labels: Int32Array.from({ length: B }, () => Math.floor(rand() * 10)),
  }));
  try {
    return core.scoped((sc) => {
      const pimg = sc.zeros(NB * B * S * S), plab = sc.zeros(NB * B), pout = sc.zeros(4);
      batches.forEach((b, i) => {
        core.f32.set(b.images, (pimg >> 2) + i * B * S * S);
        core.i32.set(b.labels, (plab >> 2) + i * B);
      });
      let i = 0;
      const mp = model.ptr;
      const direct = () => {
        const rc = x.gl_stn_train_batch(mp, pout, pimg + i * B * S * S * 4, plab + i * B * 4, B);
        if (rc) core.check(rc, 'gl_stn_train_batch');
        i = (i + 1) % NB;
      };
      const out = { direct: measure(direct, profile) };
      if (withApi) {
        let j = 0;
        out.api = measure(() => {
          model.trainBatch(batches[j].images, batches[j].labels);
          j = (j + 1) % NB;
        }, profile);
      }
      return out;
    });
  } finally {
    model.free();
  }
}

const ips = (m) => (m ? B / m.sec : null);

export async function run({ profile }) {
  const eng = new Engines(name); // res: engine -> net -> summary (seconds per call)
  const res = eng.res;
  await eng.wasm((g, net, id, simd) => {
    const r = timeWasm(g, net, profile, simd);
    if (r.api) eng.put('wasm-simd-api', net.id, r.api);
    return r.direct;
  }, { cases: NETS, key: (n) => n.id, label: (n) => n.label, needs: 'gl_stn_train_batch', companions: { 'wasm-simd': ['wasm-simd-api'] } });
  const size = ['--batch', String(B), '--size', String(S)];
  eng.native('bench_stn_train', [...timingArgs(profile), ...size], { read: (json) => group(json.results, (m) => m.net), timeoutSec: 600 });
  for (const net of NETS) {
    const ok = eng.torch('torch_stn_train.py', [...timingArgs(profile), ...size, '--transform', net.torch],
      { key: net.id, read: summarizeJson, label: `torch ${net.label}`, timeoutSec: 600 });
    if (!ok) break;
  }

  const rows = [];
  for (const net of NETS) {
    for (const e of ENGINES) {
      const m = res[e.id]?.[net.id];
      rows.push({ net: net.id, engine: e.id, imagesPerSec: ips(m), ...eng.fields(m, e.id, { sec: 'msPerStep', wall: 'wallMsPerStep' }) });
    }
  }
  const checks = [];
  for (const net of NETS) {
    for (const r of RATIOS) {
      const rate = (id) => ips(res[id]?.[net.id]);
      checks.push({ net: net.id, ratio: r.id, ...ratioCheck(rate(r.num), rate(r.den), r, r.target != null && r.nets.includes(net.id)) });
    }
  }

  const tables = [
    {
      title: `images/s (batch ${B}, ${S}×${S}; one call = one training step)`,
      columns: [
        { key: 'engine', label: 'engine', align: 'left' },
        ...NETS.flatMap((n) => timeColumns(n.id, `${n.label} img/s`, 'ms/step')),
      ],
      rows: eng.rows(ENGINES, NETS[0].id, (r) => Object.assign({}, ...NETS.map((n) => timeCells(n.id, r[n.id], ips, { digits: 0, msDigits: 2 })))),
    },
    ratioTable(RATIOS, NETS.map((n) => ({ key: n.id, label: n.label, check: (r) => checks.find((c) => c.net === n.id && c.ratio === r.id) })),
      (r) => r.nets.map((id) => NETS.find((n) => n.id === id).label).join(', ')),
  ];

  const notes = [
    'images/s = 64 / seconds per training step. Network: src/stn_model.c defaults = the PyTorch STN tutorial\'s (loc conv 8@7×7,',
    '  conv 10@5×5, FC 32, FC 6; classifier conv 10@5×5, conv 20@5×5 + Dropout2d, FC 50, dropout, FC 10), SGD lr 0.01 momentum 0.9, clip 10.',
    ...eng.notes(profile, ENGINES, checks),
  ];
  return { title, notes, rows, checks, tables };
}
