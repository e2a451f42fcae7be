// ntm.js: g.ntm, the Neural Turing Machine memory kernels (Graves et al. 2014, eq. 2-9; exact
// definitions in the shared API and src/ntm.c): content addressing with cosine similarity
// K = M·k / max(‖M_i‖·‖k‖, 1e−8), wc = softmax(β·K), interpolation with the previous weighting,
// circular shift over offsets −n..n, sharpening w = w̃^γ / Σ w̃^γ computed as
// softmax(γ·log(max(w̃, 1e−30))); reading r = Σ_i w(i)·M_i and writing M_i·(1 − w(i)·e) + w(i)·a.
// Each call validates, then runs the C kernels through kernelCall (tensor.js) inside one scoped
// allocation: Float32Arrays are copied in and out, Tensors stay in wasm memory, `{ out }` (the last,
// optional options argument) writes into given Tensors.
import * as v from './validate.js';
import { floats, floatsAnyLength, kernelCall, kernelSpec, lengthOf, valuesOf } from './tensor.js';

const RC_LABELS = ['R', 'C'];
const ADDRESS_KEYS = ['memory', 'key', 'beta', 'gate', 'shift', 'gamma', 'prev'];
const SHIFT_SUM_TOL = 1e-3;
const ADDRESS_INPUTS = ['memory', 'key', 'shift', 'prev'];
const ADDRESS = kernelSpec({ fn: 'address', inputs: ADDRESS_INPUTS, outputs: ['w'] });
const ADDRESS_BACKWARD = kernelSpec({
  fn: 'addressBackward', inputs: [...ADDRESS_INPUTS, 'dW'], outputs: ['dMemory', 'dKey', 'dShift', 'dPrev'],
  pack: (r, sc) => ({ dMemory: r[0], dKey: r[1], dBeta: sc[0], dGate: sc[1], dShift: r[2], dGamma: sc[2], dPrev: r[3] }),
});
const READ = kernelSpec({ fn: 'read', inputs: ['memory', 'w'], outputs: ['r'] });
const WRITE = kernelSpec({ fn: 'write', inputs: ['memory', 'w', 'erase', 'add'], outputs: ['memory'] });

/**
 * @param {import('./core.js').WasmCore} core
 * @param {{ reference?: boolean, testing?: boolean }} [internal] reference: run the scalar _ref
 *   oracles; testing: also return readBackward / writeBackward (which the NTM model uses from C).
 *   Both are for tests only, not part of the public API.
 */
