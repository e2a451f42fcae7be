// Type-checked (never run) by tests/types.test.js with lib es2022 only: no DOM lib and no
// @types/node, as in a library or a Deno/Bun project. The main entry's declarations must not need
// either (URL, Worker, Blob, ...).
import { load, loadMnist, loadIdx, loadStandardMnist } from 'glimpse-wasm';
import type { Glimpse, UrlLike } from 'glimpse-wasm';

export async function usageNoDom(url: UrlLike): Promise<void> {
  const g: Glimpse = await load({ threads: 1 });
  const m = g.createSTN({ seed: 1 });
  const mnist = await loadMnist({ url });
  m.trainBatch(mnist.train.images.subarray(0, 784), mnist.train.labels.subarray(0, 1));
  const idx = await loadIdx('train-images-idx3-ubyte');
  const std = await loadStandardMnist({ url: 'https://example.org/mnist/' });
  void idx; void std;
  m.free();
  g.close();
}
