// tfjs.js: glimpse-wasm/tfjs, the Spatial Transformer kernels as differentiable TensorFlow.js ops.
//
//   import * as tf from '@tensorflow/tfjs';          // or '@tensorflow/tfjs-core' plus a backend
//   import { load } from 'glimpse-wasm';
//   import { tfjsOps } from 'glimpse-wasm/tfjs';
//   const ops = tfjsOps(await load(), tf);
//   const grid = ops.affineGrid(theta, [N, C, H, W]);    // theta N×2×3 → grid N×H×W×2
//   const out = ops.gridSample(input, grid);             // input N×C×H×W, grid N×Ho×Wo×2 → N×C×Ho×Wo
//
// Semantics are PyTorch's affine_grid / grid_sample (NCHW), exactly those of g.stn, whose kernels
// compute both the forward values and, through tf.customGrad, the gradients for theta, input and
// grid, so tf.grad, tf.variableGrads and optimizer.minimize train through the transformer.
//
// TF.js is a peer dependency: this module never imports it, the caller passes its own module in:
// @tensorflow/tfjs, or @tensorflow/tfjs-core (^4) with a backend. tfjs-core alone registers no
// gradients for its own ops (matMul, relu, ...), so training through them needs them registered:
// @tensorflow/tfjs does it, with tfjs-core import '@tensorflow/tfjs-core/dist/register_all_gradients'
// (bundlers) or, in Node, '@tensorflow/tfjs-layers' (its bundle registers them all).
// The ops read their input tensors synchronously (dataSync): on the CPU backend that is a plain
// read, on a GPU backend (webgl, webgpu) every call downloads its inputs and uploads its result.
// First-order gradients only (the gradient of a gradient is not differentiable).
import * as v from './validate.js';

const NCHW = ['N', 'C', 'H', 'W'];

function describe(x) {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${x.length}`;
  if (typeof x === 'object') return x.constructor && x.constructor.name ? `a ${x.constructor.name}` : 'an object';
  return typeof x === 'string' ? `the string ${JSON.stringify(x)}` : `${typeof x} ${String(x)}`;
}

const shapeText = (s) => `[${s.join(', ')}]`;

/** A usable glimpse-wasm instance: g.stn has the four kernels and g was not closed. */
function checkInstance(where, g) {
  if (g === null || typeof g !== 'object' || g.stn === null || typeof g.stn !== 'object') {
    throw new TypeError(`${where}: g must be an instance from glimpse-wasm's load(), got ${describe(g)}`);
  }
  for (const k of ['affineGrid', 'affineGridBackward', 'gridSample', 'gridSampleBackward']) {
    if (typeof g.stn[k] !== 'function') {
      throw new TypeError(`${where}: g.stn.${k} is not a function: g must be an instance from glimpse-wasm's load()`);
    }
  }
  const dead = g._core && g._core.dead;
  if (dead) throw new TypeError(`${where}: g can no longer be used (${dead})`);
}

/** The caller's TF.js module: @tensorflow/tfjs or @tensorflow/tfjs-core, major version 4. */
function checkTf(tf) {
  if (tf === null || (typeof tf !== 'object' && typeof tf !== 'function')) {
    throw new TypeError(`tfjsOps: tf must be the @tensorflow/tfjs (or @tensorflow/tfjs-core) module, got ${describe(tf)}`);
  }
  for (const k of ['customGrad', 'tensor', 'Tensor']) {
    if (typeof tf[k] !== 'function') {
      throw new TypeError(
        `tfjsOps: tf must be the @tensorflow/tfjs (or @tensorflow/tfjs-core) module: tf.${k} is not a function ` +
          "(pass the module itself, e.g. import * as tf from '@tensorflow/tfjs')",
      );
    }
  }
  const version = tf.version_core ?? tf.version?.['tfjs-core'];
  if (typeof version === 'string' && !/^4\./.test(version)) {
    throw new RangeError(`tfjsOps: TensorFlow.js version 4 is required (peer dependency @tensorflow/tfjs-core ^4), got ${version}`);
  }
}

