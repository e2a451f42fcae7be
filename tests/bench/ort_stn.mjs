#!/usr/bin/env node
// ort_stn.mjs: STN inference throughput in onnxruntime-web (its wasm backend, in Node), the peer of
// the "threads" section (tests/bench/threads.js) for model.predict(). A helper program like the
// torch_*.py scripts: it times with the shared protocol (common.js measureAsync) and prints one JSON
// object. It is a separate process per thread count because ONNX Runtime Web fixes its thread
// count once per process (ort.env.wasm.numThreads is read when its wasm is first initialised).
//
//   node tests/bench/ort_stn.mjs [--threads N] [--batch B] [--runs R] [--min-time S] [--warmup S] [--clock cpu|wall]
//
// The model: tests/bench/fixtures/stn28.onnx (written by tests/bench/export_stn_onnx.py: the PyTorch
// STN tutorial's Net at 28×28, eval mode, random seeded weights, opset 16 GridSample). Before timing
// it checks the session's output on the committed check batch (fixtures/stn28_check.bin) against
// PyTorch's (max |diff| ≤ 1e-4, else exit 1). One timed call = session.run() on a batch of B
// U(0,1) images (the input tensor made once; the output tensor is allocated by each run, as a
// caller pays it). In Node, onnxruntime-web loads dist/ort-wasm-simd-threaded.{mjs,wasm} from its
// package and runs its threads as worker_threads; if it cannot it falls back to one thread and
// says so by resetting ort.env.wasm.numThreads to 1, which is reported ("threads"), with the
// process's CPU time / wall time over the timed runs (≈ the threads actually busy).
import { readFileSync, readdirSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { measureAsync } from './common.js';

const FIX = new URL('./fixtures/', import.meta.url);
const CHECK_BATCH = 8, TOL = 1e-4, S = 28;

function args(argv) {
  const o = { threads: 1, batch: 64, runs: 7, minTime: 0.1, warmup: 0.25, clock: 'cpu' };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--threads') o.threads = Number(v);
    else if (k === '--batch') o.batch = Number(v);
    else if (k === '--runs') o.runs = Number(v);
    else if (k === '--min-time') o.minTime = Number(v);
    else if (k === '--warmup') o.warmup = Number(v);
    else if (k === '--clock') o.clock = v;
    else throw new Error(`unknown option ${k}`);
  }
  if (!(Number.isInteger(o.threads) && o.threads >= 1 && Number.isInteger(o.batch) && o.batch >= 1)) throw new Error('--threads and --batch must be positive integers');
  if (!['cpu', 'wall'].includes(o.clock)) throw new Error('--clock must be cpu or wall');
  return o;
}

async function main() {
  const o = args(process.argv.slice(2));
  ort.env.wasm.numThreads = o.threads;
  ort.env.wasm.proxy = false;
  const tasksBefore = readdirSync('/proc/self/task').length;
  const session = await ort.InferenceSession.create(readFileSync(new URL('stn28.onnx', FIX)), { executionProviders: ['wasm'] });
  const osThreadsAdded = readdirSync('/proc/self/task').length - tasksBefore;

  // the committed check batch: ORT must give PyTorch's outputs
  const buf = readFileSync(new URL('stn28_check.bin', FIX));
  const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const ref = f.subarray(CHECK_BATCH * S * S);
  const got = (await session.run({ images: new ort.Tensor('float32', f.slice(0, CHECK_BATCH * S * S), [CHECK_BATCH, 1, S, S]) })).log_probs.data;
  let maxAbsDiff = got.length === ref.length ? 0 : Infinity;
  for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - ref[i]));
  if (!(maxAbsDiff <= TOL)) throw new Error(`onnxruntime-web's output differs from PyTorch's on the check batch: max |diff| ${maxAbsDiff}`);

  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const x = new ort.Tensor('float32', Float32Array.from({ length: o.batch * S * S }, rand), [o.batch, 1, S, S]);
  const feeds = { images: x };
  const m = await measureAsync(async () => {
    const out = await session.run(feeds);
    out.log_probs.dispose?.();
  }, o);
  const version = ort.env.versions?.web ?? 'unknown';
  const cpuPerWall = m.cpuRuns ? m.cpuRuns.reduce((s, c, i) => s + c / m.wallRuns[i], 0) / m.runs.length : null;
  process.stdout.write(JSON.stringify({
    version, backend: 'wasm', threads: ort.env.wasm.numThreads, asked: o.threads, osThreadsAdded, cpuPerWall,
    batch: o.batch, check: { batch: CHECK_BATCH, maxAbsDiff },
    results: [{ runs: m.runs, iters: m.iters, wallRuns: m.wallRuns, clock: m.clock, cpuRuns: m.cpuRuns }],
  }) + '\n');
  await session.release();
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`ort_stn.mjs: ${e?.stack ?? e}\n`);
  process.exit(1);
});
