// tensor.js: tensors that stay in wasm memory (g.tensor, g.zeros) and the one code path every kernel
// of g.stn, g.draw and g.ntm runs its arguments through (kernelCall), so that each accepts a Tensor
// wherever it accepts a Float32Array:
//   - Float32Array arguments (and no `out`): copied in, the kernel runs, results copied out into
//     fresh Float32Arrays, everything freed: exactly the path the kernels always had;
//   - every tensor argument a Tensor: no copies; the results are fresh Tensors the caller frees;
//   - `{ out }`: results written into the caller's Tensors (checked: shape, instance, live, not also
//     an input), which are returned.
// A Tensor owns one malloc'd block of its instance's wasm memory and never keeps a typed-array view
// of it: with the threaded build memory is a growable SharedArrayBuffer, so every access goes through
// core.f32, which re-creates its view when the buffer changed.
import * as v from './validate.js';

const MAX_RANK = 8;
const CONSTRUCT = Symbol('glimpse-wasm Tensor'); // only g.tensor / g.zeros make Tensors

// Tensors that become unreachable without free() are freed by the garbage collector, eventually
// (never while a call runs: finalisers run between tasks). free() or `using` releases at once.
const finalizer = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ core, ptr }) => {
    if (!core.dead) core.raw.free(ptr);
  })
  : null;

let access; // internal accessors of Tensor's private fields, for kernelCall below

function describe(x) {
  if (x === null) return 'null';
  if (x instanceof Tensor) return x.freed ? 'a freed Tensor' : `a Tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${x.length}`;
  if (typeof x === 'number') return `the number ${x}`;
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  return typeof x;
}

const sameShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);
const shapeText = (s) => `[${s.join(', ')}]`;

/**
 * An N-dimensional float32 array in an instance's wasm memory (row-major). Made by g.tensor(data,
 * shape) or g.zeros(shape) and accepted by every kernel wherever a Float32Array is. free() (or
 * `using`) releases its memory; any use after that throws.
 */
export class Tensor {
  #core;
  #ptr;
  #shape;
  #size;

  static {
    access = {
      ptr: (t) => t.#ptr,
      core: (t) => t.#core,
    };
  }

  /** @internal use g.tensor() or g.zeros() */
  constructor(token, core, ptr, shape, size) {
    if (token !== CONSTRUCT) throw new TypeError('Tensor: use g.tensor(data, shape) or g.zeros(shape) to make one');
    this.#core = core;
    this.#ptr = ptr;
    this.#shape = shape;
    this.#size = size;
    finalizer?.register(this, { core, ptr }, this);
  }