export function tfjsOps(g, tf) {
  checkInstance('tfjsOps', g);
  checkTf(tf);
  const stn = g.stn;

  /** A float32 tf.Tensor of the given rank, not disposed. */
  function tensor(where, name, t, rank, layout) {
    if (!(t instanceof tf.Tensor)) {
      const hint = t !== null && typeof t === 'object' && Array.isArray(t.shape) && typeof t.dataSync === 'function'
        ? ' (it is a tensor of another copy of TensorFlow.js than the tf passed to tfjsOps)'
        : '';
      throw new TypeError(`${where}: ${name} must be a tf.Tensor of shape ${layout}, got ${describe(t)}${hint}`);
    }
    if (t.isDisposed) throw new TypeError(`${where}: ${name} was disposed`);
    if (t.rank !== rank) {
      throw new RangeError(`${where}: ${name} must have rank ${rank} (${layout}), got rank ${t.rank} with shape ${shapeText(t.shape)}`);
    }
    if (t.dtype !== 'float32') {
      throw new TypeError(`${where}: ${name} must have dtype float32, got ${t.dtype} (cast it with tf.cast(${name}, 'float32'))`);
    }
    for (let i = 0; i < rank; i++) {
      if (t.shape[i] < 1) throw new RangeError(`${where}: ${name} must have no empty dimension, got shape ${shapeText(t.shape)}`);
    }
    return t;
  }

  /** The options given, keys checked, values left to g.stn; keys that are undefined are left out. */
  function passOptions(where, options, keys) {
    const o = v.options(`${where} options`, options, keys);
    const out = {};
    for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
    return out;
  }

  function alive(where) {
    const dead = g._core && g._core.dead;
    if (dead) throw new Error(`${where}: ${dead}`);
  }

  function floats(t) {
    const d = t.dataSync();
    return d instanceof Float32Array ? d : Float32Array.from(d);
  }

  return {
    /**
     * theta (tf.Tensor N×2×3) → sampling grid (tf.Tensor N×H×W×2), torch's affine_grid;
     * differentiable in theta. options: { alignCorners }.
     */
    affineGrid(theta, size, options) {
      const where = 'affineGrid';
      alive(where);
      tensor(where, 'theta', theta, 3, '[N, 2, 3]');
      if (theta.shape[1] !== 2 || theta.shape[2] !== 3) {
        throw new RangeError(`${where}: theta must have shape [N, 2, 3], got ${shapeText(theta.shape)}`);
      }
      const [N, C, H, W] = v.shape(`${where} size`, size, 4, NCHW);
      if (N !== theta.shape[0]) {
        throw new RangeError(`${where}: size[0] (N) is ${N} but theta holds ${theta.shape[0]} matrices (shape ${shapeText(theta.shape)})`);
      }
      v.count(`${where} grid`, N, H, W, 2);
      const opts = passOptions(where, options, ['alignCorners']);
      const sz = [N, C, H, W];
      const op = tf.customGrad((th) => {
        const grid = stn.affineGrid(floats(th), sz, opts);
        return {
          value: tf.tensor(grid, [N, H, W, 2], 'float32'),
          gradFunc: (dy) => {
            alive(`${where} gradient`);
            return [tf.tensor(stn.affineGridBackward(floats(dy), sz, opts), [N, 2, 3], 'float32')];
          },
        };
      });
      return op(theta);
    },

    /**
     * input (tf.Tensor N×C×H×W) sampled at grid (tf.Tensor N×Ho×Wo×2) → tf.Tensor N×C×Ho×Wo,
     * torch's grid_sample; differentiable in input and grid.
     * options: { alignCorners, padding, mode } (mode is passed to g.stn only when given).
     */
    gridSample(input, grid, options) {
      const where = 'gridSample';
      alive(where);
      tensor(where, 'input', input, 4, '[N, C, H, W]');
      tensor(where, 'grid', grid, 4, '[N, Ho, Wo, 2]');
      const [N, C, H, W] = input.shape;
      const [Ng, Ho, Wo, two] = grid.shape;
      if (two !== 2) {
        throw new RangeError(`${where}: grid must have shape [N, Ho, Wo, 2] (x, y per output pixel), got ${shapeText(grid.shape)}`);
      }
      if (Ng !== N) {
        throw new RangeError(
          `${where}: grid has ${Ng} items (shape ${shapeText(grid.shape)}) but input has ${N} (shape ${shapeText(input.shape)})`,
        );
      }
      v.count(`${where} input`, N, C, H, W);
      v.count(`${where} output`, N, C, Ho, Wo);
      v.count(`${where} grid`, N, Ho, Wo, 2);
      const opts = passOptions(where, options, ['alignCorners', 'padding', 'mode']);
      const size = [N, C, H, W], outSize = [Ho, Wo];
      const op = tf.customGrad((x, gr) => {
        const xs = floats(x), gs = floats(gr);
        const out = stn.gridSample(xs, size, gs, outSize, opts);
        return {
          value: tf.tensor(out, [N, C, Ho, Wo], 'float32'),
          gradFunc: (dy) => {
            alive(`${where} gradient`);
            const { dInput, dGrid } = stn.gridSampleBackward(floats(dy), xs, size, gs, outSize, opts);
            return [tf.tensor(dInput, [N, C, H, W], 'float32'), tf.tensor(dGrid, [N, Ho, Wo, 2], 'float32')];
          },
        };
      });
      return op(input, grid);
    },
  };
}
