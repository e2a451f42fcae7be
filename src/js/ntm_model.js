// ntm_model.js: g.createNTM / g.loadNTM, the Neural Turing Machine (Graves et al. 2014) trained on
// the copy task in the C core (src/ntm_model.c): an LSTM (or feed-forward) controller, read and
// write heads with the paper's addressing (g.ntm kernels), memory initialised to a small
// constant (Collier & Beel 2018), BPTT, Adam and gradient clipping, all in C.
import * as v from './validate.js';
import { WasmModel, loadModelBytes } from './model.js';

// The C config words (src/ntm_model.c, enum CF_*), in order. f: stored as float bits.
const WORDS = [
  'bits', 'rows', 'columns', 'controller', 'controllerType', 'readHeads', 'writeHeads', 'shift', 'seed',
  ['learningRate', 'f'], ['clipNorm', 'f'], ['beta1', 'f'], ['beta2', 'f'], ['memoryInit', 'f'], 'learnInit',
  ['paramClip', 'f'],
].map((w) => (Array.isArray(w) ? { key: w[0], float: true } : { key: w, float: false }));
const NCONFIG = WORDS.length;
const CONTROLLERS = ['lstm', 'feedforward'];

const OPTION_KEYS = [
  'bits', 'memory', 'controller', 'controllerType', 'heads', 'shift', 'seed', 'learningRate', 'clipNorm',
  'beta1', 'beta2', 'memoryInit', 'learnInit', 'paramClip',
];
const MAX_LENGTH = 10000; // as src/ntm_model.c

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
const toBits = (x) => ((f32bits[0] = x), u32bits[0]);
const fromBits = (u) => ((u32bits[0] = u), f32bits[0]);

