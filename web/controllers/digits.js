// digits.js: the 10,000 MNIST digits shipped with the package (lib.loadMnist), fetched once and
// shared by the panels, as one flat array: the loader's test split first, then its training split.
// Digits [0, nTest) are held out (what the page shows, test accuracy); [nTest, n) are trained on.

export class DigitSet {
  constructor(g, { train, test, height, width }) {
    this.g = g;
    this.H = height;
    this.W = width;
    this.n = test.count + train.count;
    this.nTest = test.count;
    this.nTrain = train.count;
    this.source = 'MNIST';
    const S = height * width;
    this.images = new Float32Array(this.n * S);
    this.images.set(test.images);
    this.images.set(train.images, test.count * S);
    this.labels = new Uint8Array(this.n);
    this.labels.set(test.labels);
    this.labels.set(train.labels, test.count);
  }

  /** Copies of the digits at indices idx: { images (count×H×W), labels }. */
  pick(idx) {
    const S = this.H * this.W;
    const images = new Float32Array(idx.length * S);
    const labels = new Uint8Array(idx.length);
    idx.forEach((k, i) => {
      images.set(this.images.subarray(k * S, (k + 1) * S), i * S);
      labels[i] = this.labels[k];
    });
    return { images, labels };
  }

  /** The digits at idx distorted by g.distort (kind: a key of g.distortions): { images, labels, size }. */
  distort(idx, kind, seed) {
    const { images, labels } = this.pick(idx);
    const r = this.g.distort(images, idx.length, kind, { seed: seed >>> 0 });
    return { images: r.images, labels, size: r.height };
  }

  /** `count` random indices of training digits, drawn with rand (a lib.seededRandom). */
  trainIndices(rand, count) {
    return Array.from({ length: count }, () => this.nTest + ((rand() * this.nTrain) | 0));
  }

  /** `count` random indices of held-out digits. */
  testIndices(rand, count) {
    return Array.from({ length: count }, () => (rand() * this.nTest) | 0);
  }

  /** Any integer wrapped onto a held-out digit's index. */
  heldOut(index) {
    return ((index % this.nTest) + this.nTest) % this.nTest;
  }
}

/** () => Promise<DigitSet>, loading once; a failed load is retried on the next call. */
export function digitLoader(g, loadMnist) {
  let promise = null;
  return () => {
    if (!promise) {
      promise = loadMnist().then((d) => new DigitSet(g, d));
      promise.catch(() => (promise = null));
    }
    return promise;
  };
}
