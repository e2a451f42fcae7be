// draw_model.js: g.createDRAW / g.loadDRAW, the DRAW recurrent variational auto-encoder with
// selective attention (Gregor et al. 2015) trained in the C core (src/draw_model.c). Images are
// binarised inside the model (threshold at 0.5 by default, or stochastic draws); losses are in nats
// per image (negative variational bound: Bernoulli reconstruction + KL summed over the steps).
import * as v from './validate.js';
import { WasmModel, loadModelBytes } from './model.js';

// The C config words (src/draw_model.c, enum CF_*), in order. f: stored as float bits.
const WORDS = [
  'T', 'readN', 'writeN', 'hidden', 'latent', 'attention', 'height', 'width', 'seed',
  ['learningRate', 'f'], ['clipNorm', 'f'], ['beta1', 'f'], ['beta2', 'f'], 'binarize',
].map((w) => (Array.isArray(w) ? { key: w[0], float: true } : { key: w, float: false }));
const NCONFIG = WORDS.length;
const BINARIZE = ['threshold', 'stochastic'];

/**
 * Defaults of createDRAW: the settings of the shipped 'draw-mnist' model (scripts/train_draw.js).
 * Chosen for a short CPU budget rather than the paper's T = 64, LSTM 256, z 100, read 2×2, write 5×5:
 * T = 16 and LSTM 128 train about 10× faster per image. With so few glimpses the small patches
 * were the bottleneck in short runs (test bound after 200 batches of 64: read 5×5 / write 5×5 166
 * nats, 5×5 / 10×10 143, 8×8 / 10×10 128; with a 2×2 read the posterior stayed at the prior for
 * hundreds of steps), so the read is 8×8 and the write 10×10.
 */
export const DRAW_DEFAULTS = Object.freeze({
  T: 16, readN: 8, writeN: 10, hidden: 128, latent: 32, attention: true, height: 28, width: 28, seed: 0,
  learningRate: 1e-3, clipNorm: 10, beta1: 0.9, beta2: 0.999, binarize: 'threshold',
});

const OPTION_KEYS = Object.keys(DRAW_DEFAULTS);

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
const toBits = (x) => ((f32bits[0] = x), u32bits[0]);
const fromBits = (u) => ((u32bits[0] = u), f32bits[0]);

/** Validate createDRAW options → the full config (JS names, defaults filled in). */
function configFromOptions(opts) {
  const o = v.options('createDRAW options', opts, OPTION_KEYS);
  const D = DRAW_DEFAULTS;
  const int = (k, min, max) => (o[k] === undefined ? D[k] : v.size(`createDRAW options.${k}`, o[k], { min, max }));
  const num = (k, min, max) => (o[k] === undefined ? D[k] : v.number(`createDRAW options.${k}`, o[k], { min, max }));
  return {
    T: int('T', 1, 256),
    readN: int('readN', 1, 64),
    writeN: int('writeN', 1, 64),
    hidden: int('hidden', 1, 4096),
    latent: int('latent', 1, 4096),
    attention: v.bool('createDRAW options.attention', o.attention, D.attention),
    height: int('height', 2, 512),
    width: int('width', 2, 512),
    seed: int('seed', 0, 0xffffffff),
    learningRate: num('learningRate', 1e-12, 100),
    clipNorm: num('clipNorm', 0, 1e30),
    beta1: num('beta1', 0, 0.9999),
    beta2: num('beta2', 0, 0.999999),
    binarize: v.oneOf('createDRAW options.binarize', o.binarize, BINARIZE, D.binarize),
  };
}

function configToWords(c) {
  const words = new Uint32Array(NCONFIG);
  WORDS.forEach((w, i) => {
    let x = c[w.key];
    if (w.key === 'attention') x = x ? 1 : 0;
    else if (w.key === 'binarize') x = BINARIZE.indexOf(x);
    words[i] = w.float ? toBits(x) : x >>> 0;
  });
  return words;
}

function wordsToConfig(words) {
  const c = {};
  WORDS.forEach((w, i) => {
    c[w.key] = w.float ? fromBits(words[i]) : words[i];
  });
  c.attention = c.attention === 1;
  c.binarize = BINARIZE[c.binarize];
  return c;
}

/** A DRAW model trained in wasm. Create with g.createDRAW(options) or g.loadDRAW(bytes). */
export class DRAWModel extends WasmModel {
  constructor(core, ptr) {
    super(core, ptr, 'DRAW', 'gl_draw');
    const words = core.scoped((s) => {
      const p = s.zeros(NCONFIG);
      if (core.x.gl_draw_config(ptr, p, NCONFIG) !== NCONFIG) throw new Error('DRAW: configuration size mismatch');
      return new Uint32Array(core.i32.slice(p >> 2, (p >> 2) + NCONFIG).buffer);
    });
    const c = wordsToConfig(words);
    /** Full configuration (the createDRAW options with their defaults). */
    this.config = Object.freeze(c);
    /** Number of glimpses (time steps). */
    this.steps = c.T;
    this.height = c.height;
    this.width = c.width;
    this.attention = c.attention;
    this._lr = c.learningRate;
  }

  /** Number of trainable parameters. */
  get parameterCount() {
    return Number(this._core.x.gl_draw_param_count(this.ptr));
  }

