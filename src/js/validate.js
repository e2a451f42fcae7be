// validate.js: argument checks at the JS boundary. Everything is checked here, before a byte
// reaches wasm, and a bad argument throws a TypeError (wrong type) or RangeError (wrong value,
// length or size) whose message names the argument and what was expected.

/** Largest tensor (in floats) accepted at the boundary: 2^28 floats = 1 GiB, as in glimpse.h. */
export const MAX_FLOATS = 2 ** 28;

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${v.length}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v;
}

/** A positive integer (a size). */
export function size(name, v, { min = 1, max = MAX_FLOATS } = {}) {
  if (typeof v !== 'number') throw new TypeError(`${name} must be an integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** An array of `rank` positive integers. */
export function shape(name, v, rank, labels) {
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
    throw new TypeError(`${name} must be an array [${labels.join(', ')}], got ${describe(v)}`);
  }
  if (v.length !== rank) {
    throw new RangeError(`${name} must have ${rank} entries [${labels.join(', ')}], got ${v.length}`);
  }
  const out = [];
  for (let i = 0; i < rank; i++) out.push(size(`${name}[${i}] (${labels[i]})`, v[i]));
  return out;
}

/** Product of sizes, refused with a RangeError above MAX_FLOATS. */
export function count(name, ...dims) {
  let n = 1;
  for (const d of dims) n *= d;
  if (n > MAX_FLOATS) {
    throw new RangeError(`${name} would hold ${dims.join('×')} = ${n} floats, over the limit of ${MAX_FLOATS}`);
  }
  return n;
}

/** A Float32Array of exactly `length` elements (the shape is given in the message). */
export function f32(name, v, length, shapeText) {
  if (!(v instanceof Float32Array)) {
    throw new TypeError(`${name} must be a Float32Array${shapeText ? ` of shape ${shapeText}` : ''}, got ${describe(v)}`);
  }
  if (length !== undefined && v.length !== length) {
    throw new RangeError(`${name} must have length ${length}${shapeText ? ` (${shapeText})` : ''}, got ${v.length}`);
  }
  return v;
}

/** A finite number, optionally within [min, max]. */
export function number(name, v, { min = -Infinity, max = Infinity } = {}) {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`${name} must be a finite number in [${min}, ${max}], got ${v}`);
  }
  return v;
}

export function bool(name, v, dflt) {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`);
  return v;
}

/** One of a fixed set of strings. */
export function oneOf(name, v, allowed, dflt) {
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new TypeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  if (!allowed.includes(v)) throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${v}'`);
  return v;
}

/** An options object (undefined allowed) with only the given keys. */
export function options(name, v, keys) {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${name} must be an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new RangeError(`${name} has unknown option '${k}' (known: ${keys.join(', ')})`);
  }
  return v;
}

/** Integer labels in [0, classes): Uint8Array, Int32Array or plain array; returns an Int32Array. */
export function labels(name, v, length, classes) {
  if (!(v instanceof Uint8Array || v instanceof Int32Array || Array.isArray(v))) {
    throw new TypeError(`${name} must be a Uint8Array, Int32Array or array of class ids, got ${describe(v)}`);
  }
  if (v.length !== length) throw new RangeError(`${name} must have length ${length} (one per image), got ${v.length}`);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const c = v[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new RangeError(`${name}[${i}] must be an integer class id in [0, ${classes - 1}], got ${c}`);
    }
    out[i] = c;
  }
  return out;
}