  #live(what) {
    if (!this.#ptr) throw new Error(`Tensor.${what}: this Tensor was freed`);
    if (this.#core.dead) throw new Error(this.#core.dead);
    return this.#ptr;
  }

  /** The shape (a frozen array of positive integers). */
  get shape() {
    this.#live('shape');
    return this.#shape;
  }

  /** The number of elements, the product of the shape. */
  get size() {
    this.#live('size');
    return this.#size;
  }

  /** True once free() was called (never throws). */
  get freed() {
    return this.#ptr === 0;
  }

  /** A fresh Float32Array copy of the elements. */
  toArray() {
    const p = this.#live('toArray') >> 2;
    return this.#core.f32.slice(p, p + this.#size);
  }

  /** Copy `data` (a Float32Array of `size` elements) into the tensor; returns the tensor. */
  set(data) {
    const p = this.#live('set') >> 2;
    floatData('Tensor.set data', data, this.#size, shapeText(this.#shape));
    this.#core.f32.set(data, p);
    return this;
  }

  /** Release the tensor's wasm memory. Idempotent; any other use afterwards throws. */
  free() {
    if (!this.#ptr) return;
    finalizer?.unregister(this);
    if (!this.#core.dead) this.#core.raw.free(this.#ptr); // a closed instance's memory goes with it
    this.#ptr = 0;
  }

  [Symbol.dispose]() {
    this.free();
  }

  get [Symbol.toStringTag]() {
    return 'Tensor';
  }
}

/** A Float32Array of exactly n elements (TypeError / RangeError naming `name`). */
function floatData(name, data, n, shape) {
  if (!(data instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array of ${n} elements (shape ${shape}), got ${describe(data)}`);
  if (data.length !== n) throw new RangeError(`${name} must have length ${n} (shape ${shape}), got ${data.length}`);
}

/** A shape argument: an array of 1 to 8 positive integers whose product is at most 2^28. */
function tensorShape(name, shape) {
  if (!Array.isArray(shape)) throw new TypeError(`${name} must be an array of positive integers, got ${describe(shape)}`);
  if (shape.length < 1 || shape.length > MAX_RANK) throw new RangeError(`${name} must have 1 to ${MAX_RANK} entries, got ${shape.length}`);
  const dims = shape.map((d, i) => v.size(`${name}[${i}]`, d));
  return { dims: Object.freeze(dims), size: v.count(name, ...dims) };
}

/** g.tensor and g.zeros over one instance's core. */
export function makeTensors(core) {
  function alloc(dims, size) {
    if (core.dead) throw new Error(core.dead);
    return new Tensor(CONSTRUCT, core, core.malloc(size * 4), dims, size);
  }
  return {
    /** Copy a Float32Array into wasm memory once: a Tensor of the given shape (default [data.length]). */
    tensor(data, shape) {
      if (!(data instanceof Float32Array)) throw new TypeError(`tensor: data must be a Float32Array, got ${describe(data)}`);
      if (shape === undefined && data.length === 0) throw new RangeError('tensor: data is empty (a Tensor holds at least one element)');
      const { dims, size } = tensorShape('tensor shape', shape === undefined ? [data.length] : shape);
      if (data.length !== size) throw new RangeError(`tensor: data has ${data.length} elements but shape ${shapeText(dims)} holds ${size}`);
      const t = alloc(dims, size);
      core.f32.set(data, access.ptr(t) >> 2);
      return t;
    },
    /** A Tensor of the given shape filled with zeros. */
    zeros(shape) {
      const { dims, size } = tensorShape('zeros shape', shape);
      const t = alloc(dims, size);
      const p = access.ptr(t) >> 2;
      core.f32.fill(0, p, p + size);
      return t;
    },
  };
}

// ------------------------------------------------------------------------------------------
// The kernels' argument handling.

/**
 * Check a tensor argument of a kernel: a Float32Array of the shape's element count, or a live
 * Tensor of this instance with exactly that shape. Returns the value.
 * @param {string} text the shape as the kernels write it (`2×3×5×7`)
 */
export function floats(core, name, x, shape, text) {
  if (x instanceof Float32Array) {
    const n = count(shape);
    if (x.length !== n) throw new RangeError(`${name} must have length ${n}${text ? ` (${text})` : ''}, got ${x.length}`);
    return x;
  }
  if (x instanceof Tensor) {
    checkTensor(core, name, x, shape, text);
    return x;
  }
  throw new TypeError(`${name} must be a Float32Array or Tensor${text ? ` of shape ${text}` : ''}, got ${describe(x)}`);
}

/** A Float32Array of any length or a live Tensor of this instance of rank 1 (NTM's shift). */
export function floatsAnyLength(core, name, x) {
  if (x instanceof Tensor) {
    checkTensor(core, name, x, null);
    if (x.shape.length !== 1) throw new RangeError(`${name} must be a Tensor of rank 1, got a Tensor of shape ${shapeText(x.shape)}`);
    return x;
  }
  if (!(x instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array or Tensor, got ${describe(x)}`);
  return x;
}

/** Element count of a validated tensor argument. */
export const lengthOf = (x) => (x instanceof Tensor ? x.size : x.length);

/** The values of a validated tensor argument, to read at once (a view into wasm memory for a Tensor). */
export function valuesOf(core, x) {
  if (!(x instanceof Tensor)) return x;
  const p = access.ptr(x) >> 2;
  return core.f32.subarray(p, p + x.size);
}

function checkTensor(core, name, t, shape, text) {
  if (access.core(t) !== core) throw new TypeError(`${name} is a Tensor of another glimpse-wasm instance (load()); tensors work only with the instance that made them`);
  if (t.freed) throw new Error(`${name} is a freed Tensor`);
  if (core.dead) throw new Error(core.dead);
  if (shape && !sameShape(t.shape, shape)) {
    throw new RangeError(`${name} must be a Tensor of shape ${shapeText(shape)}${text ? ` (${text})` : ''}, got a Tensor of shape ${shapeText(t.shape)}`);
  }
}

/**
 * The `out` option: null when absent, else the output Tensors in the order of `outs`, checked:
 * one Tensor when there is one output, else an object with exactly the outputs' names; each a live
 * Tensor of this instance of the output's shape, none of them an input or another output.
 */
function outTensors(core, spec, shapes, out, inputs) {
  if (out === undefined) return null;
  const fn = spec.fn;
  const outs = spec.outputs.map((name, j) => ({ name, shape: shapes[j] }));
  const list = [];
  if (outs.length === 1) {
    const o = outs[0];
    if (!(out instanceof Tensor)) throw new TypeError(`${fn} options.out must be a Tensor of shape ${shapeText(o.shape)} (the ${o.name}), got ${describe(out)}`);
    checkTensor(core, `${fn} options.out`, out, o.shape);
    list.push(out);
  } else {
    const names = outs.map((o) => o.name);
    if (out === null || typeof out !== 'object' || out instanceof Tensor || Array.isArray(out)) {
      throw new TypeError(`${fn} options.out must be an object { ${names.join(', ')} } of Tensors, got ${describe(out)}`);
    }
    for (const k of Object.keys(out)) {
      if (!names.includes(k)) throw new RangeError(`${fn} options.out has unknown key '${k}' (known: ${names.join(', ')})`);
    }
    for (const o of outs) {
      const t = out[o.name];
      const where = `${fn} options.out.${o.name}`;
      if (!(t instanceof Tensor)) throw new TypeError(`${where} must be a Tensor of shape ${shapeText(o.shape)}, got ${describe(t)}`);
      checkTensor(core, where, t, o.shape);
      list.push(t);
    }
  }
  for (let i = 0; i < list.length; i++) {
    const where = outs.length === 1 ? `${fn} options.out` : `${fn} options.out.${outs[i].name}`;
    for (let j = 0; j < i; j++) {
      if (list[j] === list[i]) throw new RangeError(`${where} is the same Tensor as options.out.${outs[j].name}: each output needs its own`);
    }
    for (let k = 0; k < inputs.length; k++) {
      if (inputs[k] === list[i]) throw new RangeError(`${where} is also the input ${spec.inputs[k]}: an output cannot be written over an input`);
    }
  }
  return list;
}

/**
 * A kernel's fixed description for kernelCall: its name, the names of its tensor inputs and
 * outputs, which outputs the kernel writes completely (no need to clear them: `full`), and how the
 * result is built from the outputs (Float32Arrays or Tensors) and what the body returned.
 * @param {{ fn: string, inputs: string[], outputs: string[], full?: string[],
 *   pack?: (r: Array<Float32Array | Tensor>, extra: any) => any }} d  pack defaults to the one
 *   output, or an object of the outputs by name
 */
export function kernelSpec({ fn, inputs, outputs, full = [], pack }) {
  const names = outputs;
  return {
    fn, inputs, outputs,
    zero: outputs.map((n) => !full.includes(n)),
    pack: pack ?? (outputs.length === 1 ? (r) => r[0] : (r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))),
  };
}

/**
 * Run one kernel call.
 * @param {import('./core.js').WasmCore} core
 * @param {ReturnType<typeof kernelSpec>} spec
 * @param {Array<Float32Array | Tensor>} inputs validated tensor arguments (floats()), in spec.inputs order
 * @param {number[][]} shapes the outputs' shapes, in spec.outputs order
 * @param {Tensor | object | undefined} out the `out` option
 * @param {(s, pIn: number[], pOut: number[]) => any} body runs the C kernels with the inputs' and
 *   outputs' pointers (s: a scope for scratch); what it returns goes to spec.pack
 * @returns spec.pack(outputs as Float32Arrays (some input a Float32Array, no out), as fresh Tensors
 *   (every input a Tensor, no out) or the out Tensors, body's result)
 */
export function kernelCall(core, spec, inputs, shapes, out, body) {
  if (typeof spec === 'string') return namedCall(core, spec, inputs, shapes, out, body);
  return run(core, spec, inputs, shapes, out, body, false);
}

/**
 * kernelCall's first form, kept for its callers (src/js/grid.js): kernelCall(core, fnName,
 * [[name, value]...], [{ name, shape, zero }...], out, (s, pIn, pOut, results) => result), where
 * body builds the result itself from results() (the outputs as Float32Arrays or Tensors).
 */
function namedCall(core, fn, named, outs, out, body) {
  const spec = kernelSpec({
    fn, inputs: named.map(([n]) => n), outputs: outs.map((o) => o.name), full: outs.filter((o) => o.zero === false).map((o) => o.name),
  });
  return run(core, spec, named.map(([, x]) => x), outs.map((o) => o.shape), out, body, true);
}

// legacy: body(s, pIn, pOut, results) returns the call's result (namedCall)
function run(core, spec, inputs, shapes, out, body, legacy) {
  const ni = inputs.length, no = shapes.length;
  let tensors = true;
  for (let i = 0; i < ni; i++) if (!(inputs[i] instanceof Tensor)) tensors = false;
  if (out === undefined && !tensors) {
    // The Float32Array path: copy in (Tensors among them are used in place), zeroed outputs, copy
    // out, free everything.
    const s = core.scope();
    try {
      const pIn = new Array(ni), pOut = new Array(no), n = new Array(no);
      for (let i = 0; i < ni; i++) pIn[i] = inputs[i] instanceof Float32Array ? s.put(inputs[i]) : access.ptr(inputs[i]);
      for (let j = 0; j < no; j++) pOut[j] = spec.zero[j] ? s.zeros((n[j] = count(shapes[j]))) : s.alloc((n[j] = count(shapes[j])));
      if (legacy) return body(s, pIn, pOut, () => pOut.map((p, j) => s.get(p, n[j])));
      const extra = body(s, pIn, pOut);
      for (let j = 0; j < no; j++) pOut[j] = s.get(pOut[j], n[j]);
      return spec.pack(pOut, extra);
    } finally {
      s.release();
    }
  }
  const given = outTensors(core, spec, shapes, out, inputs);
  const s = core.scope();
  const fresh = given ? null : [];
  try {
    const pIn = new Array(ni);
    for (let i = 0; i < ni; i++) pIn[i] = inputs[i] instanceof Tensor ? access.ptr(inputs[i]) : s.put(inputs[i]);
    if (fresh) {
      for (const shape of shapes) {
        const n = count(shape);
        fresh.push(new Tensor(CONSTRUCT, core, core.malloc(n * 4), Object.freeze(shape.slice()), n));
      }
    }
    const res = given ?? fresh;
    const f32 = core.f32; // after every allocation of this call
    const pOut = res.map((t, j) => {
      const p = access.ptr(t);
      if (spec.zero[j]) f32.fill(0, p >> 2, (p >> 2) + count(shapes[j]));
      return p;
    });
    if (legacy) return body(s, pIn, pOut, () => res);
    return spec.pack(res, body(s, pIn, pOut));
  } catch (e) {
    if (fresh) for (const t of fresh) t.free();
    throw e;
  } finally {
    s.release();
  }
}

function count(shape) {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}
