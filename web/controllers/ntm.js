// ntm.js: the Neural Turing Machine panel's controller in the worker. One head's addressing taken
// apart with g.ntm.address on a small demo memory, the copy task run by the pretrained 'ntm-copy'
// model (a fresh one when its weights are missing) with its traces, and training a fresh model.
import { post, ModelSlot } from './common.js';

const TRAIN = { batch: 8, minLength: 1, maxLength: 20 }; // the paper's copy-task curriculum range
const TRACE_EVERY_MS = 3000; // the page's sequence is run again while training

/** The NTM request handlers over the loaded instance g and the library lib. */
export function ntmController({ g, lib }) {
  const slot = new ModelSlot(g, 'ntm-copy', () => g.createNTM({ seed: 1 }));
  const train = slot.training;
  let demo = null; // { R, C, memory, noise }: the addressing demo's memory and key noise
  let last = null; // { sequence, length }: the page's last copy-task sequence

  // maxLength: the longest sequences this page trains on (and the shipped model was trained to).
  const info = (m) => slot.info({ bits: m.bits, R: m.R, C: m.C, maxLength: TRAIN.maxLength });

  /** The copy task on one sequence, with the traces reduced to the first read and write head. */
  function copy(m, seq, length) {
    const r = m.copy(seq, length);
    const steps = r.steps;
    const head0 = (a, heads) => {
      if (!a || heads === 1) return a;
      const out = new Float32Array(steps * m.R);
      for (let t = 0; t < steps; t++) out.set(a.subarray((t * heads) * m.R, (t * heads + 1) * m.R), t * m.R);
      return out;
    };
    return {
      output: r.output,
      readWeights: head0(r.readWeights, m.readHeads),
      writeWeights: head0(r.writeWeights, m.writeHeads),
      memory: r.memory,
      loss: r.loss,
      bitErrors: r.bitErrors,
      warning: r.warning ?? '', // set when the sequence is longer than the memory has rows
      sequence: seq,
      length,
      bits: m.bits,
      R: m.R,
      C: m.C,
      steps,
      // Time layout: the L inputs at steps 0..L−1, the delimiter at L, the L outputs after it.
      inputOffset: 0,
      outputOffset: steps - length,
    };
  }

  /** Training from scratch on random copy sequences; the page's sequence is re-run every few seconds. */
  async function trainLoop(token) {
    const m = slot.trainable();
    let lastTrace = 0;
    await train.slices(token, m, () => TRAIN, (r, sequencesPerSecond) => {
      post({ event: 'ntm.progress', step: train.step, loss: r.mean.loss, bitErrors: r.mean.bitErrors, sequencesPerSecond });
      if (last && performance.now() - lastTrace > TRACE_EVERY_MS) {
        post({ event: 'ntm.trace', ...copy(m, last.sequence.slice(), last.length) });
        lastTrace = performance.now();
      }
    }, 20);
  }

  return {
    ...slot.requests('ntm', info, trainLoop), // ntm.init, ntm.train, ntm.pause
    /**
     * One head's addressing taken apart (eqs. 5–9): g.ntm.address with the later stages switched
     * off (gate 1, identity shift, γ 1) gives each intermediate weighting from the real kernel.
     * The demo memory (R×C, values in [−1, 1]) and the key (row keyRow plus noise) live here.
     */
    'ntm.demo': ({ R, C, keyRow, beta, gate, shift, gamma, prev }) => {
      if (!demo || demo.R !== R || demo.C !== C) {
        const rand = lib.seededRandom(2014);
        const memory = new Float32Array(R * C).map(() => rand() * 2 - 1);
        const noise = new Float32Array(R * C).map(() => (rand() * 2 - 1) * 0.35);
        demo = { R, C, memory, noise };
      }
      const { memory, noise } = demo;
      const key = new Float32Array(C);
      for (let c = 0; c < C; c++) key[c] = memory[keyRow * C + c] + noise[keyRow * C + c];
      const id = new Float32Array(shift.length);
      id[(shift.length - 1) >> 1] = 1;
      const sh = Float32Array.from(shift);
      const base = { memory, key, beta, prev: Float32Array.from(prev) };
      const content = g.ntm.address({ ...base, gate: 1, shift: id, gamma: 1 }, [R, C]);
      const gated = g.ntm.address({ ...base, gate, shift: id, gamma: 1 }, [R, C]);
      const shifted = g.ntm.address({ ...base, gate, shift: sh, gamma: 1 }, [R, C]);
      const w = g.ntm.address({ ...base, gate, shift: sh, gamma }, [R, C]);
      return { memory: memory.slice(), key, keyRow, content, gated, shifted, w };
    },
    /** Run the copy task on a given (or random) sequence; returns the whole trace for the page. */
    'ntm.copy': async ({ sequence, length, seed = 1 }) => {
      const m = await slot.get();
      let seq = sequence;
      if (!seq) {
        const rand = lib.seededRandom(seed * 31 + length);
        seq = new Float32Array(length * m.bits).map(() => (rand() < 0.5 ? 1 : 0));
      }
      last = { sequence: seq.slice(), length };
      return copy(m, seq, length);
    },
  };
}
