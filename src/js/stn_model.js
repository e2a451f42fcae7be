// stn_model.js: g.createSTN / g.loadSTN, the Spatial Transformer Network classifier trained in
// the C core (src/stn_model.c). By default the architecture of the PyTorch STN tutorial, adapted
// to the input size; transform: 'affine' (default), 'projective' or 'none' (the plain CNN).
import * as v from './validate.js';
import { WasmModel, loadModelBytes } from './model.js';

// The C config words (src/stn_model.c, enum CF_*), in order. f: stored as float bits.
const WORDS = [
  'height', 'width', 'classes', 'seed', 'transform', 'outputHeight', 'outputWidth',
  ['dropout', 'f'], 'optimizer', ['learningRate', 'f'], ['momentum', 'f'], ['weightDecay', 'f'], ['clipNorm', 'f'],
  ['locLearningRateScale', 'f'], 'locPool',
  'locChannels0', 'locKernels0', 'locChannels1', 'locKernels1', 'locHidden',
  'channels0', 'kernels0', 'channels1', 'kernels1', 'hidden',
  ['beta1', 'f'], ['beta2', 'f'], 'classifierPool',
].map((w) => (Array.isArray(w) ? { key: w[0], float: true } : { key: w, float: false }));
const NCONFIG = WORDS.length;
const TRANSFORMS = ['none', 'affine', 'projective'];
const OPTIMIZERS = ['sgd', 'adam'];

const OPTION_KEYS = [
  'height', 'width', 'classes', 'seed', 'transform', 'outputSize', 'dropout', 'optimizer', 'learningRate',
  'momentum', 'weightDecay', 'clipNorm', 'locLearningRateScale', 'locPool', 'classifierPool', 'locChannels',
  'locKernels', 'locHidden', 'channels', 'kernels', 'hidden', 'beta1', 'beta2',
];

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
const toBits = (x) => ((f32bits[0] = x), u32bits[0]);
const fromBits = (u) => ((u32bits[0] = u), f32bits[0]);

function pair(name, value, dflt, max) {
  if (value === undefined) return dflt;
  return v.shape(name, value, 2, ['first', 'second']).map((x, i) => v.size(`${name}[${i}]`, x, { max }));
}

/** Validate createSTN options → the full config object (JS names, defaults filled in). */
function configFromOptions(opts) {
  const o = v.options('createSTN options', opts, OPTION_KEYS);
  const height = o.height === undefined ? 28 : v.size('createSTN options.height', o.height, { min: 4, max: 1024 });
  const width = o.width === undefined ? 28 : v.size('createSTN options.width', o.width, { min: 4, max: 1024 });
  const transform = v.oneOf('createSTN options.transform', o.transform, TRANSFORMS, 'affine');
  const [outputHeight, outputWidth] = pair('createSTN options.outputSize', o.outputSize, [height, width], 1024);
  if (transform === 'none' && (outputHeight !== height || outputWidth !== width)) {
    throw new RangeError(`createSTN options.outputSize must equal [height, width] = [${height}, ${width}] when transform is 'none', got [${outputHeight}, ${outputWidth}]`);
  }
  const optimizer = v.oneOf('createSTN options.optimizer', o.optimizer, OPTIMIZERS, 'sgd');
  const num = (k, dflt, range) => (o[k] === undefined ? dflt : v.number(`createSTN options.${k}`, o[k], range));
  const pool = (k) => {
    if (o[k] === undefined || o[k] === 'auto') return k === 'locPool' ? 'auto' : 0;
    return v.size(`createSTN options.${k}`, o[k], { min: 0, max: 3 });
  };
  const [lc0, lc1] = pair('createSTN options.locChannels', o.locChannels, [8, 10], 1024);
  const [lk0, lk1] = pair('createSTN options.locKernels', o.locKernels, [7, 5], 64);
  const [c0, c1] = pair('createSTN options.channels', o.channels, [10, 20], 1024);
  const [k0, k1] = pair('createSTN options.kernels', o.kernels, [5, 5], 64);
  return {
    height,
    width,
    classes: o.classes === undefined ? 10 : v.size('createSTN options.classes', o.classes, { min: 2, max: 100000 }),
    seed: o.seed === undefined ? 0 : v.size('createSTN options.seed', o.seed, { min: 0, max: 0xffffffff }),
    transform,
    outputHeight,
    outputWidth,
    dropout: num('dropout', 0.5, { min: 0, max: 0.95 }),
    optimizer,
    learningRate: num('learningRate', optimizer === 'adam' ? 0.001 : 0.01, { min: 1e-12, max: 100 }),
    momentum: num('momentum', 0.9, { min: 0, max: 0.9999 }),
    weightDecay: num('weightDecay', 0, { min: 0, max: 1 }),
    clipNorm: num('clipNorm', 10, { min: 0, max: 1e30 }),
    locLearningRateScale: num('locLearningRateScale', 1, { min: 0, max: 100 }),
    locPool: pool('locPool'),
    classifierPool: pool('classifierPool'),
    locChannels0: lc0, locChannels1: lc1, locKernels0: lk0, locKernels1: lk1,
    locHidden: o.locHidden === undefined ? 32 : v.size('createSTN options.locHidden', o.locHidden, { max: 1024 }),
    channels0: c0, channels1: c1, kernels0: k0, kernels1: k1,
    hidden: o.hidden === undefined ? 50 : v.size('createSTN options.hidden', o.hidden, { max: 1024 }),
    beta1: num('beta1', 0.9, { min: 0, max: 0.9999 }),
    beta2: num('beta2', 0.999, { min: 0, max: 0.999999 }),
  };
}

