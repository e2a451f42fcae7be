// ntm_model.js: g.createNTM / g.loadNTM, the Neural Turing Machine (Graves et al. 2014) trained on
// the tasks of the paper's sec. 4 (copy, repeat copy, associative recall, priority sort, dynamic
// N-grams) in the C core (src/ntm_model.c, the examples from src/ntm_tasks.c): an LSTM (or
// feed-forward) controller, read and write heads with the paper's addressing (g.ntm kernels),
// memory initialised to a small constant (Collier & Beel 2018), BPTT, Adam and gradient clipping,
// all in C; architecture 'lstm' is the paper's LSTM baseline (no memory). Its options, defaults and
// ranges are the C schema (ntm_fields in src/ntm_model.c); the lifecycle (config, learningRate,
// save, free) is the shared model base (model.js).
import * as v from './validate.js';
import { KIND, WasmModel, defineModel } from './model.js';

const MAX_LENGTH = 10000; // as src/ntm_model.c
const MAX_STEPS = 20001; // GL_TASK_MAX_STEPS of src/ntm_tasks.h

/**
 * The task options of each task (the sizes its examples are drawn from) with the paper's training
 * settings as defaults, and the sizes an example reports. C order of the options (gl_task_opts):
 * minLength, maxLength, minRepeats, maxRepeats, minItems, maxItems, itemLength, length, outputLength.
 */
export const TASKS = Object.freeze({
  copy: { options: ['minLength', 'maxLength'], sizes: ['length'], drawn: ['length'] },
  'repeat-copy': { options: ['minLength', 'maxLength', 'minRepeats', 'maxRepeats'], sizes: ['length', 'repeats'], drawn: ['length', 'repeats'] },
  recall: { options: ['minItems', 'maxItems', 'itemLength'], sizes: ['items', 'itemLength'], drawn: ['items'] },
  sort: { options: ['length', 'outputLength'], sizes: ['length', 'outputLength'], drawn: [] },
  ngrams: { options: ['length'], sizes: ['length'], drawn: [] },
});
const SIZE_AT = { length: 3, repeats: 4, items: 5, itemLength: 6, outputLength: 7 }; // in the C info array
const EXAMPLE_KEYS = ['input', 'target', 'mask', 'steps', 'inputWidth', 'outputWidth', 'sizes', 'query', 'bayes', 'bayesLoss', 'task'];

/** heads: n is shorthand for { read: n, write: n }. */
function normalize(options) {
  if (options === null || typeof options !== 'object' || typeof options.heads !== 'number') return options;
  const h = v.size('createNTM options.heads', options.heads, { max: 16 });
  return { ...options, heads: { read: h, write: h } };
}

/** A Neural Turing Machine trained on one task of the paper. Create with g.createNTM(options) or g.loadNTM(bytes). */
export class NTMModel extends WasmModel {
  static kind = KIND.NTM;
  static label = 'NTM';
  static properties = (c) => {
    const mem = c.architecture === 'ntm';
    const [inputWidth, outputWidth] = c.task === 'ngrams' ? [1, 1] : c.task === 'copy' ? [c.bits + 1, c.bits] : [c.bits + 2, c.task === 'repeat-copy' ? c.bits + 1 : c.bits];
    return {
      task: c.task, architecture: c.architecture, bits: c.bits, memory: c.memory, R: c.memory[0], C: c.memory[1],
      readHeads: mem ? c.heads.read : 0, writeHeads: mem ? c.heads.write : 0, inputWidth, outputWidth,
    };
  };

  _trainOn(options) {
    const result = this.task === 'copy' ? this.trainCopy(options) : this.trainTask(options);
    return { result, count: options?.batch ?? 16 };
  }

