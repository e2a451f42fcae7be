// model.js: what every model object shares, derived from the C core's schema (src/model.h).
//
// Each model kind declares its configuration once, in C (a gl_field table: name, type, range,
// default, doc). readSchema() reads it from the instance as JSON; from it this module derives the
// createX options (validation with messages naming the option), the words passed to C, the
// model's `config` object, and the generic lifecycle: parameterCount, learningRate, save(), free(),
// [Symbol.dispose] and the test hooks (_params, _grads). A model file keeps only its own methods
// (trainBatch, generate, copy, ...) and calls defineModel().
import * as v from './validate.js';

export const KIND = Object.freeze({ STN: 1, DRAW: 2, NTM: 3 });
const AUTO = 0xffffffff; // GL_AUTO: a word the model derives

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
export const toBits = (x) => ((f32bits[0] = x), u32bits[0]);
export const fromBits = (u) => ((u32bits[0] = u), f32bits[0]);

/** The shortest decimal that rounds to the same float32 (0.001, not 0.0010000000474974513). */
export function shortestFloat32(x) {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p < 9; p++) {
    const y = Number(f.toPrecision(p));
    if (Math.fround(y) === f) return y;
  }
  return f;
}

/**
 * The schema of one model kind, grouped into options: { name, kind, fields, options, tensors,
 * lrField }. fields[i] describes config word i; options are what createX accepts: a scalar
 * (one word), a pair ([a, b]: words "key.0", "key.1") or an object ({ read, write }).
 */
export function readSchema(core, kind) {
  const p = core.x.gl_model_schema(kind);
  if (!p) throw new Error(`model kind ${kind}: the core has no schema for it`);
  const raw = JSON.parse(core.cstring(p));
  const options = [];
  const byName = new Map();
  const fields = raw.fields.map((f, word) => {
    const dot = f.key.indexOf('.');
    const option = dot < 0 ? f.key : f.key.slice(0, dot);
    const part = dot < 0 ? null : f.key.slice(dot + 1);
    const field = Object.freeze({
      word,
      key: f.key,
      option,
      part: part === null ? null : /^\d+$/.test(part) ? Number(part) : part,
      type: f.type,
      min: f.min,
      max: f.max,
      default: f.derived ? undefined : f.type === 'float' ? shortestFloat32(f.default) : f.type === 'bool' ? f.default === 1 : f.type === 'enum' ? f.choices.split('|')[f.default] : f.default,
      auto: f.auto,
      derived: f.derived,
      choices: f.type === 'enum' ? Object.freeze(f.choices.split('|')) : null,
      doc: f.doc,
    });
    let o = byName.get(option);
    if (!o) {
      o = { name: option, shape: part === null ? 'scalar' : typeof field.part === 'number' ? 'pair' : 'object', fields: [] };
      byName.set(option, o);
      options.push(o);
    }
    o.fields.push(field);
    return field;
  });
  for (const o of options) Object.freeze(o.fields), Object.freeze(o);
  return Object.freeze({
    kind,
    name: raw.name,
    fields: Object.freeze(fields),
    options: Object.freeze(options),
    tensors: Object.freeze(raw.tensors),
    lrField: fields[raw.lrField],
  });
}

/** The config word of one field from an option value (undefined: its default). */
function fieldWord(f, value, name) {
  if (value === undefined) {
    if (f.derived) return AUTO;
    if (f.type === 'float') return toBits(f.default);
    if (f.type === 'bool') return f.default ? 1 : 0;
    if (f.type === 'enum') return f.choices.indexOf(f.default);
    return f.default;
  }
  switch (f.type) {
    case 'int':
      if (f.auto && value === 'auto') return AUTO;
      if (f.auto && typeof value === 'string') {
        throw new TypeError(`${name} must be an integer in [${f.min}, ${f.max}] or 'auto', got the string ${JSON.stringify(value)}`);
      }
      return v.size(name, value, { min: f.min, max: f.max });
    case 'float':
      return toBits(v.number(name, value, { min: f.min, max: f.max }));
    case 'bool':
      return v.bool(name, value) ? 1 : 0;
    default:
      return f.choices.indexOf(v.oneOf(name, value, f.choices));
  }
}