function configToWords(c) {
  const words = new Uint32Array(NCONFIG);
  WORDS.forEach((w, i) => {
    let x = c[w.key];
    if (w.key === 'transform') x = TRANSFORMS.indexOf(x);
    else if (w.key === 'optimizer') x = OPTIMIZERS.indexOf(x);
    else if (x === 'auto') x = 0xffffffff;
    words[i] = w.float ? toBits(x) : x >>> 0;
  });
  return words;
}

function wordsToConfig(words) {
  const c = {};
  WORDS.forEach((w, i) => {
    c[w.key] = w.float ? fromBits(words[i]) : words[i];
  });
  c.transform = TRANSFORMS[c.transform];
  c.optimizer = OPTIMIZERS[c.optimizer];
  return c;
}

/** A trained-in-wasm STN classifier. Create with g.createSTN(options) or g.loadSTN(bytes). */
export class STNModel extends WasmModel {
  constructor(core, ptr) {
    super(core, ptr, 'STN', 'gl_stn');
    this._readConfig();
  }

  _readConfig() {
    const core = this._core;
    const words = core.scoped((s) => {
      const p = s.zeros(NCONFIG);
      if (core.x.gl_stn_config(this.ptr, p, NCONFIG) !== NCONFIG) throw new Error('STN: configuration size mismatch');
      return new Uint32Array(core.i32.slice(p >> 2, (p >> 2) + NCONFIG).buffer);
    });
    const c = wordsToConfig(words);
    /** Full configuration (options with their defaults and derived values). */
    this.config = Object.freeze({
      height: c.height, width: c.width, classes: c.classes, seed: c.seed, transform: c.transform,
      outputSize: [c.outputHeight, c.outputWidth], dropout: c.dropout, optimizer: c.optimizer,
      learningRate: c.learningRate, momentum: c.momentum, weightDecay: c.weightDecay, clipNorm: c.clipNorm,
      locLearningRateScale: c.locLearningRateScale, locPool: c.locPool, classifierPool: c.classifierPool,
      locChannels: [c.locChannels0, c.locChannels1], locKernels: [c.locKernels0, c.locKernels1], locHidden: c.locHidden,
      channels: [c.channels0, c.channels1], kernels: [c.kernels0, c.kernels1], hidden: c.hidden,
      beta1: c.beta1, beta2: c.beta2,
    });
    this.height = c.height;
    this.width = c.width;
    this.classes = c.classes;
    this.outputHeight = c.outputHeight;
    this.outputWidth = c.outputWidth;
    this.transformType = c.transform;
    this._lr = c.learningRate;
  }

  /** Number of trainable parameters. */
  get parameterCount() {
    return Number(this._core.x.gl_stn_param_count(this.ptr));
  }

  /** The learning rate of the next steps (settable, e.g. for a schedule; saved with the model). */
  get learningRate() {
    this.ptr;
    return this._lr;
  }
  set learningRate(lr) {
    v.number('learningRate', lr, { min: 1e-12, max: 100 });
    this._core.check(this._core.x.gl_stn_set_lr(this.ptr, lr), 'STN learningRate');
    this._lr = Math.fround(lr);
  }