  /**
   * The task options of `fn` (o: the caller's object, already checked for unknown keys) with the
   * paper's defaults, as the Int32Array the C entry points take, and the plain object.
   */
  _taskOptions(fn, o) {
    const get = (k, dflt, { min = 1, max = MAX_LENGTH } = {}) => (o[k] === undefined ? dflt : v.size(`${fn} ${k}`, o[k], { min, max }));
    const ordered = (lo, hi) => {
      if (hi.v < lo.v) throw new RangeError(`${fn} ${hi.k} must be ≥ ${lo.k} (${lo.v}), got ${hi.v}`);
    };
    const w = { minLength: 1, maxLength: 20, minRepeats: 1, maxRepeats: 10, minItems: 2, maxItems: 6, itemLength: 3, length: 20, outputLength: 16 };
    switch (this.task) {
      case 'copy':
      case 'repeat-copy': {
        const rc = this.task === 'repeat-copy';
        w.minLength = get('minLength', 1);
        w.maxLength = get('maxLength', Math.max(rc ? 10 : 20, w.minLength));
        ordered({ k: 'minLength', v: w.minLength }, { k: 'maxLength', v: w.maxLength });
        if (rc) {
          w.minRepeats = get('minRepeats', 1);
          w.maxRepeats = get('maxRepeats', Math.max(10, w.minRepeats));
          ordered({ k: 'minRepeats', v: w.minRepeats }, { k: 'maxRepeats', v: w.maxRepeats });
        }
        break;
      }
      case 'recall':
        w.minItems = get('minItems', 2, { min: 2 });
        w.maxItems = get('maxItems', Math.max(6, w.minItems), { min: 2 });
        ordered({ k: 'minItems', v: w.minItems }, { k: 'maxItems', v: w.maxItems });
        w.itemLength = get('itemLength', 3);
        break;
      case 'sort':
        w.length = get('length', 20);
        w.outputLength = get('outputLength', Math.min(16, w.length));
        if (w.outputLength > w.length) throw new RangeError(`${fn} outputLength must be ≤ length (${w.length}), got ${w.outputLength}`);
        break;
      default: // ngrams
        w.length = get('length', 200, { min: 2, max: MAX_STEPS });
    }
    const words = Int32Array.of(w.minLength, w.maxLength, w.minRepeats, w.maxRepeats, w.minItems, w.maxItems, w.itemLength, w.length, w.outputLength);
    const plain = Object.fromEntries(TASKS[this.task].options.map((k) => [k, w[k]]));
    return { words, plain };
  }

  /** The sizes of the C info array (9 ints) that the task has. */
  _sizes(info, keys = TASKS[this.task].sizes) {
    return Object.fromEntries(keys.map((k) => [k, info[SIZE_AT[k]]]));
  }

  /**
   * One optimiser step on `batch` fresh random examples of the model's task (one draw of the sizes
   * for the batch from the task options: copy minLength/maxLength; repeat-copy also
   * minRepeats/maxRepeats; recall minItems/maxItems/itemLength; sort length/outputLength; ngrams
   * length; defaults the paper's training settings). loss: binary cross-entropy of the output
   * phase in bits per sequence; bitErrors: wrong output bits per sequence; wrongSequences: the
   * fraction of the batch with any wrong bit; gradNorm: the gradient's L2 norm before clipping;
   * steps and the sizes drawn (copy: length; repeat-copy: length, repeats; recall: items). A
   * non-finite loss or gradient throws an Error and leaves the weights unchanged. For a copy model
   * the same step as trainCopy with the same options.
   */
  trainTask(options) {
    const ptr = this.ptr;
    const o = v.options('trainTask options', options, ['batch', ...TASKS[this.task].options]);
    const batch = o.batch === undefined ? 16 : v.size('trainTask batch', o.batch, { max: 65536 });
    const { words } = this._taskOptions('trainTask', o);
    const core = this._core;
    return core.scoped((s) => {
      const po = s.zeros(10), pw = s.put(words);
      core.check(core.x.gl_ntm_train_task(ptr, po, batch, pw), 'NTM trainTask');
      const r = s.get(po, 10);
      const info = Int32Array.from([0, 0, 0, ...r.subarray(5, 10)]);
      return { loss: r[0], bitErrors: r[1], wrongSequences: r[4], gradNorm: r[2], steps: r[3], ...this._sizes(info, TASKS[this.task].drawn) };
    });
  }

  /**
   * Loss and wrong bits on `count` fresh random examples of the model's task drawn from the stream
   * `seed` (independent of training), in batches of `batch` (each batch draws its sizes from the
   * task options, as trainTask), no update. bitErrorsPerSequence: wrong output bits per sequence
   * (recall: per query); wrongSequences: the fraction of sequences with any wrong bit; loss: bits
   * per sequence; for ngrams also bayesLoss, the Bayes-optimal predictor's bits per sequence on
   * the same sequences (the paper's eq. for (N1 + 1/2) / (N0 + N1 + 1)). warning: '' unless a copy
   * or repeat-copy sequence can be longer than the memory's rows R.
   */
  evaluateTask(options) {
    const ptr = this.ptr;
    const o = v.options('evaluateTask options', options, ['batch', 'count', 'seed', ...TASKS[this.task].options]);
    const batch = o.batch === undefined ? 32 : v.size('evaluateTask batch', o.batch, { max: 65536 });
    const count = o.count === undefined ? batch : v.size('evaluateTask count', o.count, { max: 1 << 24 });
    const seed = o.seed === undefined ? 0 : v.size('evaluateTask seed', o.seed, { min: 0, max: 0xffffffff });
    const { words, plain } = this._taskOptions('evaluateTask', o);
    const core = this._core;
    return core.scoped((s) => {
      const po = s.zeros(4), pw = s.put(words);
      core.check(core.x.gl_ntm_eval_task(ptr, po, batch, pw, count, seed), 'NTM evaluateTask');
      const r = s.get(po, 4);
      const out = { loss: r[0], bitErrorsPerSequence: r[1], wrongSequences: r[2], count };
      if (this.task === 'ngrams') out.bayesLoss = r[3];
      out.warning = this.task === 'copy' || this.task === 'repeat-copy' ? this._lengthWarning(plain.maxLength) : '';
      return out;
    });
  }