function pairShape(name, value, n) {
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new TypeError(`${name} must be an array of ${n} integers, got ${value === null ? 'null' : typeof value === 'string' ? `the string ${JSON.stringify(value)}` : typeof value}`);
  }
  if (value.length !== n) throw new RangeError(`${name} must have ${n} entries, got ${value.length}`);
}

/** createX options → config words (Uint32Array, one per field). `prefix` names them in errors. */
export function optionsToWords(schema, opts, prefix) {
  const o = v.options(`${prefix} options`, opts, schema.options.map((x) => x.name));
  const words = new Uint32Array(schema.fields.length);
  for (const opt of schema.options) {
    const name = `${prefix} options.${opt.name}`;
    const value = o[opt.name];
    if (opt.shape === 'scalar') {
      words[opt.fields[0].word] = fieldWord(opt.fields[0], value, name);
    } else if (opt.shape === 'pair') {
      if (value !== undefined) pairShape(name, value, opt.fields.length);
      for (const f of opt.fields) words[f.word] = fieldWord(f, value === undefined ? undefined : value[f.part], `${name}[${f.part}]`);
    } else {
      if (value !== undefined) v.options(name, value, opt.fields.map((f) => f.part));
      for (const f of opt.fields) words[f.word] = fieldWord(f, value === undefined ? undefined : value[f.part], `${name}.${f.part}`);
    }
  }
  return words;
}

/** Config words → the config object (options with their defaults and derived values). */
export function wordsToConfig(schema, words) {
  const value = (f) => {
    const w = words[f.word];
    if (f.type === 'float') return shortestFloat32(fromBits(w));
    if (f.type === 'bool') return w === 1;
    if (f.type === 'enum') return f.choices[w];
    return w;
  };
  const c = {};
  for (const opt of schema.options) {
    if (opt.shape === 'scalar') c[opt.name] = value(opt.fields[0]);
    else if (opt.shape === 'pair') c[opt.name] = Object.freeze(opt.fields.map(value));
    else c[opt.name] = Object.freeze(Object.fromEntries(opt.fields.map((f) => [f.part, value(f)])));
  }
  return Object.freeze(c);
}

/** The default of every option whose default is fixed (derived ones, e.g. STN's outputSize, are omitted). */
export function defaultOptions(schema) {
  const d = {};
  for (const o of schema.options) {
    if (o.fields.some((f) => f.derived)) continue;
    if (o.shape === 'scalar') d[o.name] = o.fields[0].default;
    else if (o.shape === 'pair') d[o.name] = Object.freeze(o.fields.map((f) => f.default));
    else d[o.name] = Object.freeze(Object.fromEntries(o.fields.map((f) => [f.part, f.default])));
  }
  return Object.freeze(d);
}

/** The schema as the public, plain description of a model's options (g.schema.STN, ...). */
export function describeSchema(schema) {
  return Object.freeze(
    schema.options.map((o) =>
      Object.freeze({
        name: o.name,
        shape: o.shape,
        doc: o.fields.map((f) => f.doc).join('; '),
        fields: o.fields.map((f) => ({ key: f.key, type: f.type, min: f.min, max: f.max, default: f.default, auto: f.auto, choices: f.choices, doc: f.doc })),
      }),
    ),
  );
}

/**
 * The base of every model class: owns a pointer to a C model; free() is idempotent and any call
 * after it throws. Subclasses set static `kind` (KIND.*), `label` ('STN') and `properties`, a
 * function of the config giving the read-only conveniences the model exposes (height, steps, R...).
 */
export class WasmModel {
  constructor(core, ptr, schema) {
    this._core = core;
    this._ptr = ptr;
    this._schema = schema;
    this._name = this.constructor.label;
    /** 'STN', 'DRAW' or 'NTM' (narrows the union g.pretrained(name) returns for a PretrainedName). */
    this.kind = this._name;
    const n = schema.fields.length;
    const words = core.scoped((s) => {
      const p = s.zeros(n);
      if (core.x.gl_model_config(ptr, p, n) !== n) throw new Error(`${this._name}: configuration size mismatch`);
      return new Uint32Array(core.i32.slice(p >> 2, (p >> 2) + n).buffer);
    });
    /** Full configuration (the create options with their defaults and derived values). */
    this.config = wordsToConfig(schema, words);
    Object.assign(this, this.constructor.properties(this.config));
  }

