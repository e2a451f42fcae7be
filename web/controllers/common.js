// common.js: what the worker's router and its panel controllers share: posting to the page (typed
// arrays transferred), errors as plain { name, message }, and training in slices with model.trainFor
// so that requests such as pause get through between slices.

/** An Error (or anything thrown) as the { name, message } the page's client rebuilds. */
export function errorInfo(e) {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** All typed-array buffers inside a message (results are fresh copies, safe to transfer). */
function transfers(x, out = new Set(), depth = 0) {
  if (x == null || depth > 4) return out;
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer && x.byteLength === x.buffer.byteLength) out.add(x.buffer);
  } else if (Array.isArray(x)) {
    for (const v of x) transfers(v, out, depth + 1);
  } else if (typeof x === 'object') {
    for (const v of Object.values(x)) transfers(v, out, depth + 1);
  }
  return out;
}

export function post(msg) {
  self.postMessage(msg, [...transfers(msg)]);
}

// Yield to the worker's event loop without setTimeout's 4 ms clamp on nested timers.
const tickChannel = new MessageChannel();
const tickWaiters = [];
tickChannel.port1.onmessage = () => tickWaiters.shift()?.();
const yieldTick = () => new Promise((r) => {
  tickWaiters.push(r);
  tickChannel.port2.postMessage(0);
});

/** Wall-clock time of one training slice between yields. */
const SLICE_MS = 40;
/** The window over which the shown throughput is measured (wall clock). */
const WALL_WINDOW_MS = 4000;

/**
 * A panel's training state: running / token (a newer start or a pause supersedes a loop) and step
 * (steps trained by this page's model). start(name, loop) runs loop(token) unless one runs already;
 * if it throws, training stops and the page gets a `${name}.stopped` event.
 */
export class Training {
  constructor() {
    this.running = false;
    this.token = 0;
    this.step = 0;
  }

  /** True while the loop started with `token` should go on. */
  live(token) {
    return this.running && this.token === token;
  }

  start(name, loop) {
    if (this.running) return;
    this.running = true;
    const token = ++this.token;
    loop(token).catch((e) => {
      this.running = false;
      post({ event: `${name}.stopped`, error: errorInfo(e) });
    });
  }

  stop() {
    this.running = false;
    this.token++;
  }

  /**
   * Train `model` in slices of model.trainFor(SLICE_MS, nextBatch) until stopped or superseded;
   * after each slice, report(slice, wallItemsPerSecond, stepItemsPerSecond) and yield. slice is
   * trainFor's result (steps, items, itemsPerSecond over that slice alone, mean of the step
   * results); this.step has already counted its steps.
   * wallItemsPerSecond is what a visitor can check against the epoch counter: items trained over
   * the wall-clock time of the loop in the last WALL_WINDOW_MS (everything between the slices
   * included: making batches, the test evaluation, drawing views, and the other panels training
   * in this same worker). stepItemsPerSecond times the model's own steps only (nextBatch
   * excluded) over the last `window` steps, as a loop over trainBatch / trainCopy would measure.
   */
  async slices(token, model, nextBatch, report, window) {
    const wall = [[performance.now(), 0]]; // [time, items trained by then], oldest first
    let itemsSoFar = 0;
    const times = [];
    let t1 = 0;
    const batch = (step) => {
      const b = nextBatch(step);
      t1 = performance.now();
      return b;
    };
    const timed = () => {
      times.push(performance.now() - t1);
      if (times.length > window) times.shift();
    };
    while (this.live(token)) {
      const r = model.trainFor(SLICE_MS, batch, timed);
      this.step += r.steps;
      itemsSoFar += r.items;
      const now = performance.now();
      wall.push([now, itemsSoFar]);
      while (wall.length > 2 && now - wall[1][0] >= WALL_WINDOW_MS) wall.shift();
      const wallRate = ((itemsSoFar - wall[0][1]) * 1000) / Math.max(1, now - wall[0][0]);
      const perStep = r.items / r.steps;
      report(r, wallRate, (times.length * perStep * 1000) / times.reduce((a, t) => a + t, 0));
      await yieldTick();
    }
  }
}

/**
 * The model of a panel that starts from shipped weights (DRAW, NTM): get() gives the pretrained
 * model `name`, or a fresh one from create() when the weights cannot be read (note says why);
 * trainable() is the page's own model, made fresh in place of the pretrained one.
 */
export class ModelSlot {
  constructor(g, name, create) {
    this.g = g;
    this.name = name;
    this.create = create;
    this.model = null;
    this.pretrained = false;
    this.note = null;
    this.training = new Training();
  }

  async get() {
    if (this.model) return this.model;
    try {
      this.model = await this.g.pretrained(this.name);
      this.pretrained = true;
      return this.model;
    } catch (e) {
      this.note = `pretrained weights unavailable: ${e.message}`;
      return this.fresh();
    }
  }

  fresh() {
    this.model?.free();
    this.model = this.create();
    this.pretrained = false;
    this.training.step = 0;
    return this.model;
  }

  trainable() {
    return this.pretrained || !this.model ? this.fresh() : this.model;
  }

  /** The shipped weights again, in place of a model trained here (the way back from "Train from scratch"). */
  async restore() {
    this.training.stop();
    const m = await this.g.pretrained(this.name); // throws (current model kept) when they cannot be read
    this.model?.free();
    this.model = m;
    this.pretrained = true;
    this.note = null;
    this.training.step = 0;
    return m;
  }

  /** Use `model` in place of the current one (training stopped; note says where it came from). */
  replace(model, note) {
    this.training.stop();
    this.model?.free();
    this.model = model;
    this.pretrained = false;
    this.note = note;
    this.training.step = 0;
    return model;
  }

  /** What the page shows about the model: where it came from, plus the panel's own fields. */
  info(fields) {
    return { pretrained: this.pretrained, note: this.note, ...fields, trainedSteps: this.training.step };
  }

  /**
   * The requests `${panel}.init` (info(model)), `${panel}.train` (trainLoop(token) unless it runs;
   * `${panel}.stopped` if it throws), `${panel}.pause` (info(model), or { running: false }) and
   * `${panel}.pretrained` (training stopped, the shipped weights reloaded: info(model)).
   */
  requests(panel, info, trainLoop) {
    return {
      [`${panel}.init`]: async () => info(await this.get()),
      [`${panel}.train`]: () => {
        this.training.start(panel, trainLoop);
        return { running: true };
      },
      [`${panel}.pause`]: () => {
        this.training.stop();
        return this.model ? info(this.model) : { running: false };
      },
      [`${panel}.pretrained`]: async () => info(await this.restore()),
    };
  }
}
