// ntm.js: the Neural Turing Machine panel's controller in the worker. The five tasks of the paper
// (Graves et al. 2014, sec. 4.1-4.5), one model each: the pretrained 'ntm-<task>' where the build
// ships it (found at run time: g.pretrained either has the name or not), else a fresh model the
// page can train here on small instances. Examples come from the library (taskExample / runTask,
// which also check an edited input against the task's rules); one head's addressing taken apart
// with g.ntm.address on a small demo memory.
import { post, ModelSlot } from './common.js';

export const TASK_NAMES = ['copy', 'repeat-copy', 'recall', 'ngrams', 'sort'];

/**
 * Per task: the architecture of a fresh model (the shipped ones carry their own), the sizes the
 * shipped model was trained on (the paper's, as scripts/ntm_tasks_train.js) and the small sizes the
 * page trains a fresh model on (a few minutes in a browser instead of hours).
 */
const TASKS = {
  copy: { fresh: {}, paper: { minLength: 1, maxLength: 20 }, inPage: { minLength: 1, maxLength: 20 } },
  'repeat-copy': {
    fresh: {},
    paper: { minLength: 1, maxLength: 10, minRepeats: 1, maxRepeats: 10 },
    inPage: { minLength: 1, maxLength: 5, minRepeats: 1, maxRepeats: 4 },
  },
  recall: { fresh: {}, paper: { minItems: 2, maxItems: 6, itemLength: 3 }, inPage: { minItems: 2, maxItems: 4, itemLength: 3 } },
  // The paper's sort network is a feed-forward controller with 8 heads; a fresh one here is
  // smaller (100 units instead of 512) so that it trains at a visible pace.
  sort: { fresh: { controllerType: 'feedforward', controller: 100, heads: 8 }, paper: { length: 20, outputLength: 16 }, inPage: { length: 10, outputLength: 8 } },
  ngrams: { fresh: {}, paper: { length: 200 }, inPage: { length: 100 } },
};
const BATCH = 8;
const TRACE_EVERY_MS = 3000; // the page's example is run again while training

/** The example sizes the page asks for, as taskExample options (each size fixed: min = max). */
function exampleOptions(task, s) {
  switch (task) {
    case 'copy': return { minLength: s.length, maxLength: s.length };
    case 'repeat-copy': return { minLength: s.length, maxLength: s.length, minRepeats: s.repeats, maxRepeats: s.repeats };
    case 'recall': return { minItems: s.items, maxItems: s.items, itemLength: s.itemLength ?? 3 };
    case 'sort': return { length: s.length, outputLength: s.outputLength };
    case 'ngrams': return { length: s.length };
    default: throw new RangeError(`unknown NTM task '${task}'`);
  }
}

