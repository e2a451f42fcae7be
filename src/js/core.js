// core.js: one instantiated wasm module and the few operations every namespace needs:
// copying Float32Arrays in and out, scoped allocations that are always freed, and turning a
// C status code into a thrown Error that carries the C message.

const GL_EINVAL = 1;
const GL_ENOMEM = 2;
const GL_EFORMAT = 3;
const GL_ENUMERIC = 4;
const GL_ESTATE = 5;

export class WasmCore {
  /**
   * @param {WebAssembly.Instance} instance
   * @param {WebAssembly.Memory} [memory] the imported (shared) memory of the threaded build
   */
  constructor(instance, memory) {
    const raw = instance.exports;
    /** The unwrapped exports, for closing an instance that refuses calls. */
    this.raw = raw;
    /** Why this instance refuses every call (closed, or a worker thread failed), or null. */
    this.dead = null;
    // One thin wrapper per exported function, made once: every call into the core first checks
    // that the instance is still usable.
    this.x = {};
    for (const [name, f] of Object.entries(raw)) {
      this.x[name] = typeof f !== 'function' ? f : (...args) => {
        if (this.dead) throw new Error(this.dead);
        return f(...args);
      };
    }
    this.memory = memory ?? raw.memory;
    this._buf = null;
    this._f32 = null;
    this._i32 = null;
    this._u8 = null;
  }

  // Views are re-created whenever memory has grown (growth detaches the old buffer).
  get f32() {
    this._refresh();
    return this._f32;
  }
  get i32() {
    this._refresh();
    return this._i32;
  }
  get u8() {
    this._refresh();
    return this._u8;
  }
  _refresh() {
    const b = this.memory.buffer;
    if (b !== this._buf) {
      this._buf = b;
      this._f32 = new Float32Array(b);
      this._i32 = new Int32Array(b);
      this._u8 = new Uint8Array(b);
    }
  }

  malloc(bytes) {
    const p = this.x.malloc(Math.max(bytes, 4));
    if (!p) throw new RangeError(`out of wasm memory allocating ${bytes} bytes`);
    return p;
  }

  free(p) {
    if (p) this.x.free(p);
  }

  cstring(p) {
    const u8 = this.u8;
    let e = p;
    while (u8[e] !== 0) e++;
    return new TextDecoder().decode(u8.slice(p, e)); // a copy: browsers refuse to decode shared memory
  }

  /** Throw the C error for a non-zero status. */
  check(rc, what) {
    if (rc === 0) return;
    const msg = `${what}: ${this.cstring(this.x.gl_last_error())}`;
    if (rc === GL_ESTATE && this.x.gl_pool_failed()) {
      this.dead = 'glimpse-wasm: a worker thread of this instance failed during a call; the instance can no longer be used: close it (g.close()) and load() a new one';
      throw new Error(`${msg}. ${this.dead}`);
    }
    if (rc === GL_EINVAL || rc === GL_ENOMEM) throw new RangeError(msg);
    if (rc === GL_EFORMAT || rc === GL_ENUMERIC) throw new Error(msg);
    throw new Error(msg);
  }

  /**
   * Run fn with a Scope whose allocations are all freed afterwards, also when fn throws,
   * so a failed call leaves the instance as it was.
   */
  scoped(fn) {
    const s = new Scope(this);
    try {
      return fn(s);
    } finally {
      s.release();
    }
  }

  /** A Scope the caller must release() (in a finally): scoped() without the callback. */
  scope() {
    return new Scope(this);
  }
}

class Scope {
  constructor(core) {
    this.core = core;
    this.ptrs = [];
  }
  /** Allocate n floats (zeroed). */
  zeros(n) {
    const p = this.core.malloc(n * 4);
    this.ptrs.push(p);
    this.core.f32.fill(0, p >> 2, (p >> 2) + n);
    return p;
  }
  /** Allocate n floats, not cleared (for outputs a kernel writes completely). */
  alloc(n) {
    const p = this.core.malloc(n * 4);
    this.ptrs.push(p);
    return p;
  }
  /** Copy a Float32Array (or Int32Array) into wasm memory. */
  put(arr) {
    const p = this.core.malloc(arr.length * 4);
    this.ptrs.push(p);
    if (arr instanceof Int32Array) this.core.i32.set(arr, p >> 2);
    else this.core.f32.set(arr, p >> 2);
    return p;
  }
  putBytes(u8) {
    const p = this.core.malloc(u8.length);
    this.ptrs.push(p);
    this.core.u8.set(u8, p);
    return p;
  }
  /** Fresh copy of n floats at p. */
  get(p, n) {
    return this.core.f32.slice(p >> 2, (p >> 2) + n);
  }
  release() {
    for (const p of this.ptrs) this.core.free(p);
    this.ptrs.length = 0;
  }
}