  /**
   * One example of the model's task, from the stream `seed` (the first example evaluateTask({ seed })
   * sees), its sizes drawn from the task options (give min = max for an exact size): input
   * (steps×inputWidth), target (steps×outputWidth, zero outside the output phase), mask (steps: 1
   * in the output phase), steps, sizes (copy: length; repeat-copy: length, repeats; recall: items,
   * itemLength, and query, the index of the queried item; sort: length, outputLength; ngrams:
   * length), and for ngrams bayes (steps: the Bayes-optimal probability that each step's target
   * bit is 1) and bayesLoss (that predictor's bits on this sequence). Edit input within the task's
   * rules and give it to runTask: the target follows from the input.
   */
  taskExample(options) {
    const ptr = this.ptr;
    const o = v.options('taskExample options', options, ['seed', ...TASKS[this.task].options]);
    const seed = o.seed === undefined ? 0 : v.size('taskExample seed', o.seed, { min: 0, max: 0xffffffff });
    const { words } = this._taskOptions('taskExample', o);
    const core = this._core;
    return core.scoped((s) => {
      const pw = s.put(words), pi = s.zeros(9);
      core.check(core.x.gl_ntm_task_example(ptr, pw, seed, pi, 0, 0, 0, 0, 0), 'NTM taskExample');
      const T = core.i32[pi >> 2];
      const px = s.zeros(T * this.inputWidth), py = s.zeros(T * this.outputWidth), pm = s.zeros(T), pb = s.zeros(T), pbb = s.zeros(1);
      core.check(core.x.gl_ntm_task_example(ptr, pw, seed, pi, px, py, pm, pb, pbb), 'NTM taskExample');
      return this._example(s, T, px, py, pm, pb, pbb, core.i32.slice(pi >> 2, (pi >> 2) + 9));
    });
  }

  _example(s, T, px, py, pm, pb, pbb, info) {
    const ex = {
      task: this.task, input: s.get(px, T * this.inputWidth), target: s.get(py, T * this.outputWidth), mask: s.get(pm, T),
      steps: T, inputWidth: this.inputWidth, outputWidth: this.outputWidth, sizes: this._sizes(info),
    };
    if (this.task === 'recall') ex.query = info[8];
    if (this.task === 'ngrams') {
      ex.bayes = s.get(pb, T);
      ex.bayesLoss = s.get(pbb, 1)[0];
    }
    return ex;
  }

