// stn.js: the Spatial Transformer panel's controller in the worker. A display batch of distorted
// held-out digits, the transformer applied to it (the model's θ, or θ from the page's controls via
// g.stn.affineTheta), training on freshly distorted batches with a periodic test evaluation, the
// pretrained 'stn-mnist' model (on the distortion its weights record) and the drawing pad.
import { post, Training } from './common.js';

const TEST_COUNT = 500; // held-out digits, distorted once, on which test accuracy is measured
const TEST_SEED = 424242;
const EVAL_CHUNK = 250; // test images per evaluate() call while training, so a slice stays short
const VIEW_COUNT = 16;

/**
 * Downsample a pad drawing (P×P, [0,1]: 0 background, 1 ink) to S×S by area averaging. The whole
 * pad becomes the model's whole S×S input canvas, the way g.distort places training digits on it
 * (RTS: a 28×28 digit scaled 0.7-1.2 somewhere on 42×42), so a digit drawn a third to half the
 * pad's height, anywhere, matches what the network was trained on.
 */
function downsample(src, P, S) {
  const out = new Float32Array(S * S);
  const f = P / S;
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      let s = 0, n = 0;
      for (let y = Math.floor(r * f); y < Math.floor((r + 1) * f); y++) {
        for (let x = Math.floor(c * f); x < Math.floor((c + 1) * f); x++) {
          s += src[y * P + x];
          n++;
        }
      }
      out[r * S + c] = n ? Math.min(1, s / n) : 0;
    }
  }
  return out;
}

