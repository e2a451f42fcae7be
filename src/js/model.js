// model.js: what every model object shares: it owns a pointer to a C model in wasm memory,
// free() is idempotent, any call after free() throws, and save() returns the bytes of the
// versioned weights format (src/weights.h).
import * as v from './validate.js';

export class WasmModel {
  /**
   * @param {import('./core.js').WasmCore} core
   * @param {number} ptr the C model
   * @param {string} name e.g. 'STN', used in messages
   * @param {string} prefix C symbol prefix, e.g. 'gl_stn' (needs <prefix>_free, <prefix>_save_size, <prefix>_save)
   */
  constructor(core, ptr, name, prefix) {
    this._core = core;
    this._ptr = ptr;
    this._name = name;
    this._prefix = prefix;
  }

  /** The C pointer; throws after free(). */
  get ptr() {
    if (!this._ptr) throw new Error(`${this._name} model was freed; create or load a new one`);
    return this._ptr;
  }

  get freed() {
    return !this._ptr;
  }

  /** Serialise the weights and configuration (Uint8Array, see src/weights.h). */
  save(options) {
    const ptr = this.ptr;
    const x = this._core.x;
    const o = v.options(`${this._name}.save options`, options, ['float16']);
    const f16 = v.bool(`${this._name}.save options.float16`, o.float16, false) ? 1 : 0;
    const n = x[`${this._prefix}_save_size`](ptr, f16);
    return this._core.scoped((s) => {
      const p = s.putBytes(new Uint8Array(n));
      this._core.check(x[`${this._prefix}_save`](ptr, p, n, f16), `${this._name}.save`);
      return this._core.u8.slice(p, p + n);
    });
  }

  /** Release the wasm memory of this model. Idempotent. */
  free() {
    if (this._ptr) {
      this._core.x[`${this._prefix}_free`](this._ptr);
      this._ptr = 0;
    }
  }

  [Symbol.dispose]() {
    this.free();
  }
}

/** Validate save bytes at the JS boundary, copy them in, call the C loader; returns the pointer. */
export function loadModelBytes(core, bytes, name, cLoad) {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`load${name}: bytes must be a Uint8Array (from ${name.toLowerCase()}.save()), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  return core.scoped((s) => {
    const pb = s.putBytes(bytes);
    const pout = s.zeros(1);
    const rc = core.x[cLoad](pout, pb, bytes.length);
    if (rc !== 0) {
      // Malformed bytes are an Error (not a RangeError): the message says which check failed.
      throw new Error(`load${name}: ${core.cstring(core.x.gl_last_error())}`);
    }
    return core.i32[pout >> 2];
  });
}