  /**
   * Run the model on one example: an object with `input` (steps×inputWidth, e.g. a taskExample,
   * edited or not: its target and mask always follow from the input by the task's rules, and an
   * input that breaks them is a RangeError naming the step), or the options of taskExample to run
   * a fresh one. Returns the example's input, target, mask, steps and sizes, and output
   * (steps×outputWidth probabilities at every step), readWeights (steps×readHeads×R), writeWeights
   * (steps×writeHeads×R), memory (steps×R×C; the three null for architecture 'lstm' or with
   * traces: false), loss (bits over the output phase), bitErrors, correct (no wrong bit), for ngrams
   * bayesLoss, and warning ('' unless a copy / repeat-copy sequence is longer than R).
   */
  runTask(example, options) {
    const ptr = this.ptr;
    const oo = v.options('runTask options', options, ['traces']);
    const traces = v.bool('runTask options.traces', oo.traces, true);
    if (example === null || typeof example !== 'object' || Array.isArray(example) || ArrayBuffer.isView(example)) {
      throw new TypeError(`runTask example must be an object (a taskExample, or the options of one), got ${example === null ? 'null' : Array.isArray(example) ? 'an array' : ArrayBuffer.isView(example) ? `a ${example.constructor.name}` : typeof example}`);
    }
    if (!('input' in example)) return this.runTask(this.taskExample(example), options);
    v.options('runTask example', example, EXAMPLE_KEYS);
    const Ix = this.inputWidth, Y = this.outputWidth;
    const input = example.input;
    v.f32('runTask example.input', input, undefined, `steps×${Ix}`);
    const T = input.length / Ix;
    if (!Number.isInteger(T) || T < 1 || T > MAX_STEPS) {
      throw new RangeError(`runTask example.input must hold steps×${Ix} floats (1 ≤ steps ≤ ${MAX_STEPS}), got length ${input.length}`);
    }
    for (let i = 0; i < input.length; i++) {
      if (!Number.isFinite(input[i])) throw new RangeError(`runTask example.input[${i}] must be a finite number, got ${input[i]}`);
    }
    const hasMem = this.architecture === 'ntm' && traces;
    const nrw = T * this.readHeads * this.R, nww = T * this.writeHeads * this.R, nm = T * this.R * this.C;
    const core = this._core;
    return core.scoped((s) => {
      const px = s.put(input), py = s.zeros(T * Y), pm = s.zeros(T), pi = s.zeros(9), pb = s.zeros(T), pbb = s.zeros(1);
      core.check(core.x.gl_ntm_task_target(ptr, px, T, py, pm, pi, pb, pbb), 'NTM runTask example.input');
      const ex = this._example(s, T, px, py, pm, pb, pbb, core.i32.slice(pi >> 2, (pi >> 2) + 9));
      const pout = s.zeros(T * Y), p4 = s.zeros(4);
      const prw = hasMem ? s.zeros(nrw) : 0, pww = hasMem ? s.zeros(nww) : 0, pmem = hasMem ? s.zeros(nm) : 0;
      core.check(core.x.gl_ntm_run_task(ptr, pout, prw, pww, pmem, p4, px, py, pm, T), 'NTM runTask');
      const r = s.get(p4, 4);
      const out = {
        ...ex,
        output: s.get(pout, T * Y),
        readWeights: hasMem ? s.get(prw, nrw) : null,
        writeWeights: hasMem ? s.get(pww, nww) : null,
        memory: hasMem ? s.get(pmem, nm) : null,
        loss: r[0],
        bitErrors: r[1],
        correct: r[2] === 0,
      };
      if (this.task === 'ngrams') out.bayesLoss = r[3];
      out.warning = this.task === 'copy' || this.task === 'repeat-copy' ? this._lengthWarning(ex.sizes.length) : '';
      return out;
    });
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
   * warning: '' unless maxLength exceeds the memory's rows R.
   * @returns {{ loss: number, bitErrors: number, warning: string }}
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
      return { loss: r[0], bitErrors: r[1], warning: this._lengthWarning(maxLength) };
    });
  }

  /** '' when sequences of `length` vectors fit the memory's rows, else a sentence saying why the copy must fail. */
  _lengthWarning(length) {
    if (length <= this.R) return '';
    return `length ${length} is longer than the memory's ${this.R} rows: the NTM writes one vector per row, so it overwrites earlier vectors and cannot copy the whole sequence (results are computed anyway)`;
  }

  /**
   * Run the copy task on one sequence (length×bits, values in [0, 1]). The model sees the L
   * vectors, the delimiter, then L blank steps: steps = 2·length + 1.
   * output: length×bits probabilities (the output phase); readWeights: steps×R (steps×readHeads×R
   * with several read heads); writeWeights: steps×R (likewise); memory: steps×R×C, the memory after
   * each step. loss (bits) and bitErrors compare the output with the sequence. warning: '' unless
   * length exceeds the memory's rows R (the sequence cannot fit; the run still happens).
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
        warning: this._lengthWarning(L),
      };
    });
  }

  // ---- test hooks (not part of the public API) ----

  /** Loss (nats per sequence) and gradient on given examples x (B×T×inputWidth), y (B×T×outputWidth), mask (T). */
  _taskLossGrad(x, y, mask, B, T) {
    const ptr = this.ptr;
    const core = this._core;
    v.f32('x', x, B * T * this.inputWidth);
    v.f32('y', y, B * T * this.outputWidth);
    v.f32('mask', mask, T);
    return core.scoped((s) => {
      const po = s.zeros(2);
      core.check(core.x.gl_ntm_task_loss_grad(ptr, po, s.put(x), s.put(y), s.put(mask), B, T), 'NTM taskLossGrad');
      return { loss: s.get(po, 1)[0], grad: this._grads() };
    });
  }

  /** Loss (nats per sequence) and its gradient w.r.t. every parameter on given sequences (B×L×bits). */
  _lossGrad(sequences, B, L) {
    const ptr = this.ptr;
    const core = this._core;
    v.f32('sequences', sequences, B * L * this.bits);
    return core.scoped((s) => {
      const po = s.zeros(2);
      core.check(core.x.gl_ntm_loss_grad(ptr, po, s.put(sequences), B, L), 'NTM lossGrad');
      return { loss: s.get(po, 1)[0], grad: this._grads() };
    });
  }
}

/** g.createNTM and g.loadNTM for one core (and the schema they follow). */
export function makeNtmModel(core) {
  return defineModel(core, NTMModel, { normalize });
}