export function makeNtm(core, { reference = false, testing = false } = {}) {
  const x = core.x;
  const pick = (name) => (reference ? x[`${name}_ref`] : x[name]);
  const cAddress = pick('gl_ntm_address_forward');
  const cAddressBackward = pick('gl_ntm_address_backward');
  const cRead = pick('gl_ntm_read_forward');
  const cReadBackward = pick('gl_ntm_read_backward');
  const cWrite = pick('gl_ntm_write_forward');
  const cWriteBackward = pick('gl_ntm_write_backward');

  function dims(size) {
    const [R, C] = v.shape('size', size, 2, RC_LABELS);
    const RCn = v.count('memory', R, C);
    return { R, C, RC: RCn };
  }

  // A weighting whose entries are all finite and >= 0 (read at once: a Tensor's values are a view).
  function weights(name, arr) {
    const a = valuesOf(core, arr);
    for (let i = 0; i < a.length; i++) {
      if (!(Number.isFinite(a[i]) && a[i] >= 0)) {
        throw new RangeError(`${name}[${i}] must be a finite number >= 0, got ${a[i]}`);
      }
    }
  }
  const outOpt = (fnName, opts) => v.options(`${fnName} options`, opts, ['out']).out;

  function addressArgs(fnName, params, d) {
    if (params === null || typeof params !== 'object' || Array.isArray(params) || ArrayBuffer.isView(params)) {
      throw new TypeError(`${fnName}: params must be an object { ${ADDRESS_KEYS.join(', ')} }, got ${params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params}`);
    }
    v.options(`${fnName} params`, params, ADDRESS_KEYS);
    const { R, C } = d;
    const memory = floats(core, 'memory', params.memory, [R, C], `${R}×${C}`);
    const key = floats(core, 'key', params.key, [C], `${C}`);
    const beta = v.number('beta', params.beta, { min: 0 });
    const gate = v.number('gate', params.gate, { min: 0, max: 1 });
    const gamma = v.number('gamma', params.gamma, { min: 1 });
    const shift = floatsAnyLength(core, 'shift', params.shift);
    const S = lengthOf(shift);
    if (S % 2 !== 1) {
      throw new RangeError(`shift must have odd length 2n+1 (weights for offsets −n..n), got ${S}`);
    }
    weights('shift', shift);
    let sum = 0;
    const sv = valuesOf(core, shift);
    for (let i = 0; i < S; i++) sum += sv[i];
    if (!(Math.abs(sum - 1) <= SHIFT_SUM_TOL)) {
      throw new RangeError(`shift must sum to 1 (within ${SHIFT_SUM_TOL}), got a sum of ${sum}`);
    }
    const prev = floats(core, 'prev', params.prev, [R], `${R}`);
    weights('prev', prev);
    return { memory, key, beta, gate, gamma, shift, S, prev };
  }

  // The tensor inputs of address, in the order addressPointers() reads their pointers.
  const addressInputs = (a) => [a.memory, a.key, a.shift, a.prev];
  // The three scalars share one allocation.
  function addressPointers(s, a, [pM, pk, ps, pp]) {
    const pb = s.put(Float32Array.of(a.beta, a.gate, a.gamma));
    return { pM, pk, pb, pg: pb + 4, pgam: pb + 8, ps, pp };
  }

  const ns = {
    /** { memory R×C, key C, beta ≥ 0, gate ∈ [0,1], shift 2n+1, gamma ≥ 1, prev R } → w (R) (eq. 5-9) */
    address(params, size, opts) {
      const d = dims(size);
      const out = outOpt('address', opts);
      const a = addressArgs('address', params, d);
      return kernelCall(core, ADDRESS, addressInputs(a), [[d.R]], out, (s, pIn, [pw]) => {
        const p = addressPointers(s, a, pIn);
        core.check(cAddress(pw, 0, p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S), 'address');
      });
    },

    /** dW (R) → { dMemory R×C, dKey C, dBeta, dGate, dShift 2n+1, dGamma, dPrev R } */
    addressBackward(dW, params, size, opts) {
      const d = dims(size);
      const out = outOpt('addressBackward', opts);
      const dw = floats(core, 'dW', dW, [d.R], `${d.R}`);
      const a = addressArgs('addressBackward', params, d);
      return kernelCall(core, ADDRESS_BACKWARD, [...addressInputs(a), dw], [[d.R, d.C], [d.C], [a.S], [d.R]], out, (s, pIn, [pdM, pdk, pds, pdp]) => {
        const p = addressPointers(s, a, pIn);
        const pw = s.zeros(d.R);
        const pc = s.zeros(x.gl_ntm_cache_floats(d.R));
        core.check(cAddress(pw, pc, p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S), 'addressBackward');
        const pdScalars = s.zeros(3); // dBeta, dGate, dGamma
        core.check(
          cAddressBackward(pdM, pdk, pdScalars, pdScalars + 4, pds, pdScalars + 8, pdp, pIn[4], pc,
            p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S),
          'addressBackward',
        );
        return s.get(pdScalars, 3); // dBeta, dGate, dGamma: numbers in the result
      });
    },

    /** memory (R×C), w (R) → r = Σ_i w(i)·M_i (C) (eq. 2) */
    read(memory, w, size, opts) {
      const d = dims(size);
      const out = outOpt('read', opts);
      const m = floats(core, 'memory', memory, [d.R, d.C], `${d.R}×${d.C}`);
      const ww = floats(core, 'w', w, [d.R], `${d.R}`);
      return kernelCall(core, READ, [m, ww], [[d.C]], out, (s, [pM, pw], [pr]) => {
        core.check(cRead(pr, pM, pw, 1, 1, d.R, d.C), 'read');
      });
    },

    /** memory (R×C), w (R), erase (C), add (C) → M_i·(1 − w(i)·e) + w(i)·a (R×C) (eq. 3-4) */
    write(memory, w, erase, add, size, opts) {
      const d = dims(size);
      const out = outOpt('write', opts);
      const m = floats(core, 'memory', memory, [d.R, d.C], `${d.R}×${d.C}`);
      const ww = floats(core, 'w', w, [d.R], `${d.R}`);
      const e = floats(core, 'erase', erase, [d.C], `${d.C}`);
      const ad = floats(core, 'add', add, [d.C], `${d.C}`);
      return kernelCall(core, WRITE, [m, ww, e, ad], [[d.R, d.C]], out, (s, [pM, pw, pe, pa], [po]) => {
        core.check(cWrite(po, pM, pw, pe, pa, 1, d.R, d.C), 'write');
      });
    },
  };

  if (testing) {
    /** dR (C) → { dMemory R×C, dW R } */
    ns.readBackward = (dR, memory, w, size) => {
      const d = dims(size);
      v.f32('dR', dR, d.C);
      v.f32('memory', memory, d.RC);
      v.f32('w', w, d.R);
      return core.scoped((s) => {
        const pdM = s.zeros(d.RC);
        const pdw = s.zeros(d.R);
        core.check(cReadBackward(pdM, pdw, s.put(dR), s.put(memory), s.put(w), 1, 1, d.R, d.C), 'readBackward');
        return { dMemory: s.get(pdM, d.RC), dW: s.get(pdw, d.R) };
      });
    };
    /** dOut (R×C) → { dMemory R×C, dW R, dErase C, dAdd C } */
    ns.writeBackward = (dOut, memory, w, erase, add, size) => {
      const d = dims(size);
      v.f32('dOut', dOut, d.RC);
      v.f32('memory', memory, d.RC);
      v.f32('w', w, d.R);
      v.f32('erase', erase, d.C);
      v.f32('add', add, d.C);
      return core.scoped((s) => {
        const pdM = s.zeros(d.RC);
        const pdw = s.zeros(d.R);
        const pde = s.zeros(d.C);
        const pda = s.zeros(d.C);
        core.check(
          cWriteBackward(pdM, pdw, pde, pda, s.put(dOut), s.put(memory), s.put(w), s.put(erase), s.put(add), 1, d.R, d.C),
          'writeBackward',
        );
        return { dMemory: s.get(pdM, d.RC), dW: s.get(pdw, d.R), dErase: s.get(pde, d.C), dAdd: s.get(pda, d.C) };
      });
    };
  }
  return ns;
}