  /** The C pointer; throws after free(). */
  get ptr() {
    if (!this._ptr) throw new Error(`${this._name} model was freed; create or load a new one`);
    return this._ptr;
  }

  get freed() {
    return !this._ptr;
  }

  /** Number of trainable parameters. */
  get parameterCount() {
    return Number(this._core.x.gl_model_param_count(this.ptr));
  }

  /** The learning rate of the next steps (settable, e.g. for a schedule; saved with the model). */
  get learningRate() {
    this.ptr;
    return this._lr ?? this.config.learningRate;
  }
  set learningRate(lr) {
    const f = this._schema.lrField;
    v.number('learningRate', lr, { min: f.min, max: f.max });
    this._core.check(this._core.x.gl_model_set_lr(this.ptr, lr), `${this._name} learningRate`);
    this._lr = shortestFloat32(lr);
  }

  /**
   * Serialise the model (Uint8Array, see src/weights.h): the weights and configuration; with
   * { float16: true } half-size parameters; with { optimizer: true } a checkpoint: float32
   * parameters plus the optimiser's moments, step count and the training stream, from which
   * training resumes bit-identically; with { format: 'safetensors' } a safetensors file (float32
   * tensors named as the model's tensor names, the configuration in its metadata; for the STN the
   * PyTorch STN tutorial's state_dict). Every kind loads with the matching g.load<Model>(bytes).
   */
  save(options) {
    const ptr = this.ptr;
    const x = this._core.x;
    const P = `${this._name}.save options`;
    const o = v.options(P, options, ['float16', 'optimizer', 'format']);
    const f16 = v.bool(`${P}.float16`, o.float16, false);
    const checkpoint = v.bool(`${P}.optimizer`, o.optimizer, false);
    const st = v.oneOf(`${P}.format`, o.format, ['glimpse', 'safetensors'], 'glimpse') === 'safetensors';
    if (f16 && checkpoint) throw new RangeError(`${P}: a checkpoint (optimizer: true) holds float32 parameters; float16 is for weights only`);
    if (st && (f16 || checkpoint)) throw new RangeError(`${P}: format 'safetensors' holds float32 weights only (no float16, no optimizer state)`);
    const flags = (f16 ? 1 : 0) | (checkpoint ? 2 : 0) | (st ? 4 : 0);
    const n = x.gl_model_save_size(ptr, flags);
    return this._core.scoped((s) => {
      const p = s.putBytes(new Uint8Array(n));
      this._core.check(x.gl_model_save(ptr, p, n, flags), `${this._name}.save`);
      return this._core.u8.slice(p, p + n);
    });
  }

  /** Release the wasm memory of this model. Idempotent. */
  free() {
    if (this._ptr) {
      this._core.x.gl_model_free(this._ptr);
      this._ptr = 0;
    }
  }

  [Symbol.dispose]() {
    this.free();
  }

  /**
   * Images (count×height×width Float32Array; the model's input side unless height/width are given)
   * checked; returns the count. Pixels must be finite, and within [0, 1] when `unit` (models that
   * binarise or where scaled pixels are a mistake).
   */
  _images(fn, images, { unit = false, height = this.height, width = this.width } = {}) {
    const pix = height * width;
    v.f32(`${fn} images`, images, undefined, `count×${height}×${width}`);
    if (images.length === 0 || images.length % pix !== 0) {
      throw new RangeError(`${fn} images must hold count×${height}×${width} floats (count ≥ 1, ${pix} per image), got length ${images.length}`);
    }
    for (let i = 0; i < images.length; i++) {
      const p = images[i];
      if (unit ? !(p >= 0 && p <= 1) : !Number.isFinite(p)) {
        throw new RangeError(`${fn} images[${i}] must be ${unit ? 'a pixel value in [0, 1]' : 'a finite number (pixels in [0, 1])'}, got ${p}`);
      }
    }
    return images.length / pix;
  }

