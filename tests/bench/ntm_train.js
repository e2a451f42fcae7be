// ntm_train.js: benchmark section "ntm-train": NTM copy-task training throughput (sequences/s) of
// the same model and batch on wasm-SIMD, wasm-scalar, native and PyTorch (one thread), with the
// NTM issue's target (wasm-SIMD ≥ 3× PyTorch).
//
// The model: 8-bit copy task, memory 128×20, LSTM controller of 100, one read and one write head,
// shifts −1..1 (src/ntm_model.c; tests/bench/torch_ntm.py is the same model in PyTorch). One timed
// call = one training step (forward over 2L+1 steps, BPTT, gradient clipping, Adam) for each
// length L = 1..20 with a batch of 16 random sequences: 320 sequences, the lengths of the issue's
// training distribution in equal proportion, identical for every engine. The wasm builds are
// timed in-process by calling gl_ntm_train_copy directly (no JS validation or copies); native and
// PyTorch run as helper programs (tests/native/bench_ntm.c, tests/bench/torch_ntm.py) that use the
// same timing protocol (common.js measure()) and print JSON.
import { Engines, trainingRatios, KIND, measure, withWasmModel, timingArgs, wasmEngines, nativeEngines } from './common.js';

export const name = 'ntm-train';
export const title = 'NTM copy task: training throughput (memory 128×20, LSTM 100, 1+1 heads, batch 16, lengths 1–20)';

const BATCH = 16, MIN_LENGTH = 1, MAX_LENGTH = 20;
const SEQ_PER_CALL = BATCH * (MAX_LENGTH - MIN_LENGTH + 1);

const ENGINES = [
  ...wasmEngines('gl_ntm_train_copy'),
  ...nativeEngines('bench_ntm'),
  { id: 'torch', what: 'tests/bench/torch_ntm.py: the same model in PyTorch (LSTMCell, autograd BPTT, Adam), 1 thread' },
];
const RATIOS = trainingRatios(3);

function timeWasm(g, profile) {
  const core = g._core, x = core.x;
  return withWasmModel(core, KIND.NTM, [8, 128, 20, 100, 0, 1, 1, 1, 1], (model, s) => { // the C defaults, seed 1
    const pres = s.zeros(4);
    return measure(() => {
      for (let L = MIN_LENGTH; L <= MAX_LENGTH; L++) {
        const rc = x.gl_ntm_train_copy(model, pres, BATCH, L, L);
        if (rc) core.check(rc, 'gl_ntm_train_copy');
      }
    }, profile);
  });
}

const helperArgs = (profile) => [...timingArgs(profile), '--batch', String(BATCH), '--min-length', String(MIN_LENGTH), '--max-length', String(MAX_LENGTH)];

export async function run({ profile }) {
  const eng = new Engines(name); // res: engine -> summary (seconds per call)
  await eng.wasm((g) => timeWasm(g, profile), { needs: 'gl_ntm_train_copy' });
  eng.native('bench_ntm', helperArgs(profile), { timeoutSec: 600 });
  eng.torch('torch_ntm.py', helperArgs(profile), { hint: 'slow: several seconds per call', timeoutSec: 1800 });

  const { rows, checks, tables } = eng.perEngine(ENGINES, RATIOS, {
    title: `${SEQ_PER_CALL} sequences per call (batch ${BATCH} × lengths ${MIN_LENGTH}–${MAX_LENGTH}, one training step each)`,
    rateKey: 'sequencesPerSec', rateLabel: 'sequences/s', perCall: SEQ_PER_CALL, timeLabel: 's/call',
  });
  const notes = [
    'sequences/s = sequences per call / seconds per call. The model: src/ntm_model.c defaults (8 bits + delimiter,',
    '  memory 128×20 initialised to 1e-6, LSTM 100, 1 read + 1 write head, shifts −1..1, BPTT over 2L+1 steps, clip 10, Adam).',
    ...eng.notes(profile, ENGINES, checks),
  ];
  return { title, notes, rows, checks, tables };
}
