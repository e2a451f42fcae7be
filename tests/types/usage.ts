// Type-checked (never run) by tests/types.test.js: every public name of the package as a user
// would write it. A declaration that drifts from the API breaks this file.
// tfjs-core's own declarations (for glimpse-wasm/tfjs below) use the global Long of @types/long,
// which tsconfig's "types": [] leaves out.
/// <reference types="long" />
import { load, loadMnist, loadStandardMnist, parseIdx, simdSupported, seededRandom } from 'glimpse-wasm';
import type { Tensor, Floats, SampleGradients, Filterbank, NtmAddressGradients } from 'glimpse-wasm';
import type { Glimpse, STNModel, DRAWModel, NTMModel, Distorted, PretrainedName, SaveOptions, StandardMnist, TpsOptions, NTMTask, TaskOptions, TaskSizes, TrainTaskResult, EvaluateTaskResult, TaskExample, RunTaskResult } from 'glimpse-wasm';

export async function usage(): Promise<void> {
  const ok: boolean = simdSupported();
  const g: Glimpse = await load({ simd: ok });
  const simd: boolean = g.simd;
  void simd;

  const theta = new Float32Array(6);
  const grid: Float32Array = g.stn.affineGrid(theta, [1, 1, 28, 28], { alignCorners: false });
  const img = new Float32Array(28 * 28);
  const out: Float32Array = g.stn.gridSample(img, [1, 1, 28, 28], grid, [28, 28], { padding: 'reflection' });
  const { dInput, dGrid } = g.stn.gridSampleBackward(out, img, [1, 1, 28, 28], grid, [28, 28]);
  const dTheta: Float32Array = g.stn.affineGridBackward(dGrid, [1, 1, 28, 28]);
  void dInput; void dTheta;
  const hom = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const pGrid: Float32Array = g.stn.projectiveGrid(hom, [1, 1, 28, 28], { alignCorners: true });
  const dHom: Float32Array = g.stn.projectiveGridBackward(dGrid, hom, [1, 1, 28, 28]);
  const cp: Float32Array = g.stn.tpsControlPoints([4, 4]);
  const tpsOptions: TpsOptions = { controlGrid: [4, 4], alignCorners: false };
  const tGrid2: Float32Array = g.stn.tpsGrid(cp, [1, 1, 28, 28], tpsOptions);
  const dCp: Float32Array = g.stn.tpsGridBackward(tGrid2, cp, [1, 1, 28, 28], tpsOptions);
  const tpsTensor: Tensor = g.stn.tpsGrid(g.tensor(cp, [1, 16, 2]), [1, 1, 28, 28]);
  const tpsModel = g.createSTN({ transform: 'tps', controlGrid: [3, 3] });
  const points: Float32Array = tpsModel.transform(img).theta;
  void pGrid; void dHom; void dCp; void tpsTensor; void points;

  const params = new Float32Array(5);
  const fb = g.draw.filterbank(params, [1, 5, 28, 28]);
  const fx: Float32Array = fb.Fx;
  void fx;
  const rd: Float32Array = g.draw.read(img, img, params, [1, 5, 28, 28]);
  const rb = g.draw.readBackward(rd, img, img, params, [1, 5, 28, 28]);
  const dp: Float32Array = rb.dParams;
  void dp;
  const canvas: Float32Array = g.draw.write(new Float32Array(25), params, [1, 5, 28, 28]);
  void g.draw.writeBackward(canvas, new Float32Array(25), params, [1, 5, 28, 28]).dW;

  const memory = new Float32Array(8 * 4);
  const w: Float32Array = g.ntm.address(
    { memory, key: new Float32Array(4), beta: 1, gate: 0.5, shift: new Float32Array([0, 1, 0]), gamma: 1, prev: new Float32Array(8) },
    [8, 4],
  );
  const r: Float32Array = g.ntm.read(memory, w, [8, 4]);
  const m2: Float32Array = g.ntm.write(memory, w, r, r, [8, 4]);
  void m2;

  // Tensors in wasm memory, every kernel through them; grid_sample's modes
  const tImg: Tensor = g.tensor(img, [1, 1, 28, 28]);
  const tGrid: Tensor = g.stn.affineGrid(g.tensor(theta, [1, 2, 3]), [1, 1, 28, 28]);
  const tOut: Tensor = g.stn.gridSample(tImg, [1, 1, 28, 28], tGrid, [28, 28], { mode: 'bicubic', padding: 'border' });
  const tg: SampleGradients<Tensor> = g.stn.gridSampleBackward(tOut, tImg, [1, 1, 28, 28], tGrid, [28, 28], { mode: 'nearest' });
  const into: Tensor = g.stn.gridSample(img, [1, 1, 28, 28], grid, [28, 28], { out: g.zeros([1, 1, 28, 28]) });
  const grads = g.stn.gridSampleBackward(out, img, [1, 1, 28, 28], grid, [28, 28], { out: { dInput: g.zeros([1, 1, 28, 28]), dGrid: g.zeros([1, 28, 28, 2]) } });
  const mixed: Float32Array = g.stn.gridSample(tImg, [1, 1, 28, 28], grid, [28, 28]);
  const back: Float32Array = tOut.toArray();
  const dims: readonly number[] = tOut.shape;
  const nElems: number = tOut.size + grads.dGrid.size;
  const isFreed: boolean = tg.dGrid.freed;
  tImg.set(back.subarray(0, 784)).free();
  {
    using scratch = g.zeros([4]);
    void scratch.size;
  }
  const tFb: Filterbank<Tensor> = g.draw.filterbank(g.tensor(params, [1, 5]), [1, 5, 28, 28]);
  const tRead: Tensor = g.draw.read(tOut, tOut, g.tensor(params, [1, 5]), [1, 5, 28, 28]);
  const fArr: Float32Array = g.draw.decode(params, [1, 5, 28, 28]);
  const tW: Tensor = g.ntm.read(g.tensor(memory, [8, 4]), g.tensor(w, [8]), [8, 4]);
  const ta: NtmAddressGradients<Tensor> = g.ntm.addressBackward(g.tensor(w, [8]), {
    memory: g.tensor(memory, [8, 4]), key: g.tensor(new Float32Array(4)), beta: 1, gate: 0.5,
    shift: g.tensor(new Float32Array([0, 1, 0])), gamma: 1, prev: g.tensor(new Float32Array(8)),
  }, [8, 4]);
  const floats: Floats[] = [img, tOut];
  void tGrid; void into; void mixed; void dims; void nElems; void isFreed; void tFb.gamma; void tRead; void fArr; void tW; void ta.dBeta; void floats;

  const mnist = await loadMnist();
  const d: Distorted = g.distort(mnist.train.images.subarray(0, 784), 1, 'RTS', { seed: 1 });
  void d.images;
  void parseIdx;

  const stn: STNModel = g.createSTN({ height: 28, width: 28, classes: 10, seed: 1 });
  const res: { loss: number; accuracy: number } = stn.trainBatch(img, [3]);
  void res;
  const pred: Int32Array = stn.predict(img).labels;
  const probs: Float32Array = stn.predict(img).probabilities;
  const mine: Int32Array = stn.classify(stn.transform(img).output).labels;
  void pred; void probs; void mine;
  const slice = stn.trainFor(50, () => ({ images: img, labels: [3] }), (r, step) => void (r.loss + step));
  const ips: number = slice.itemsPerSecond + slice.mean.loss;
  void ips;
  const tr: string = stn.distortion;
  void tr;
  const th: Float32Array = g.stn.affineTheta({ rotation: 30, scale: 0.8 });
  void th;
  const side: number = g.distortions.RTS.side;
  const lrDefault = g.defaults.DRAW.learningRate;
  const firstOption: string = g.schema.STN[0].name;
  void side; void lrDefault; void firstOption;
  const rand: () => number = seededRandom(3);
  void rand;
  const t = stn.transform(img);
  void t.theta; void t.output;
  const again: STNModel = g.loadSTN(stn.save());
  again.free();
  stn.free();

  const draw: DRAWModel = g.createDRAW({ seed: 1 });
  const l = draw.trainBatch(img);
  const nats: number = l.loss + l.reconstruction + l.kl;
  void nats;
  draw.free();

  const ntm: NTMModel = g.createNTM({ seed: 1, heads: 2, memory: [64, 10] });
  const dcfg: number = draw.config.T;
  void dcfg;
  const c = ntm.trainCopy({ batch: 2, minLength: 1, maxLength: 3 });
  const be: number = c.bitErrors + c.loss;
  void be;
  // the paper's other tasks: train, evaluate, an example edited and run
  const rc: NTMModel = g.createNTM({ task: 'repeat-copy', memory: [32, 8], controller: 16 });
  const task: NTMTask = rc.task;
  const ttr: TrainTaskResult = rc.trainTask({ batch: 2, minLength: 1, maxLength: 3, minRepeats: 1, maxRepeats: 2 });
  const ev: EvaluateTaskResult = rc.evaluateTask({ count: 4, seed: 1, maxRepeats: 3 });
  const ex: TaskExample = rc.taskExample({ seed: 2, minLength: 2, maxLength: 2 });
  ex.input[0] = 1 - ex.input[0];
  const run: RunTaskResult = rc.runTask(ex, { traces: false });
  const fresh: RunTaskResult = rc.runTask({ seed: 3 });
  const sizes: TaskSizes = run.sizes;
  const topts: TaskOptions = { minItems: 2, maxItems: 6, itemLength: 3 };
  const ng: NTMModel = g.createNTM({ task: 'ngrams', architecture: 'lstm' });
  const bayes: number | undefined = ng.evaluateTask({ count: 2, length: 20 }).bayesLoss;
  const rw: Float32Array | null = fresh.readWeights;
  void task; void ttr.wrongSequences; void ev.bitErrorsPerSequence; void sizes.repeats; void topts; void bayes; void rw; void run.correct;
  rc.free();
  ng.free();
  ntm.free();

  const s2: STNModel = await g.pretrained('stn-mnist');
  const d2: DRAWModel = await g.pretrained('draw-mnist');
  const n2: NTMModel = await g.pretrained('ntm-copy');
  void s2; void d2; void n2;
  for (const name of ['stn-mnist', 'draw-mnist', 'ntm-copy', 'ntm-repeat-copy', 'ntm-recall'] as const satisfies readonly PretrainedName[]) {
    const any = await g.pretrained(name);
    if (any.kind === 'STN') { const acc: number = any.evaluate(new Float32Array(784), [0]).accuracy; void acc; }
    const saved: Uint8Array = any.save({ format: 'safetensors' });
    const ckpt: Uint8Array = any.save({ optimizer: true });
    const opts: SaveOptions = { float16: true };
    void saved; void ckpt; void any.save(opts);
  }
  const std: StandardMnist = await loadStandardMnist({ url: new URL('file:///data/mnist/') });
  const trainImages: Float32Array = std.train.images;
  void trainImages;
  const bytes: number = g.memoryBytes();
  void bytes;
  const gt: Glimpse = await load({ threads: 2 });
  const nth: number = gt.threads;
  const why: string = gt.threadsReason;
  void nth; void why;
  gt.close();
  await load({ threads: 'auto' });
}

