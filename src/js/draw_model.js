// draw_model.js: g.createDRAW / g.loadDRAW, the DRAW recurrent variational auto-encoder with
// selective attention (Gregor et al. 2015) trained in the C core (src/draw_model.c). Images are
// binarised inside the model (threshold at 0.5 by default, or stochastic draws); losses are in nats
// per image (negative variational bound: Bernoulli reconstruction + KL summed over the steps). Its
// options, defaults and ranges are the C schema (draw_fields in src/draw_model.c); the lifecycle
// (config, learningRate, save, free) is the shared model base (model.js).
import * as v from './validate.js';
import { KIND, WasmModel, defineModel } from './model.js';

/** A DRAW model trained in wasm. Create with g.createDRAW(options) or g.loadDRAW(bytes). */
export class DRAWModel extends WasmModel {
  static kind = KIND.DRAW;
  static label = 'DRAW';
  static properties = (c) => ({ steps: c.T, height: c.height, width: c.width, attention: c.attention }); // steps: glimpses T

  _trainOn(images) {
    const result = this.trainBatch(images);
    return { result, count: images.length / (this.height * this.width) };
  }

  /** Validate images (count×height×width, pixels in [0, 1]) and return the count. */
  _count(fn, images) {
    return this._images(fn, images, { unit: true });
  }

  _seed(fn, opts) {
    const o = v.options(`${fn} options`, opts, ['seed']);
    return o.seed === undefined ? 0 : v.size(`${fn} options.seed`, o.seed, { min: 0, max: 0xffffffff });
  }

  /**
   * One Adam step on a batch (images count×height×width in [0, 1], binarised by the model).
   * Throws an Error (weights unchanged) when the loss or gradient is not finite.
   * @returns {{ loss: number, reconstruction: number, kl: number, gradNorm: number }} nats per image
   */
  trainBatch(images) {
    const ptr = this.ptr;
    const B = this._count('trainBatch', images);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), po = s.zeros(4);
      core.check(core.x.gl_draw_train_batch(ptr, po, pi, B), 'DRAW trainBatch');
      const r = s.get(po, 4);
      return { loss: r[0], reconstruction: r[1], kl: r[2], gradNorm: r[3] };
    });
  }

  /**
   * The negative variational bound of images without an update (means over the images, nats per
   * image). eps (and stochastic binarisation) are drawn from an RNG seeded by options.seed
   * (default 0), so the same call gives the same numbers.
   * @returns {{ loss: number, reconstruction: number, kl: number }}
   */
  loss(images, options) {
    const ptr = this.ptr;
    const B = this._count('loss', images);
    const seed = this._seed('loss', options);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), po = s.zeros(3);
      core.check(core.x.gl_draw_loss(ptr, po, pi, B, seed), 'DRAW loss');
      const r = s.get(po, 3);
      return { loss: r[0], reconstruction: r[1], kl: r[2] };
    });
  }

  /**
   * Samples: z_t ~ N(0, I) (seeded), decoder only. canvases: steps×count×height×width
   * (probabilities σ(c_t)); write: steps×count×5 = (gX, gY, δ, σ², γ) of each write in image units
   * (1-based pixel coordinates), or null without attention.
   */
  generate(options) {
    const ptr = this.ptr;
    const o = v.options('generate options', options, ['count', 'seed']);
    const count = o.count === undefined ? 1 : v.size('generate options.count', o.count, { min: 1, max: 100000 });
    const seed = o.seed === undefined ? 0 : v.size('generate options.seed', o.seed, { min: 0, max: 0xffffffff });
    const T = this.steps, pix = this.height * this.width;
    const nc = v.count('generate canvases', T, count, pix), nw = T * count * 5;
    const core = this._core;
    return core.scoped((s) => {
      const pc = s.zeros(nc), pw = this.attention ? s.zeros(nw) : 0;
      core.check(core.x.gl_draw_generate(ptr, pc, pw, count, seed), 'DRAW generate');
      return { steps: T, canvases: s.get(pc, nc), write: this.attention ? s.get(pw, nw) : null };
    });
  }

  /**
   * The full pass over images (eps seeded by options.seed, default 0): canvases
   * steps×count×height×width (probabilities), read and write steps×count×5 = (gX, gY, δ, σ², γ)
   * in image units (null without attention).
   */
  reconstruct(images, options) {
    const ptr = this.ptr;
    const B = this._count('reconstruct', images);
    const seed = this._seed('reconstruct', options);
    const T = this.steps, pix = this.height * this.width;
    const nc = v.count('reconstruct canvases', T, B, pix), na = T * B * 5;
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), pc = s.zeros(nc);
      const pr = this.attention ? s.zeros(na) : 0, pw = this.attention ? s.zeros(na) : 0;
      core.check(core.x.gl_draw_reconstruct(ptr, pc, pr, pw, pi, B, seed), 'DRAW reconstruct');
      return {
        steps: T,
        canvases: s.get(pc, nc),
        read: this.attention ? s.get(pr, na) : null,
        write: this.attention ? s.get(pw, na) : null,
      };
    });
  }

  /** Test hook: loss and gradient (a copy of the gradient arena) with eps seeded by `seed`, no update. */
  _lossGrad(images, seed = 0) {
    const ptr = this.ptr;
    const B = this._count('lossGrad', images);
    const core = this._core;
    const loss = core.scoped((s) => {
      const po = s.zeros(3);
      core.check(core.x.gl_draw_loss_grad(ptr, po, s.put(images), B, seed), 'DRAW lossGrad');
      return s.get(po, 1)[0];
    });
    return { loss, grad: this._grads() };
  }
}

/** g.createDRAW and g.loadDRAW for one core (and the schema they follow). */
export function makeDrawModel(core) {
  return defineModel(core, DRAWModel);
}