function heads(value) {
  const name = 'createNTM options.heads';
  if (value === undefined) return [1, 1];
  if (typeof value === 'number') {
    const h = v.size(name, value, { max: 16 });
    return [h, h];
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be a number of read and write heads each, or { read, write }, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  v.options(name, value, ['read', 'write']);
  return [
    value.read === undefined ? 1 : v.size(`${name}.read`, value.read, { max: 16 }),
    value.write === undefined ? 1 : v.size(`${name}.write`, value.write, { max: 16 }),
  ];
}

/** Validate createNTM options → the full config (JS names, defaults filled in). */
function configFromOptions(opts) {
  const o = v.options('createNTM options', opts, OPTION_KEYS);
  const P = 'createNTM options';
  const num = (k, dflt, range) => (o[k] === undefined ? dflt : v.number(`${P}.${k}`, o[k], range));
  const [rows, columns] = o.memory === undefined ? [128, 20] : v.shape(`${P}.memory`, o.memory, 2, ['R', 'C']);
  if (rows > 4096) throw new RangeError(`${P}.memory[0] (R) must be an integer in [1, 4096], got ${rows}`);
  if (columns > 1024) throw new RangeError(`${P}.memory[1] (C) must be an integer in [1, 1024], got ${columns}`);
  const shift = o.shift === undefined ? 1 : v.size(`${P}.shift`, o.shift, { min: 0, max: 64 });
  if (2 * shift + 1 > rows) {
    throw new RangeError(`${P}.shift must satisfy 2·shift+1 ≤ R = ${rows} (offsets −shift..shift), got ${shift}`);
  }
  const [readHeads, writeHeads] = heads(o.heads);
  return {
    bits: o.bits === undefined ? 8 : v.size(`${P}.bits`, o.bits, { max: 256 }),
    rows,
    columns,
    controller: o.controller === undefined ? 100 : v.size(`${P}.controller`, o.controller, { max: 4096 }),
    controllerType: v.oneOf(`${P}.controllerType`, o.controllerType, CONTROLLERS, 'lstm'),
    readHeads,
    writeHeads,
    shift,
    seed: o.seed === undefined ? 0 : v.size(`${P}.seed`, o.seed, { min: 0, max: 0xffffffff }),
    learningRate: num('learningRate', 1e-3, { min: 1e-12, max: 10 }),
    clipNorm: num('clipNorm', 10, { min: 0, max: 1e30 }),
    beta1: num('beta1', 0.9, { min: 0, max: 0.9999 }),
    beta2: num('beta2', 0.999, { min: 0, max: 0.999999 }),
    memoryInit: num('memoryInit', 1e-6, { min: -1, max: 1 }),
    learnInit: v.bool(`${P}.learnInit`, o.learnInit, true),
    paramClip: num('paramClip', 20, { min: 0, max: 1e6 }),
  };
}

function configToWords(c) {
  const words = new Uint32Array(NCONFIG);
  WORDS.forEach((w, i) => {
    let x = c[w.key];
    if (w.key === 'controllerType') x = CONTROLLERS.indexOf(x);
    else if (w.key === 'learnInit') x = x ? 1 : 0;
    words[i] = w.float ? toBits(x) : x >>> 0;
  });
  return words;
}

function wordsToConfig(words) {
  const c = {};
  WORDS.forEach((w, i) => {
    // floats shown with the 7 significant digits a float32 holds (0.001, not 0.0010000000474974513)
    c[w.key] = w.float ? Number(fromBits(words[i]).toPrecision(7)) : words[i];
  });
  c.controllerType = CONTROLLERS[c.controllerType];
  c.learnInit = c.learnInit === 1;
  return c;
}

/** A Neural Turing Machine trained on the copy task. Create with g.createNTM(options) or g.loadNTM(bytes). */
export class NTMModel extends WasmModel {
  constructor(core, ptr) {
    super(core, ptr, 'NTM', 'gl_ntm');
    const words = core.scoped((s) => {
      const p = s.zeros(NCONFIG);
      if (core.x.gl_ntm_config(ptr, p, NCONFIG) !== NCONFIG) throw new Error('NTM: configuration size mismatch');
      return new Uint32Array(core.i32.slice(p >> 2, (p >> 2) + NCONFIG).buffer);
    });
    const c = wordsToConfig(words);
    /** Full configuration (the createNTM options with their defaults). */
    this.config = Object.freeze({
      bits: c.bits, memory: [c.rows, c.columns], controller: c.controller, controllerType: c.controllerType,
      heads: { read: c.readHeads, write: c.writeHeads }, shift: c.shift, seed: c.seed,
      learningRate: c.learningRate, clipNorm: c.clipNorm, beta1: c.beta1, beta2: c.beta2,
      memoryInit: c.memoryInit, learnInit: c.learnInit, paramClip: c.paramClip,
    });
    this.bits = c.bits;
    this.memory = [c.rows, c.columns];
    this.R = c.rows;
    this.C = c.columns;
    this.readHeads = c.readHeads;
    this.writeHeads = c.writeHeads;
    this._lr = c.learningRate;
  }

  /** Number of trainable parameters. */
  get parameterCount() {
    return Number(this._core.x.gl_ntm_param_count(this.ptr));
  }

  /** The learning rate of the next steps (settable, e.g. for a schedule; saved with the model). */
  get learningRate() {
    this.ptr;
    return this._lr;
  }
  set learningRate(lr) {
    v.number('learningRate', lr, { min: 1e-12, max: 10 });
    this._core.check(this._core.x.gl_ntm_set_lr(this.ptr, lr), 'NTM learningRate');
    this._lr = Math.fround(lr);
  }

  _lengths(fn, o, dBatch) {
    const batch = o.batch === undefined ? dBatch : v.size(`${fn} batch`, o.batch, { max: 65536 });
    const minLength = o.minLength === undefined ? 1 : v.size(`${fn} minLength`, o.minLength, { max: MAX_LENGTH });
    const maxLength = o.maxLength === undefined ? Math.max(20, minLength) : v.size(`${fn} maxLength`, o.maxLength, { max: MAX_LENGTH });
    if (maxLength < minLength) throw new RangeError(`${fn} maxLength must be ≥ minLength (${minLength}), got ${maxLength}`);
    return { batch, minLength, maxLength };
  }

  /**
   * One optimiser step on `batch` fresh random copy-task sequences (one length for the batch, drawn
   * uniformly from [minLength, maxLength]). loss: binary cross-entropy of the output phase in bits
   * per sequence; bitErrors: wrong output bits per sequence; length: the length drawn; gradNorm:
   * the gradient's L2 norm before clipping. A non-finite loss or gradient throws an Error and
   * leaves the weights unchanged.
   * @returns {{ loss: number, bitErrors: number, length: number, gradNorm: number }}
   */
  trainCopy(options) {
    const ptr = this.ptr;
    const o = v.options('trainCopy options', options, ['batch', 'minLength', 'maxLength']);
    const { batch, minLength, maxLength } = this._lengths('trainCopy', o, 16);
    const core = this._core;
    return core.scoped((s) => {
      const po = s.zeros(4);
      core.check(core.x.gl_ntm_train_copy(ptr, po, batch, minLength, maxLength), 'NTM trainCopy');
      const r = s.get(po, 4);
      return { loss: r[0], bitErrors: r[1], length: r[2], gradNorm: r[3] };
    });
  }

  /**
   * Loss (bits per sequence) and wrong bits per sequence on `count` fresh random sequences drawn
   * from the stream `seed` (independent of training), in batches of `batch`, no update.
   * @returns {{ loss: number, bitErrors: number }}
   */
  evaluateCopy(options) {
    const ptr = this.ptr;
    const o = v.options('evaluateCopy options', options, ['batch', 'minLength', 'maxLength', 'count', 'seed']);
    const { batch, minLength, maxLength } = this._lengths('evaluateCopy', o, 32);
    const count = o.count === undefined ? batch : v.size('evaluateCopy count', o.count, { max: 1 << 24 });
    const seed = o.seed === undefined ? 0 : v.size('evaluateCopy seed', o.seed, { min: 0, max: 0xffffffff });
    const core = this._core;
    return core.scoped((s) => {
      const po = s.zeros(2);
      core.check(core.x.gl_ntm_eval_copy(ptr, po, batch, minLength, maxLength, count, seed), 'NTM evaluateCopy');
      const r = s.get(po, 2);
      return { loss: r[0], bitErrors: r[1] };
    });
  }

  /**
   * Run the copy task on one sequence (length×bits, values in [0, 1]). The model sees the L
   * vectors, the delimiter, then L blank steps: steps = 2·length + 1.
   * output: length×bits probabilities (the output phase); readWeights: steps×R (steps×readHeads×R
   * with several read heads); writeWeights: steps×R (likewise); memory: steps×R×C, the memory after
   * each step. loss (bits) and bitErrors compare the output with the sequence.
   * options.traces = false skips the three trace arrays (null).
   */
  copy(sequence, length, options) {
    const ptr = this.ptr;
    const o = v.options('copy options', options, ['traces']);
    const traces = v.bool('copy options.traces', o.traces, true);
    const L = v.size('length', length, { max: MAX_LENGTH });
    const bits = this.bits;
    v.f32('sequence', sequence, L * bits, `${L}×${bits} (length×bits)`);
    for (let i = 0; i < sequence.length; i++) {
      const x = sequence[i];
      if (!(x >= 0 && x <= 1)) throw new RangeError(`sequence[${i}] must be a number in [0, 1] (a bit), got ${x}`);
    }
    const T = 2 * L + 1;
    const nrw = T * this.readHeads * this.R, nww = T * this.writeHeads * this.R, nm = T * this.R * this.C;
    const core = this._core;
    return core.scoped((s) => {
      const ps = s.put(sequence);
      const pout = s.zeros(L * bits), p2 = s.zeros(2);
      const prw = traces ? s.zeros(nrw) : 0, pww = traces ? s.zeros(nww) : 0, pm = traces ? s.zeros(nm) : 0;
      core.check(core.x.gl_ntm_copy(ptr, pout, prw, pww, pm, p2, ps, L), 'NTM copy');
      const r = s.get(p2, 2);
      return {
        output: s.get(pout, L * bits),
        readWeights: traces ? s.get(prw, nrw) : null,
        writeWeights: traces ? s.get(pww, nww) : null,
        memory: traces ? s.get(pm, nm) : null,
        steps: T,
        loss: r[0],
        bitErrors: r[1],
      };
    });
  }

  // ---- test hooks (not part of the public API) ----

  /** Loss (nats per sequence) and its gradient w.r.t. every parameter on given sequences (B×L×bits). */
  _lossGrad(sequences, B, L) {
    const ptr = this.ptr;
    const core = this._core;
    v.f32('sequences', sequences, B * L * this.bits);
    return core.scoped((s) => {
      const po = s.zeros(2), pn = s.zeros(2);
      core.check(core.x.gl_ntm_loss_grad(ptr, po, s.put(sequences), B, L), 'NTM lossGrad');
      const pg = core.x.gl_ntm_grads(ptr, pn);
      const n = core.i32[pn >> 2];
      return { loss: s.get(po, 1)[0], grad: core.f32.slice(pg >> 2, (pg >> 2) + n) };
    });
  }

  /** A live view of the parameter arena (invalidated by memory growth) and the tensor table. */
  _params() {
    const core = this._core;
    return core.scoped((s) => {
      const pn = s.zeros(2), po = s.zeros(2);
      const pp = core.x.gl_ntm_params(this.ptr, pn);
      const n = core.i32[pn >> 2];
      const tensors = [];
      for (let i = 0; core.x.gl_ntm_tensor(this.ptr, i, po, pn) === 0; i++) {
        tensors.push({ offset: core.i32[po >> 2], length: core.i32[pn >> 2] });
      }
      return { ptr: pp, length: n, tensors };
    });
  }
}

/** g.createNTM and g.loadNTM for one core. */
export function makeNtmModel(core) {
  return {
    /** A new NTM (see NTMOptions in ntm_model.d.ts). */
    createNTM(options) {
      const c = configFromOptions(options);
      const words = configToWords(c);
      const ptr = core.scoped((s) => {
        const pw = s.put(new Int32Array(words.buffer));
        const pout = s.zeros(1);
        core.check(core.x.gl_ntm_create(pout, pw, NCONFIG), 'createNTM options');
        return core.i32[pout >> 2];
      });
      return new NTMModel(core, ptr);
    },
    /** A model from the bytes of model.save(); malformed bytes throw an Error. */
    loadNTM(bytes) {
      return new NTMModel(core, loadModelBytes(core, bytes, 'NTM', 'gl_ntm_load'));
    },
  };
}