// glimpse-wasm/tfjs: the only entry that refers to TF.js types (type-only, from @tensorflow/tfjs-core).
import { tfjsOps } from 'glimpse-wasm/tfjs';
import type { TfjsOps, TfjsSampleOptions } from 'glimpse-wasm/tfjs';
import * as tf from '@tensorflow/tfjs-core';

export async function usageTfjs(): Promise<void> {
  const g: Glimpse = await load();
  const ops: TfjsOps = tfjsOps(g, tf);
  const theta = tf.variable(tf.tensor3d([[[1, 0, 0], [0, 1, 0]]]));
  const image: tf.Tensor4D = tf.zeros([1, 1, 28, 28]);
  const grid: tf.Tensor4D = ops.affineGrid(theta, [1, 1, 14, 14], { alignCorners: false });
  const opts: TfjsSampleOptions = { padding: 'border', mode: 'bilinear' };
  const glimpse: tf.Tensor4D = ops.gridSample(image, grid, opts);
  const dTheta: tf.Tensor = tf.grad((t: tf.Tensor) => tf.sum(ops.gridSample(image, ops.affineGrid(t, [1, 1, 14, 14]))))(theta);
  const [dImage, dGrid] = tf.grads((x: tf.Tensor, gr: tf.Tensor) => tf.sum(ops.gridSample(x, gr)))([image, grid]);
  const optimizer = tf.train.adam(1e-3);
  optimizer.minimize(() => tf.sum(ops.gridSample(image, ops.affineGrid(theta, [1, 1, 14, 14]))));
  tf.dispose([glimpse, dTheta, dImage, dGrid]);
}