  /**
   * Train for about `ms` milliseconds of wall-clock time (at least one step), so a page or a worker
   * can train in slices and stay responsive. Each step trains on nextBatch(step) (STN:
   * { images, labels }; DRAW: images; NTM: the options of trainCopy) and then calls
   * onStep(result, step) if given. Returns { steps, items, seconds, itemsPerSecond, mean } where
   * items are images (STN, DRAW) or sequences (NTM), itemsPerSecond is wall-clock throughput over
   * the whole slice (making the batches included) and mean averages every numeric field of the
   * step results.
   */
  trainFor(ms, nextBatch, onStep) {
    v.number('trainFor ms', ms, { min: 0 });
    if (typeof nextBatch !== 'function') throw new TypeError(`trainFor nextBatch must be a function, got ${typeof nextBatch}`);
    if (onStep !== undefined && typeof onStep !== 'function') throw new TypeError(`trainFor onStep must be a function, got ${typeof onStep}`);
    const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
    const t0 = now();
    const sums = {};
    let steps = 0, items = 0;
    do {
      const { result, count } = this._trainOn(nextBatch(steps));
      for (const [k, x] of Object.entries(result)) if (typeof x === 'number') sums[k] = (sums[k] ?? 0) + x;
      items += count;
      onStep?.(result, steps);
      steps++;
    } while (now() - t0 < ms);
    const seconds = (now() - t0) / 1000;
    const mean = Object.fromEntries(Object.entries(sums).map(([k, x]) => [k, x / steps]));
    return { steps, items, seconds, itemsPerSecond: items / Math.max(seconds, 1e-9), mean };
  }

  // ---- test hooks (not part of the public API) ----

  /** The parameter arena (pointer and length in floats, valid until memory grows) and its tensors. */
  _params() {
    const core = this._core, ptr = this.ptr;
    return core.scoped((s) => {
      const pn = s.zeros(2), po = s.zeros(2);
      const pp = core.x.gl_model_params(ptr, pn);
      const length = core.i32[pn >> 2];
      const tensors = [];
      for (let i = 0; core.x.gl_model_tensor(ptr, i, po, pn) === 0; i++) {
        tensors.push({ name: this._schema.tensors[i], offset: core.i32[po >> 2], length: core.i32[pn >> 2] });
      }
      return { ptr: pp, length, tensors };
    });
  }

  /** A copy of the gradient arena (what the last loss-and-gradient call left there). */
  _grads() {
    const core = this._core, ptr = this.ptr;
    return core.scoped((s) => {
      const pn = s.zeros(2);
      const pg = core.x.gl_model_grads(ptr, pn);
      return core.f32.slice(pg >> 2, (pg >> 2) + core.i32[pn >> 2]);
    });
  }
}

/**
 * g.create<label>(options) and g.load<label>(bytes) for a model class on one core, its schema
 * read once. normalize (optional) rewrites shorthand options before validation (e.g. NTM's
 * heads: 2 for { read: 2, write: 2 }).
 */
export function defineModel(core, Class, { normalize } = {}) {
  const label = Class.label;
  const schema = readSchema(core, Class.kind);
  return {
    schema,
    [`create${label}`](options) {
      const words = optionsToWords(schema, normalize ? normalize(options) : options, `create${label}`);
      const ptr = core.scoped((s) => {
        const pw = s.put(new Int32Array(words.buffer));
        const pout = s.zeros(1);
        core.check(core.x.gl_model_create(pout, Class.kind, pw, words.length), `create${label} options`);
        return core.i32[pout >> 2];
      });
      return new Class(core, ptr, schema);
    },
    /** A model from the bytes of model.save(); malformed bytes throw an Error. */
    [`load${label}`](bytes) {
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError(`load${label}: bytes must be a Uint8Array (from ${label.toLowerCase()}.save()), got ${bytes === null ? 'null' : typeof bytes}`);
      }
      const ptr = core.scoped((s) => {
        const pb = s.putBytes(bytes);
        const pout = s.zeros(1);
        const rc = core.x.gl_model_load(pout, Class.kind, pb, bytes.length);
        // Malformed bytes are an Error (not a RangeError): the message says which check failed.
        if (rc !== 0) throw new Error(`load${label}: ${core.cstring(core.x.gl_last_error())}`);
        return core.i32[pout >> 2];
      });
      return new Class(core, ptr, schema);
    },
  };
}