  /** Validate images (count×height×width) and return the count. */
  _count(fn, images) {
    const pix = this.height * this.width;
    const shape = `count×${this.height}×${this.width}`;
    v.f32(`${fn} images`, images, undefined, shape);
    if (images.length === 0 || images.length % pix !== 0) {
      throw new RangeError(`${fn} images must hold count×${this.height}×${this.width} floats (count ≥ 1, ${pix} per image), got length ${images.length}`);
    }
    for (let i = 0; i < images.length; i++) {
      if (!Number.isFinite(images[i])) throw new RangeError(`${fn} images[${i}] must be a finite number (pixels in [0, 1]), got ${images[i]}`);
    }
    return images.length / pix;
  }

  /**
   * One optimiser step on a batch. images: count×height×width in [0, 1]; labels: class ids.
   * Throws an Error (weights unchanged) when the loss or gradient is not finite.
   * @returns {{ loss: number, accuracy: number, gradNorm: number }}
   */
  trainBatch(images, labels) {
    const ptr = this.ptr;
    const B = this._count('trainBatch', images);
    const lab = v.labels('trainBatch labels', labels, B, this.classes);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), pl = s.put(lab), po = s.zeros(4);
      core.check(core.x.gl_stn_train_batch(ptr, po, pi, pl, B), 'STN trainBatch');
      const r = s.get(po, 3);
      return { loss: r[0], accuracy: r[1], gradNorm: r[2] };
    });
  }

  /** Class scores (count×classes, before softmax) and the argmax labels, without dropout. */
  predict(images) {
    const ptr = this.ptr;
    const B = this._count('predict', images);
    const core = this._core;
    const nl = B * this.classes;
    return core.scoped((s) => {
      const pi = s.put(images), pz = s.zeros(nl), pl = s.zeros(B);
      core.check(core.x.gl_stn_predict(ptr, pz, pl, pi, B), 'STN predict');
      return { labels: core.i32.slice(pl >> 2, (pl >> 2) + B), logits: s.get(pz, nl) };
    });
  }

  /**
   * The transformer applied to images: theta (count×2×3 for 'affine' and 'none' (the identity),
   * count×3×3 for 'projective') and output (count×outputHeight×outputWidth, what the classifier sees).
   */
  transform(images) {
    const ptr = this.ptr;
    const B = this._count('transform', images);
    const core = this._core;
    const nt = B * (this.transformType === 'projective' ? 9 : 6);
    const no = B * this.outputHeight * this.outputWidth;
    return core.scoped((s) => {
      const pi = s.put(images), pt = s.zeros(nt), po = s.zeros(no);
      core.check(core.x.gl_stn_transform(ptr, pt, po, pi, B), 'STN transform');
      return { theta: s.get(pt, nt), output: s.get(po, no) };
    });
  }

  /** Mean loss and accuracy over a labelled set, no update (evaluated in chunks, without dropout). */
  evaluate(images, labels) {
    const B = this._count('evaluate', images);
    const lab = v.labels('evaluate labels', labels, B, this.classes);
    const { labels: pred, logits } = this.predict(images);
    let correct = 0, loss = 0;
    const C = this.classes;
    for (let i = 0; i < B; i++) {
      if (pred[i] === lab[i]) correct++;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c] - m);
      loss += m + Math.log(z) - logits[i * C + lab[i]];
    }
    return { loss: loss / B, accuracy: correct / B };
  }
}

/** g.createSTN and g.loadSTN for one core. */
export function makeStnModel(core) {
  return {
    /** A new STN classifier (see STNOptions in stn_model.d.ts). */
    createSTN(options) {
      const c = configFromOptions(options);
      const words = configToWords(c);
      const ptr = core.scoped((s) => {
        const pw = s.put(new Int32Array(words.buffer));
        const pout = s.zeros(1);
        core.check(core.x.gl_stn_create(pout, pw, NCONFIG), 'createSTN options');
        return core.i32[pout >> 2];
      });
      return new STNModel(core, ptr);
    },
    /** A model from the bytes of model.save(); malformed bytes throw an Error. */
    loadSTN(bytes) {
      return new STNModel(core, loadModelBytes(core, bytes, 'STN', 'gl_stn_load'));
    },
  };
}