/** The STN request handlers over the loaded instance g, the library lib and the shared digits. */
export function stnController({ g, lib, digits }) {
  const stn = {
    kind: 'RTS', // a key of g.distortions
    seed: 1,
    view: null, // { images, labels, N, S }: the displayed batch of distorted inputs
    model: null, // a g.createSTN / pretrained model, or null until it exists
    pretrained: false,
    seen: 0, // training images since the model was made
    test: null, // { images, labels, N, S, kind, n }: the fixed distorted test set
    evalState: null, // { pos, correct } while a chunked test evaluation is under way
    lastAccuracy: null,
  };
  const train = new Training();

  function forgetModel() {
    stn.model?.free();
    stn.model = null;
    stn.pretrained = false;
    train.step = 0;
    stn.seen = 0;
    stn.lastAccuracy = null;
  }

  async function sample({ kind, count = VIEW_COUNT, seed }) {
    const d = await digits();
    if (kind) stn.kind = kind;
    stn.seed = seed ?? stn.seed + 1;
    const rand = lib.seededRandom(stn.seed * 7919);
    // Display digits come from the held-out part, so what the page shows is never trained on.
    const b = d.distort(d.testIndices(rand, count), stn.kind, stn.seed);
    stn.view = { images: b.images, labels: b.labels, N: count, S: b.size };
    return { images: b.images.slice(), labels: b.labels.slice(), N: count, S: b.size, source: d.source };
  }

  /**
   * The same θ from the page's controls for all N images (S×S), the images sampled on its grid at
   * So×So (the classifier's input side when there is a network, else S), and with a network its
   * reading of them (model.classify: the classifier alone, through this θ instead of its own).
   */
  function manualTransform(images, N, S, controls) {
    const t = g.stn.affineTheta(controls ?? {});
    const theta = new Float32Array(N * 6);
    for (let i = 0; i < N; i++) theta.set(t, i * 6);
    // the page's models are square (createSTN below; the pretrained one is checked square on load)
    const m = stn.model && stn.model.height === S && stn.model.width === S && stn.model.outputHeight === stn.model.outputWidth ? stn.model : null;
    if (stn.model && !m) throw new Error(`worker: the network takes ${stn.model.height}×${stn.model.width} inputs, not ${S}×${S}`);
    const So = m ? m.outputHeight : S;
    const output = g.stn.gridSample(images, [N, 1, S, S], g.stn.affineGrid(theta, [N, 1, So, So]), [So, So]);
    return { theta, output, So, scores: m ? m.classify(output) : null };
  }

  /** The transformer applied to the display batch: the model's θ when there is one, else the editable θ. */
  function transformView(manual) {
    const v = stn.view;
    if (!v) throw new Error('worker: no STN batch yet (stn.sample first)');
    const { N, S } = v;
    if (stn.model && !manual) {
      const r = stn.model.transform(v.images);
      const p = stn.model.predict(v.images);
      return { theta: r.theta, output: r.output, labels: v.labels.slice(), predicted: p.labels, N, S, So: stn.model.outputHeight, from: 'model' };
    }
    const { theta, output, So, scores } = manualTransform(v.images, N, S, manual);
    return { theta, output, labels: v.labels.slice(), predicted: scores ? scores.labels : null, N, S, So, from: 'manual' };
  }

  /** The model for the current distortion: kept while it is the one trained on it, else a fresh one. */
  function ensureModel() {
    if (stn.model && stn.model.distortion === stn.kind) return stn.model;
    forgetModel();
    const S = g.distortions[stn.kind].side;
    // Adam rather than the tutorial's SGD: on this page the network should visibly learn in seconds.
    // The 60×60 cluttered canvas is sampled down to a 30×30 glimpse, as in the README's table
    // (a 60×60 classifier costs about 8× a 28×28 step).
    const outputSize = S > 42 ? [S / 2, S / 2] : [S, S];
    stn.model = g.createSTN({ height: S, width: S, classes: 10, seed: 1, optimizer: 'adam', outputSize, distortion: stn.kind });
    return stn.model;
  }

  async function testSet() {
    const d = await digits();
    if (stn.test && stn.test.kind === stn.kind && stn.test.n === d.n) return stn.test;
    const N = Math.min(TEST_COUNT, d.nTest);
    const b = d.distort(Array.from({ length: N }, (_, i) => i), stn.kind, TEST_SEED);
    stn.test = { images: b.images, labels: b.labels, N, S: b.size, kind: stn.kind, n: d.n };
    return stn.test;
  }

  /** Test accuracy on the whole test set, in one evaluate() call. */
  function evaluateAll() {
    stn.evalState = null;
    stn.lastAccuracy = stn.model.evaluate(stn.test.images, stn.test.labels).accuracy;
    return stn.lastAccuracy;
  }

  /** The next EVAL_CHUNK test images through evaluate(); the accuracy once the last chunk is done, else null. */
  function evaluateChunk() {
    const t = stn.test;
    const e = (stn.evalState ??= { pos: 0, correct: 0 });
    const n = Math.min(EVAL_CHUNK, t.N - e.pos);
    const pix = t.S * t.S;
    const r = stn.model.evaluate(t.images.subarray(e.pos * pix, (e.pos + n) * pix), t.labels.subarray(e.pos, e.pos + n));
    e.correct += Math.round(r.accuracy * n);
    e.pos += n;
    if (e.pos < t.N) return null;
    stn.evalState = null;
    stn.lastAccuracy = e.correct / t.N;
    return stn.lastAccuracy;
  }

  /**
   * Training on freshly distorted batches of training digits, in slices: after each, post progress,
   * do a chunk of the periodic test evaluation and refresh the view now and then.
   * imagesPerSecond is wall clock (images trained over the loop's elapsed time in the last few
   * seconds: everything included, also the other panels training in this worker), what the epoch
   * counter moves by; stepImagesPerSecond counts the model's trainBatch time alone over the last
   * 50 batches, as a Node loop over trainBatch would measure.
   */
  async function trainLoop(token, batch) {
    const d = await digits();
    const test = await testSet();
    const model = ensureModel();
    const rand = lib.seededRandom(1000 + train.step);
    let lastView = 0, lastEval = performance.now();
    stn.evalState = null;
    if (stn.lastAccuracy === null) post({ event: 'stn.eval', accuracy: evaluateAll(), step: train.step });
    const nextBatch = () => d.distort(d.trainIndices(rand, batch), stn.kind, (rand() * 2 ** 31) | 0);
    await train.slices(token, model, nextBatch, (r, imagesPerSecond, stepImagesPerSecond) => {
      const now = performance.now();
      stn.seen += r.items;
      post({
        event: 'stn.progress',
        step: train.step,
        loss: r.mean.loss,
        accuracy: r.mean.accuracy,
        imagesPerSecond,
        stepImagesPerSecond,
        epoch: stn.seen / d.nTrain,
      });
      if (stn.evalState || now - lastEval > 3000) {
        const a = evaluateChunk();
        if (a !== null) {
          post({ event: 'stn.eval', accuracy: a, step: train.step });
          lastEval = performance.now();
        }
      }
      if (now - lastView > 500 && stn.view && stn.view.S === test.S) {
        post({ event: 'stn.view', ...transformView(null) });
        lastView = performance.now();
      }
    }, 50);
  }

  /** The pretrained model and the distortion its weights record (an Error when they record none). */
  async function loadPretrained() {
    const m = await g.pretrained('stn-mnist');
    const kind = m.distortion;
    const known = g.distortions[kind];
    let why = null;
    if (kind === 'none') why = 'its weights do not record the distortion it was trained on';
    else if (!known) why = `its weights record the distortion '${kind}', which is not one of ${Object.keys(g.distortions).join(', ')}`;
    else if (known.side !== m.height || known.side !== m.width) {
      why = `it takes ${m.height}×${m.width} images but its distortion ${kind} makes ${known.side}×${known.side}`;
    }
    if (why) {
      m.free();
      throw new Error(`the pretrained STN cannot be shown: ${why}`);
    }
    return m;
  }

  return {
    'stn.sample': (m) => sample(m),
    'stn.apply': (m) => transformView(m.manual ?? {}),
    'stn.view': () => transformView(stn.model ? null : {}),
    'stn.train': (m) => {
      if (m.kind && m.kind !== stn.kind) {
        stn.kind = m.kind;
        stn.test = null;
      }
      train.start('stn', (token) => trainLoop(token, m.batch ?? 64));
      return { running: true };
    },
    'stn.pause': () => {
      train.stop();
      return { running: false, step: train.step };
    },
    'stn.reset': () => {
      train.stop();
      forgetModel();
      return { reset: true };
    },
    'stn.pretrained': async () => {
      train.stop();
      const m = await loadPretrained();
      forgetModel();
      stn.model = m;
      stn.pretrained = true;
      stn.kind = m.distortion;
      stn.test = null;
      await testSet();
      return { size: m.height, kind: stn.kind, accuracy: evaluateAll(), description: g.distortions[stn.kind].description };
    },
    /**
     * The pad through the same rule as the display batch: the network's θ and its prediction when
     * there is a network and no manual θ is given; the manual θ otherwise, and with a network the
     * classifier's reading through that θ.
     */
    'stn.classify': ({ pad, P, manual }) => {
      const S = stn.model ? stn.model.height : stn.view?.S ?? g.distortions[stn.kind].side;
      const image = downsample(pad, P, S);
      if (stn.model && !manual) {
        const r = stn.model.transform(image);
        const p = stn.model.predict(image);
        return { S, So: stn.model.outputHeight, image, output: r.output, theta: r.theta, label: p.labels[0], probs: p.probabilities, from: 'model' };
      }
      const { theta, output, So, scores } = manualTransform(image, 1, S, manual);
      return { S, So, image, output, theta, label: scores ? scores.labels[0] : null, probs: scores ? scores.probabilities : null, from: 'manual' };
    },
  };
}