  /** The learning rate of the next steps (settable, e.g. for a schedule; saved with the model). */
  get learningRate() {
    this.ptr;
    return this._lr;
  }
  set learningRate(lr) {
    v.number('learningRate', lr, { min: 1e-12, max: 100 });
    this._core.check(this._core.x.gl_draw_set_lr(this.ptr, lr), 'DRAW learningRate');
    this._lr = Math.fround(lr);
  }

  /** Validate images (count×height×width, pixels in [0, 1]) and return the count. */
  _count(fn, images) {
    const pix = this.height * this.width;
    v.f32(`${fn} images`, images, undefined, `count×${this.height}×${this.width}`);
    if (images.length === 0 || images.length % pix !== 0) {
      throw new RangeError(`${fn} images must hold count×${this.height}×${this.width} floats (count ≥ 1, ${pix} per image), got length ${images.length}`);
    }
    for (let i = 0; i < images.length; i++) {
      const p = images[i];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn} images[${i}] must be a pixel value in [0, 1], got ${p}`);
    }
    return images.length / pix;
  }

  _seed(fn, opts) {
    const o = v.options(`${fn} options`, opts, ['seed']);
    return o.seed === undefined ? 0 : v.size(`${fn} options.seed`, o.seed, { min: 0, max: 0xffffffff });
  }

  /**
   * One Adam step on a batch (images count×height×width in [0, 1], binarised by the model).
   * Throws an Error (weights unchanged) when the loss or gradient is not finite.
   * @returns {{ loss: number, reconstruction: number, kl: number, gradNorm: number }} nats per image
   */
  trainBatch(images) {
    const ptr = this.ptr;
    const B = this._count('trainBatch', images);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), po = s.zeros(4);
      core.check(core.x.gl_draw_train_batch(ptr, po, pi, B), 'DRAW trainBatch');
      const r = s.get(po, 4);
      return { loss: r[0], reconstruction: r[1], kl: r[2], gradNorm: r[3] };
    });
  }

  /**
   * The negative variational bound of images without an update (means over the images, nats per
   * image). eps (and stochastic binarisation) are drawn from an RNG seeded by options.seed
   * (default 0), so the same call gives the same numbers.
   * @returns {{ loss: number, reconstruction: number, kl: number }}
   */
  loss(images, options) {
    const ptr = this.ptr;
    const B = this._count('loss', images);
    const seed = this._seed('loss', options);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), po = s.zeros(3);
      core.check(core.x.gl_draw_loss(ptr, po, pi, B, seed), 'DRAW loss');
      const r = s.get(po, 3);
      return { loss: r[0], reconstruction: r[1], kl: r[2] };
    });
  }

  /**
   * Samples: z_t ~ N(0, I) (seeded), decoder only. canvases: steps×count×height×width
   * (probabilities σ(c_t)); write: steps×count×5 = (gX, gY, δ, σ², γ) of each write in image units
   * (1-based pixel coordinates), or null without attention.
   */
  generate(options) {
    const ptr = this.ptr;
    const o = v.options('generate options', options, ['count', 'seed']);
    const count = o.count === undefined ? 1 : v.size('generate options.count', o.count, { min: 1, max: 100000 });
    const seed = o.seed === undefined ? 0 : v.size('generate options.seed', o.seed, { min: 0, max: 0xffffffff });
    const T = this.steps, pix = this.height * this.width;
    const nc = v.count('generate canvases', T, count, pix), nw = T * count * 5;
    const core = this._core;
    return core.scoped((s) => {
      const pc = s.zeros(nc), pw = this.attention ? s.zeros(nw) : 0;
      core.check(core.x.gl_draw_generate(ptr, pc, pw, count, seed), 'DRAW generate');
      return { steps: T, canvases: s.get(pc, nc), write: this.attention ? s.get(pw, nw) : null };
    });
  }

  /**
   * The full pass over images (eps seeded by options.seed, default 0): canvases
   * steps×count×height×width (probabilities), read and write steps×count×5 = (gX, gY, δ, σ², γ)
   * in image units (null without attention).
   */
  reconstruct(images, options) {
    const ptr = this.ptr;
    const B = this._count('reconstruct', images);
    const seed = this._seed('reconstruct', options);
    const T = this.steps, pix = this.height * this.width;
    const nc = v.count('reconstruct canvases', T, B, pix), na = T * B * 5;
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), pc = s.zeros(nc);
      const pr = this.attention ? s.zeros(na) : 0, pw = this.attention ? s.zeros(na) : 0;
      core.check(core.x.gl_draw_reconstruct(ptr, pc, pr, pw, pi, B, seed), 'DRAW reconstruct');
      return {
        steps: T,
        canvases: s.get(pc, nc),
        read: this.attention ? s.get(pr, na) : null,
        write: this.attention ? s.get(pw, na) : null,
      };
    });
  }
}

/** g.createDRAW and g.loadDRAW for one core. */
export function makeDrawModel(core) {
  return {
    /** A new DRAW model (see DRAWOptions in draw_model.d.ts). */
    createDRAW(options) {
      const words = configToWords(configFromOptions(options));
      const ptr = core.scoped((s) => {
        const pw = s.put(new Int32Array(words.buffer));
        const pout = s.zeros(1);
        core.check(core.x.gl_draw_create(pout, pw, NCONFIG), 'createDRAW options');
        return core.i32[pout >> 2];
      });
      return new DRAWModel(core, ptr);
    },
    /** A model from the bytes of model.save(); malformed bytes throw an Error. */
    loadDRAW(bytes) {
      return new DRAWModel(core, loadModelBytes(core, bytes, 'DRAW', 'gl_draw_load'));
    },
  };
}
