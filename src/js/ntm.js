// ntm.js: g.ntm, the Neural Turing Machine memory kernels (Graves et al. 2014, eq. 2-9; exact
// definitions in the shared API and src/ntm.c): content addressing with cosine similarity
// K = M·k / max(‖M_i‖·‖k‖, 1e−8), wc = softmax(β·K), interpolation with the previous weighting,
// circular shift over offsets −n..n, sharpening w = w̃^γ / Σ w̃^γ computed as
// softmax(γ·log(max(w̃, 1e−30))); reading r = Σ_i w(i)·M_i and writing M_i·(1 − w(i)·e) + w(i)·a.
// Each call validates, copies in, runs the C kernels inside one scoped allocation, copies out.
import * as v from './validate.js';

const RC_LABELS = ['R', 'C'];
const ADDRESS_KEYS = ['memory', 'key', 'beta', 'gate', 'shift', 'gamma', 'prev'];
const SHIFT_SUM_TOL = 1e-3;

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

  // A Float32Array whose entries are all finite and >= 0 (a weighting).
  function weights(name, a) {
    for (let i = 0; i < a.length; i++) {
      if (!(Number.isFinite(a[i]) && a[i] >= 0)) {
        throw new RangeError(`${name}[${i}] must be a finite number >= 0, got ${a[i]}`);
      }
    }
  }

  function addressArgs(fnName, params, d) {
    if (params === null || typeof params !== 'object' || Array.isArray(params) || ArrayBuffer.isView(params)) {
      throw new TypeError(`${fnName}: params must be an object { ${ADDRESS_KEYS.join(', ')} }, got ${params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params}`);
    }
    v.options(`${fnName} params`, params, ADDRESS_KEYS);
    const { R, C } = d;
    const memory = v.f32('memory', params.memory, d.RC, `${R}×${C}`);
    const key = v.f32('key', params.key, C, `${C}`);
    const beta = v.number('beta', params.beta, { min: 0 });
    const gate = v.number('gate', params.gate, { min: 0, max: 1 });
    const gamma = v.number('gamma', params.gamma, { min: 1 });
    const shift = v.f32('shift', params.shift);
    const S = shift.length;
    if (S % 2 !== 1) {
      throw new RangeError(`shift must have odd length 2n+1 (weights for offsets −n..n), got ${S}`);
    }
    weights('shift', shift);
    let sum = 0;
    for (let i = 0; i < S; i++) sum += shift[i];
    if (!(Math.abs(sum - 1) <= SHIFT_SUM_TOL)) {
      throw new RangeError(`shift must sum to 1 (within ${SHIFT_SUM_TOL}), got a sum of ${sum}`);
    }
    const prev = v.f32('prev', params.prev, R, `${R}`);
    weights('prev', prev);
    return { memory, key, beta, gate, gamma, shift, S, prev };
  }

  // Copy the address inputs into wasm memory; the three scalars share one allocation.
  function putAddress(s, a) {
    const ps = s.put(Float32Array.of(a.beta, a.gate, a.gamma));
    return { pM: s.put(a.memory), pk: s.put(a.key), pb: ps, pg: ps + 4, pgam: ps + 8, ps: s.put(a.shift), pp: s.put(a.prev) };
  }

  const ns = {
    /** { memory R×C, key C, beta ≥ 0, gate ∈ [0,1], shift 2n+1, gamma ≥ 1, prev R } → w (R) (eq. 5-9) */
    address(params, size) {
      const d = dims(size);
      const a = addressArgs('address', params, d);
      return core.scoped((s) => {
        const p = putAddress(s, a);
        const pw = s.zeros(d.R);
        core.check(cAddress(pw, 0, p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S), 'address');
        return s.get(pw, d.R);
      });
    },

    /** dW (R) → { dMemory R×C, dKey C, dBeta, dGate, dShift 2n+1, dGamma, dPrev R } */
    addressBackward(dW, params, size) {
      const d = dims(size);
      v.f32('dW', dW, d.R, `${d.R}`);
      const a = addressArgs('addressBackward', params, d);
      return core.scoped((s) => {
        const p = putAddress(s, a);
        const pw = s.zeros(d.R);
        const pc = s.zeros(x.gl_ntm_cache_floats(d.R));
        core.check(cAddress(pw, pc, p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S), 'addressBackward');
        const pdM = s.zeros(d.RC);
        const pdk = s.zeros(d.C);
        const pdScalars = s.zeros(3); // dBeta, dGate, dGamma
        const pds = s.zeros(a.S);
        const pdp = s.zeros(d.R);
        core.check(
          cAddressBackward(pdM, pdk, pdScalars, pdScalars + 4, pds, pdScalars + 8, pdp, s.put(dW), pc,
            p.pM, p.pk, p.pb, p.pg, p.ps, p.pgam, p.pp, 1, 1, d.R, d.C, a.S),
          'addressBackward',
        );
        const sc = s.get(pdScalars, 3);
        return {
          dMemory: s.get(pdM, d.RC),
          dKey: s.get(pdk, d.C),
          dBeta: sc[0],
          dGate: sc[1],
          dShift: s.get(pds, a.S),
          dGamma: sc[2],
          dPrev: s.get(pdp, d.R),
        };
      });
    },

    /** memory (R×C), w (R) → r = Σ_i w(i)·M_i (C) (eq. 2) */
    read(memory, w, size) {
      const d = dims(size);
      v.f32('memory', memory, d.RC, `${d.R}×${d.C}`);
      v.f32('w', w, d.R, `${d.R}`);
      return core.scoped((s) => {
        const pr = s.zeros(d.C);
        core.check(cRead(pr, s.put(memory), s.put(w), 1, 1, d.R, d.C), 'read');
        return s.get(pr, d.C);
      });
    },

    /** memory (R×C), w (R), erase (C), add (C) → M_i·(1 − w(i)·e) + w(i)·a (R×C) (eq. 3-4) */
    write(memory, w, erase, add, size) {
      const d = dims(size);
      v.f32('memory', memory, d.RC, `${d.R}×${d.C}`);
      v.f32('w', w, d.R, `${d.R}`);
      v.f32('erase', erase, d.C, `${d.C}`);
      v.f32('add', add, d.C, `${d.C}`);
      return core.scoped((s) => {
        const po = s.zeros(d.RC);
        core.check(cWrite(po, s.put(memory), s.put(w), s.put(erase), s.put(add), 1, d.R, d.C), 'write');
        return s.get(po, d.RC);
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
