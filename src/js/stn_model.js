// stn_model.js: g.createSTN / g.loadSTN, the Spatial Transformer Network classifier trained in
// the C core (src/stn_model.c). By default the architecture of the PyTorch STN tutorial, adapted
// to the input size; transform: 'affine' (default), 'projective', 'tps' (thin-plate spline) or 'none' (the plain CNN). Its
// options, defaults and ranges are the C schema (stn_fields in src/stn_model.c); the lifecycle
// (config, learningRate, save, free) is the shared model base (model.js).
import * as v from './validate.js';
import { KIND, WasmModel, defineModel } from './model.js';

/** A trained-in-wasm STN classifier. Create with g.createSTN(options) or g.loadSTN(bytes). */
export class STNModel extends WasmModel {
  static kind = KIND.STN;
  static label = 'STN';
  // transformType: 'affine', 'projective', 'tps' or 'none'; distortion: the one of the training data as the weights record it
  static properties = (c) => ({ height: c.height, width: c.width, classes: c.classes, outputHeight: c.outputSize[0], outputWidth: c.outputSize[1], transformType: c.transform, distortion: c.distortion });

  _trainOn(batch) {
    if (batch === null || typeof batch !== 'object') throw new TypeError(`trainFor nextBatch() must return { images, labels }, got ${batch === null ? 'null' : typeof batch}`);
    const result = this.trainBatch(batch.images, batch.labels);
    return { result, count: batch.images.length / (this.height * this.width) };
  }

  /**
   * One optimiser step on a batch. images: count×height×width in [0, 1] (a RangeError otherwise:
   * ×255 pixels would silently wreck the network, as DRAW and NTM refuse them); labels: class ids.
   * Throws an Error (weights unchanged) when the loss or gradient is not finite.
   * @returns {{ loss: number, accuracy: number, gradNorm: number }}
   */
  trainBatch(images, labels) {
    const ptr = this.ptr;
    const B = this._images('trainBatch', images, { unit: true });
    const lab = v.labels('trainBatch labels', labels, B, this.classes);
    const core = this._core;
    return core.scoped((s) => {
      const pi = s.put(images), pl = s.put(lab), po = s.zeros(4);
      core.check(core.x.gl_stn_train_batch(ptr, po, pi, pl, B), 'STN trainBatch');
      const r = s.get(po, 3);
      return { loss: r[0], accuracy: r[1], gradNorm: r[2] };
    });
  }

  /**
   * Class scores without dropout (images: any finite values, so that a model imported from
   * safetensors and trained on normalised pixels can be given them): logits (count×classes, before softmax), probabilities (their
   * softmax per image) and the argmax labels.
   */
  predict(images) {
    const ptr = this.ptr;
    return this._scores(ptr, 'predict', 'gl_stn_predict', images, this._images('predict', images));
  }

  /**
   * The classifier alone, on images already sampled to what it reads (count×outputHeight×outputWidth,
   * e.g. the images seen through a θ of one's own with g.stn.affineGrid and g.stn.gridSample, or
   * transform()'s output): { labels, logits, probabilities } as predict. classify(transform(x).output)
   * is predict(x).
   */
  classify(transformed) {
    const ptr = this.ptr; // a freed model says so before anything else
    const B = this._images('classify', transformed, { height: this.outputHeight, width: this.outputWidth });
    return this._scores(ptr, 'classify', 'gl_stn_classify', transformed, B);
  }

  /** logits, probabilities and labels of B images through the C entry point `entry`. */
  _scores(ptr, fn, entry, images, B) {
    const core = this._core;
    const C = this.classes, nl = B * C;
    const { labels, logits } = core.scoped((s) => {
      const pi = s.put(images), pz = s.zeros(nl), pl = s.zeros(B);
      core.check(core.x[entry](ptr, pz, pl, pi, B), `STN ${fn}`);
      return { labels: core.i32.slice(pl >> 2, (pl >> 2) + B), logits: s.get(pz, nl) };
    });
    const probabilities = new Float32Array(nl);
    for (let i = 0; i < B; i++) {
      let m = -Infinity, z = 0;
      for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
      for (let c = 0; c < C; c++) z += (probabilities[i * C + c] = Math.exp(logits[i * C + c] - m));
      for (let c = 0; c < C; c++) probabilities[i * C + c] /= z;
    }
    return { labels, logits, probabilities };
  }

  /**
   * The transformer applied to images: theta (count×2×3 for 'affine' and 'none' (the identity),
   * count×3×3 for 'projective', count×K×2 for 'tps': where each of the K control points maps to,
   * as g.stn.tpsGrid takes them) and output (count×outputHeight×outputWidth, what the classifier sees).
   */
  transform(images) {
    const ptr = this.ptr;
    const B = this._images('transform', images);
    const core = this._core;
    const nt = B * (this.transformType === 'projective' ? 9 : this.transformType === 'tps' ? 2 * this.config.controlGrid[0] * this.config.controlGrid[1] : 6);
    const no = B * this.outputHeight * this.outputWidth;
    return core.scoped((s) => {
      const pi = s.put(images), pt = s.zeros(nt), po = s.zeros(no);
      core.check(core.x.gl_stn_transform(ptr, pt, po, pi, B), 'STN transform');
      return { theta: s.get(pt, nt), output: s.get(po, no) };
    });
  }

  /** Mean loss and accuracy over a labelled set, no update (evaluated in chunks, without dropout). */
  evaluate(images, labels) {
    const B = this._images('evaluate', images);
    const lab = v.labels('evaluate labels', labels, B, this.classes);
    const { labels: pred, logits } = this.predict(images);
    let correct = 0, loss = 0;
    const C = this.classes;
    for (let i = 0; i < B; i++) {
      if (pred[i] === lab[i]) correct++;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c] - m);
      loss += m + Math.log(z) - logits[i * C + lab[i]];
    }
    return { loss: loss / B, accuracy: correct / B };
  }

  /** Test hook: loss and gradient (a copy of the gradient arena) without dropout or update. */
  _lossGrad(images, labels) {
    const ptr = this.ptr;
    const B = this._images('lossGrad', images);
    const lab = v.labels('lossGrad labels', labels, B, this.classes);
    const core = this._core;
    const loss = core.scoped((s) => {
      const po = s.zeros(2);
      core.check(core.x.gl_stn_loss_grad(ptr, po, s.put(images), s.put(lab), B), 'STN lossGrad');
      return s.get(po, 1)[0];
    });
    return { loss, grad: this._grads() };
  }
}

/** g.createSTN and g.loadSTN for one core (and the schema they follow). */
export function makeStnModel(core) {
  return defineModel(core, STNModel);
}
