// draw.js: the DRAW panel's controller in the worker. The read filterbank taken apart with the
// g.draw kernels, the pretrained 'draw-mnist' model (a fresh one when its weights are missing)
// generating and reconstructing step by step, and training a fresh model in slices.
import { post, ModelSlot } from './common.js';

const BATCH = 16; // small batches: a step is ~1/4 s in wasm, so the curve moves and pause answers quickly
const SAMPLE_EVERY_MS = 3000; // a fresh sample while training

/** The DRAW request handlers over the loaded instance g, the library lib and the shared digits. */
export function drawController({ g, lib, digits }) {
  const slot = new ModelSlot(g, 'draw-mnist', () => g.createDRAW({ seed: 1 }));
  const train = slot.training;
  let sampleSeed = 1; // the seed of the page's last sample, drawn again while training

  const info = (m) => slot.info({ steps: m.steps, readN: m.config.readN, writeN: m.config.writeN });

  function trace(m, r, count) {
    return { steps: r.steps, count, H: m.height, W: m.width, canvases: r.canvases, write: r.write ?? null, read: r.read ?? null };
  }

  /** Training from scratch on batches of training digits; a fresh sample every few seconds. */
  async function trainLoop(token) {
    const d = await digits();
    const m = slot.trainable();
    const rand = lib.seededRandom(77 + train.step);
    let lastSample = 0;
    await train.slices(token, m, () => d.pick(d.trainIndices(rand, BATCH)).images, (r, imagesPerSecond) => {
      post({
        event: 'draw.progress',
        step: train.step,
        loss: r.mean.loss,
        reconstruction: r.mean.reconstruction,
        kl: r.mean.kl,
        imagesPerSecond,
        epoch: (train.step * BATCH) / d.nTrain,
      });
      if (performance.now() - lastSample > SAMPLE_EVERY_MS) {
        post({ event: 'draw.sample', ...trace(m, m.generate({ count: 1, seed: sampleSeed }), 1) });
        lastSample = performance.now();
      }
    }, 20);
  }

  return {
    ...slot.requests('draw', info, trainLoop), // draw.init, draw.train, draw.pause
    /**
     * A fresh model of the given createDRAW options in place of the current one (e.g. { T: 64,
     * readN: 2, writeN: 5 }): how tests/e2e.test.js checks the panel at the paper's T = 64 before
     * the shipped model has it. Load pretrained brings the shipped one back.
     */
    'draw.create': ({ options }) => info(slot.replace(g.createDRAW({ seed: 1, ...options }), `a fresh model with ${Object.entries(options).map(([k, v]) => `${k} ${v}`).join(', ')}, made in the page`)),
    'draw.digit': async ({ index }) => {
      const d = await digits();
      const k = d.heldOut(index);
      const { images, labels } = d.pick([k]);
      return { image: images, label: labels[0], H: d.H, W: d.W, index: k, source: d.source };
    },
    'draw.glimpse': ({ image, H, W, N, params }) => {
      const p = Float32Array.from(params);
      const size = [1, N, W, H]; // [batch, N, A (columns), B (rows)]
      const read = g.draw.read(image, new Float32Array(H * W), p, size);
      const glimpse = read.slice(0, N * N); // the x half of [x, x̂]
      const fb = g.draw.filterbank(p, size);
      const back = g.draw.write(glimpse, p, size);
      return { glimpse, Fx: fb.Fx, Fy: fb.Fy, gamma: fb.gamma[0], back, N, H, W };
    },
    'draw.generate': async ({ seed = 1, count = 1 }) => {
      const m = await slot.get();
      sampleSeed = seed;
      return trace(m, m.generate({ count, seed }), count);
    },
    'draw.reconstruct': async ({ index = 0 }) => {
      const m = await slot.get();
      const d = await digits();
      const { images } = d.pick([d.heldOut(index)]);
      return { ...trace(m, m.reconstruct(images, { seed: index >>> 0 }), 1), target: images };
    },
  };
}
