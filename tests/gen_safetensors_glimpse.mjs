// gen_safetensors_glimpse.mjs: the glimpse side of tests/gen_fixtures_safetensors.py. Trains the
// default STN (the PyTorch tutorial's architecture) 120 SGD steps on the shipped digits, writes it
// with save({ format: 'safetensors' }) and its log-probabilities on the first N test digits.
//   node tests/gen_safetensors_glimpse.mjs OUT.safetensors OUT_LOGP.json N
import { writeFileSync } from 'node:fs';
import { load, loadMnist } from '../src/js/index.js';

const [out, logpOut, n] = process.argv.slice(2);
const N = Number(n);
const g = await load({ threads: 1 });
const { train, test } = await loadMnist();
const m = g.createSTN({ seed: 7 }); // defaults: 28×28, 10 classes, affine, SGD lr 0.01 momentum 0.9, dropout 0.5
for (let s = 0; s < 120; s++) m.trainBatch(train.images.subarray(s * 64 * 784, (s + 1) * 64 * 784), train.labels.subarray(s * 64, (s + 1) * 64));
writeFileSync(out, m.save({ format: 'safetensors' }));
const logits = m.predict(test.images.subarray(0, N * 784)).logits;
const logp = [];
for (let i = 0; i < N; i++) {
  const z = logits.subarray(i * 10, i * 10 + 10);
  const mx = Math.max(...z);
  const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
  for (const v of z) logp.push(v - lse);
}
writeFileSync(logpOut, JSON.stringify({ logp }));
g.close();
