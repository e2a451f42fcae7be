// ntm_model.js: g.createNTM / g.loadNTM, the Neural Turing Machine (Graves et al. 2014) trained on
// the copy task in the C core (src/ntm_model.c): an LSTM (or feed-forward) controller, read and
// write heads with the paper's addressing (g.ntm kernels), memory initialised to a small
// constant (Collier & Beel 2018), BPTT, Adam and gradient clipping, all in C. Its options,
// defaults and ranges are the C schema (ntm_fields in src/ntm_model.c); the lifecycle (config,
// learningRate, save, free) is the shared model base (model.js).
import * as v from './validate.js';
import { KIND, WasmModel, defineModel } from './model.js';

const MAX_LENGTH = 10000; // as src/ntm_model.c

/** heads: n is shorthand for { read: n, write: n }. */
function normalize(options) {
  if (options === null || typeof options !== 'object' || typeof options.heads !== 'number') return options;
  const h = v.size('createNTM options.heads', options.heads, { max: 16 });
  return { ...options, heads: { read: h, write: h } };
}

/** A Neural Turing Machine trained on the copy task. Create with g.createNTM(options) or g.loadNTM(bytes). */
export class NTMModel extends WasmModel {
  static kind = KIND.NTM;
  static label = 'NTM';
  static properties = (c) => ({ bits: c.bits, memory: c.memory, R: c.memory[0], C: c.memory[1], readHeads: c.heads.read, writeHeads: c.heads.write });

  _trainOn(options) {
    const result = this.trainCopy(options);
    return { result, count: options?.batch ?? 16 };
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