/** The NTM request handlers over the loaded instance g and the library lib. */
export function ntmController({ g, lib }) {
  const slots = {};
  const loading = {};
  for (const task of TASK_NAMES) {
    slots[task] = new ModelSlot(g, `ntm-${task}`, () => g.createNTM({ task, seed: 1, ...TASKS[task].fresh }));
  }
  let demo = null; // { R, C, memory, noise }: the addressing demo's memory and key noise
  const last = {}; // task → the page's last input, re-run while that task trains
  const shipped = {}; // task → true once its pretrained weights loaded (Load pretrained can bring them back)

  const taskOf = (msg) => {
    const task = msg?.task ?? 'copy';
    if (!Object.hasOwn(slots, task)) throw new RangeError(`unknown NTM task '${task}' (one of ${TASK_NAMES.join(', ')})`);
    return task;
  };

  /** The task's model (one load at a time per task). A missing name in g.pretrained is "not shipped", not an error. */
  async function model(task) {
    const slot = slots[task];
    if (slot.model) return slot.model;
    loading[task] ??= slot.get().finally(() => (loading[task] = null));
    const m = await loading[task];
    if (slot.pretrained) shipped[task] = true;
    else if (slot.note && /must be one of/.test(slot.note)) slot.note = `g.pretrained has no 'ntm-${task}' in this build`;
    return m;
  }

  /** What the page shows about a task's model: where it came from, its sizes, the range it was trained on. */
  const info = (task) => (m) => {
    const slot = slots[task];
    return slot.info({
      task,
      shipped: slot.pretrained || shipped[task] === true,
      architecture: m.architecture,
      controllerType: m.config.controllerType,
      controller: m.config.controller,
      bits: m.bits,
      R: m.R,
      C: m.C,
      readHeads: m.readHeads,
      writeHeads: m.writeHeads,
      inputWidth: m.inputWidth,
      outputWidth: m.outputWidth,
      parameterCount: m.parameterCount,
      trainRange: slot.pretrained ? TASKS[task].paper : TASKS[task].inPage,
      inPageRange: TASKS[task].inPage,
      paperRange: TASKS[task].paper,
      batch: BATCH,
    });
  };

  /** Run one example (its input, edited or fresh) with the traces the page draws. */
  function run(task, m, example) {
    const r = m.runTask(example);
    last[task] = { input: r.input.slice() };
    return {
      ...r,
      task,
      bits: m.bits,
      R: m.R,
      C: m.C,
      readHeads: m.readHeads,
      writeHeads: m.writeHeads,
      pretrained: slots[task].pretrained,
      trainedSteps: slots[task].training.step,
    };
  }

  /** Training a fresh model on the task's small in-page sizes; the page's example is re-run every few seconds. */
  const trainLoop = (task) => async (token) => {
    const slot = slots[task];
    const m = slot.trainable();
    const train = slot.training;
    const batch = { batch: BATCH, ...TASKS[task].inPage };
    let lastTrace = 0;
    await train.slices(token, m, () => batch, (r, sequencesPerSecond) => {
      post({ event: 'ntm.progress', task, step: train.step, loss: r.mean.loss, bitErrors: r.mean.bitErrors, sequencesPerSecond });
      if (last[task] && performance.now() - lastTrace > TRACE_EVERY_MS) {
        try {
          post({ event: 'ntm.trace', ...run(task, m, { input: last[task].input }) });
        } catch {
          last[task] = null; // the input no longer fits this model: the page asks again
        }
        lastTrace = performance.now();
      }
    }, 20);
  };

  const perTask = {};
  for (const task of TASK_NAMES) {
    perTask[task] = slots[task].requests('ntm', info(task), trainLoop(task));
    const init = perTask[task]['ntm.init'];
    perTask[task]['ntm.init'] = async () => {
      await model(task);
      return init();
    };
  }
  const route = (type) => async (msg) => perTask[taskOf(msg)][type](msg);

  return {
    /** Every task with its model (loaded now): shipped or fresh, sizes, training range. */
    'ntm.tasks': async () => {
      const tasks = [];
      for (const task of TASK_NAMES) tasks.push(info(task)(await model(task)));
      return { tasks };
    },
    'ntm.init': route('ntm.init'),
    /** Train the task's model (only one task trains at a time: the others pause). */
    'ntm.train': async (msg) => {
      const task = taskOf(msg);
      for (const t of TASK_NAMES) if (t !== task) slots[t].training.stop();
      await model(task);
      return perTask[task]['ntm.train'](msg);
    },
    'ntm.pause': route('ntm.pause'),
    'ntm.pretrained': route('ntm.pretrained'),
    /**
     * Run the task on an input (steps×inputWidth, e.g. the page's edit of an earlier one: the
     * library derives its target and checks the task's rules, a RangeError naming the step), or on
     * a fresh example of the given sizes from the stream `seed`.
     */
    'ntm.run': async (msg) => {
      const task = taskOf(msg);
      const m = await model(task);
      if (msg.input) return run(task, m, { input: msg.input });
      const ex = m.taskExample({ seed: msg.seed ?? 1, ...exampleOptions(task, msg.sizes ?? {}) });
      return run(task, m, ex);
    },
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
  };
}
