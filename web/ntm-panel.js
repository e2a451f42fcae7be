// ntm-panel.js: the Neural Turing Machine panel. Left: the five tasks of the paper (sec. 4.1-4.5)
// run by their models: input, target and output over time as bit rasters, the write and read
// weightings over time × memory location as heat maps and the memory at each step, as in the
// paper's memory-use figures; the input is editable within the task's rules and its sizes go past
// the training range. Right: one head's addressing (g.ntm.address) taken apart stage by stage.
// Only DOM and canvas work here; every number comes from the worker.
import { fitCanvas, drawValues, valuesCanvas, placeholder, bars, widthOf, lineChart, reducedMotion } from './paint.js';
import { TASK_UI, flipBit, queryIndex, setQuery, setPriority, firstScored } from './ntm-tasks.js';

const $ = (id) => document.getElementById(id);
const R = 16; // rows of the demo memory
const C = 8; // columns of the demo memory
const CELL = 24; // an input bit's least width and height in CSS px (WCAG 2.5.8 target size), also on a phone
const SMALL = 12; // row height of the target and output rasters (shown, not clicked)
const ROW_H = { bit: CELL, marker: 12, count: CELL, priority: 34 };
const HEAT_H = 130; // a heat map of one head; several heads are stacked at HEAD_H each
const HEAD_H = 40;
const STEP_MS = [40, 220]; // the animation: about 6 s per pass, within these bounds per step
const BUTTONS = ['ntm-play', 'ntm-random', 'ntm-step', 'ntm-train'];

export class NtmPanel {
  constructor(client) {
    this.client = client;
    this.caps = null;
    // address demo
    this.prev = null;
    this.history = [];
    this.demo = null;
    this.demoPlaying = false;
    this.demoTimer = null;
    this.demoBusy = false;
    this.demoQueued = false;
    // the tasks
    this.tasks = {}; // task → the worker's info on its model
    this.task = 'copy';
    this.sizes = {}; // task → { key: value } of the size sliders
    this.seeds = {}; // task → the seed of its examples
    this.curves = {}; // task → [[step, wrong bits]] of training here
    this.trace = null; // the last run: the library's runTask result plus the model's sizes
    this.input = null; // the input shown (an edit of trace.input; may break the rules: this.invalid)
    this.invalid = null; // { message, step } when the edited input breaks the task's rules
    this.t = 0;
    this.playing = false;
    this.timer = null;
    this.training = false;
    this.cursor = { t: 0, c: 0 }; // the keyboard's input cell
    this.runBusy = false;
    this.runQueued = null;
    this.head = 'all';
    this.view = null; // what a trace needs drawn at every step (heat maps, ranges), made once per trace
    this._wire();
    client.on('ntm.progress', (m) => this._progress(m));
    client.on('ntm.trace', (tr) => {
      if (tr.task === this.task && !this.invalid) this._setTrace(tr);
    });
    client.on('ntm.stopped', (m) => {
      this._setTraining(false);
      $('ntm-model').textContent = `Training stopped: ${m.error?.message}`;
    });
    this.reset();
    window.addEventListener('resize', () => {
      if (this.demo) this._drawDemo();
      if (this.trace) this._drawAll();
    });
  }

  reset() {
    this._stopDemo();
    this._stop();
    this.caps = null;
    this.trace = null;
    this.input = null;
    this.view = null;
    this.prev = oneHot(0);
    this.history = [];
    this.curves = {};
    this._setTraining(false);
    $('ntm-train-stat').textContent = '';
    $('ntm-loss-chart').hidden = true;
    this._disable();
    placeholder($('ntm-input'), 0, 8 * CELL, 'loading…');
    for (const id of ['ntm-target', 'ntm-output']) placeholder($(id), 0, 8 * SMALL, '');
    for (const id of ['ntm-write', 'ntm-read']) placeholder($(id), 0, HEAT_H, '');
    placeholder($('ntm-memory'), 0, 150, 'loading…');
    placeholder($('ntm-addr-memory'), 0, 176, 'loading…');
    placeholder($('ntm-addr-stages'), 0, 300, '');
    placeholder($('ntm-addr-history'), 0, 96, '');
    $('ntm-note').textContent = 'Loading the wasm core…';
    $('ntm-model').textContent = '';
    $('na-note').textContent = '';
    this._labels();
  }

  _disable() {
    for (const id of [...BUTTONS, 'ntm-pretrained']) $(id).disabled = true;
    for (const r of document.querySelectorAll('input[name="ntm-task"]')) r.disabled = true;
    for (const e of $('ntm-sizes').querySelectorAll('input, select')) e.disabled = true;
  }

  /** The worker is gone (the page shows the banner). */
  lost() {
    this._stop();
    this._stopDemo();
    this._setTraining(false);
    this._disable();
    $('ntm-note').textContent = 'The compute worker stopped: press Restart worker above.';
  }

  unavailable(error) {
    placeholder($('ntm-memory'), 0, 150, 'the wasm core did not load');
    placeholder($('ntm-addr-memory'), 0, 176, 'the wasm core did not load');
    $('ntm-note').textContent = error.message;
  }

  async ready(info) {
    this.caps = info.caps;
    if (this.caps.ntm) {
      await this._address();
    } else {
      placeholder($('ntm-addr-memory'), 0, 176, ['the addressing demo needs', 'g.ntm.address']);
      placeholder($('ntm-addr-stages'), 0, 300, 'waiting for the NTM kernels (g.ntm)');
      $('na-note').textContent = 'Waits for the NTM kernels (g.ntm.address).';
    }
    if (this.caps.createNTM) {
      await this._initTasks();
    } else {
      placeholder($('ntm-memory'), 0, 150, ['The memory matrix over time appears here once', 'the NTM model (g.createNTM) is in this build.']);
      $('ntm-note').textContent = 'The tasks wait for g.createNTM. The addressing demo on the right shows the mechanism they rely on.';
    }
  }

  // ----- wiring

  _wire() {
    for (const id of ['na-key', 'na-beta', 'na-gate', 'na-gamma', 'na-sm', 'na-sp']) {
      $(id).addEventListener('input', () => {
        this._labels();
        this._address();
      });
    }
    $('na-step').addEventListener('click', () => this._demoStep());
    $('na-play').addEventListener('click', () => (this.demoPlaying ? this._stopDemo() : this._playDemo()));
    $('na-reset').addEventListener('click', () => {
      this._stopDemo();
      this.prev = oneHot(0);
      this.history = [];
      this._address();
    });

    for (const r of document.querySelectorAll('input[name="ntm-task"]')) {
      r.addEventListener('change', () => r.checked && this._selectTask(r.value));
    }
    $('ntm-play').addEventListener('click', () => (this.playing ? this._stop() : this._play()));
    $('ntm-step').addEventListener('input', () => {
      this._stop();
      this.t = Number($('ntm-step').value) - 1;
      this._drawStep();
      if (this.view) this._scrollTo(this.t * this.view.cw, this.view.cw);
    });
    $('ntm-random').addEventListener('click', () => {
      this.seeds[this.task] = (this.seeds[this.task] ?? 1) + 1;
      this._run();
    });
    $('ntm-train').addEventListener('click', () => (this.training ? this._pauseTraining() : this._train()));
    $('ntm-pretrained').addEventListener('click', () => this._pretrained());
    $('ntm-head').addEventListener('change', () => {
      this.head = $('ntm-head').value;
      if (this.trace) this._drawStep();
    });

    // While playing, the strip follows the step; a visitor who scrolls it (to reach a bit on a
    // phone, say) keeps the view for 4 s after the last scroll.
    this.followAfter = 0;
    $('ntm-bits').addEventListener('scroll', () => {
      if (this.ownScroll) this.ownScroll = false;
      else this.followAfter = performance.now() + 4000;
    }, { passive: true });

    const inp = $('ntm-input');
    // The keyboard cursor goes where the pointer went down (before the focus that draws it).
    inp.addEventListener('pointerdown', (e) => {
      const hit = this._hit(e);
      if (hit && this._editable(hit.t).includes(hit.c)) this.cursor = { t: hit.t, c: hit.c };
      else if (hit?.kind === 'priority' && hit.t < this.trace.sizes.length) this.cursor = { t: hit.t, c: this.cursor.c };
    });
    inp.addEventListener('click', (e) => {
      const hit = this._hit(e);
      if (!hit) return;
      if (hit.kind === 'priority' && this.task === 'sort' && hit.t < this.trace.sizes.length) {
        // The priority row is a bar chart over [−1, 1]: a click sets the bar's height.
        this._edit(setPriority(this.trace, this.input, hit.t, 1 - 2 * hit.fy));
        this._priorityControl();
        return;
      }
      if (this._editable(hit.t).includes(hit.c)) this._flip(hit.t, hit.c);
    });
    // Keyboard: the arrow keys move a cursor over the editable bits, Space or Enter flips the bit
    // under it; in priority sort + and − (or PageUp / PageDown) change its vector's priority.
    inp.addEventListener('keydown', (e) => {
      if (!this.trace || !this.input) return;
      const c = this.cursor;
      const steps = this._editSteps();
      if (!steps.length) return;
      const key = e.key;
      if (key === 'ArrowLeft' || key === 'ArrowRight' || key === 'Home' || key === 'End') {
        e.preventDefault();
        const i = steps.indexOf(c.t);
        const j = key === 'Home' ? 0 : key === 'End' ? steps.length - 1 : Math.max(0, Math.min(steps.length - 1, (i < 0 ? 0 : i) + (key === 'ArrowLeft' ? -1 : 1)));
        c.t = steps[j];
        const chans = this._editable(c.t);
        if (!chans.includes(c.c)) c.c = chans[Math.min(chans.length - 1, Math.max(0, c.c))] ?? chans[0];
        this._cursorMoved();
      } else if (key === 'ArrowUp' || key === 'ArrowDown') {
        e.preventDefault();
        const chans = this._editable(c.t);
        const i = Math.max(0, chans.indexOf(c.c));
        c.c = chans[Math.max(0, Math.min(chans.length - 1, i + (key === 'ArrowUp' ? -1 : 1)))];
        this._cursorMoved();
      } else if (key === ' ' || key === 'Enter') {
        e.preventDefault();
        this._flip(c.t, c.c);
      } else if (this.task === 'sort' && ['+', '=', '-', '_', 'PageUp', 'PageDown'].includes(key)) {
        e.preventDefault();
        const up = key === '+' || key === '=' || key === 'PageUp';
        const p = this.input[c.t * this.trace.inputWidth + this.trace.bits];
        this._edit(setPriority(this.trace, this.input, c.t, p + (up ? 0.1 : -0.1)));
        this._priorityControl();
        this._announceCursor();
      }
    });
    inp.addEventListener('focus', () => {
      if (this.trace) this._drawInput();
      this._announceCursor();
    });
    inp.addEventListener('blur', () => this.trace && this._drawInput());
  }

  _cursorMoved() {
    this._drawInput();
    this._scrollTo(this.cursor.t * this.view.cw, this.view.cw);
    if (this.task === 'sort') this._priorityControl();
    this._announceCursor();
  }

  /** The input cell under a pointer event: { t, c, kind, fy (0..1 within the row) } or null. */
  _hit(e) {
    if (!this.trace || !this.view) return null;
    const r = $('ntm-input').getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const t = Math.floor(x / this.view.cw);
    if (t < 0 || t >= this.trace.steps) return null;
    const row = this.view.rows.find((w) => y >= w.y && y < w.y + w.h);
    return row ? { t, c: row.c, kind: row.kind, fy: (y - row.y) / row.h } : null;
  }

  _ui() {
    return TASK_UI[this.task];
  }

  _editable(t) {
    return this.trace ? this._ui().editable(this.trace, t) : [];
  }

  /** The steps with editable cells. */
  _editSteps() {
    const out = [];
    for (let t = 0; t < this.trace.steps; t++) if (this._editable(t).length) out.push(t);
    return out;
  }

  _flip(t, c) {
    if (!this._editable(t).includes(c)) return;
    this.cursor = { t, c };
    this._edit(flipBit(this.trace, this.input, t, c));
    this._announceCursor();
  }

  /** Run the model on an edited input (the library checks it against the task's rules). */
  _edit(input) {
    this.input = input;
    this._drawInput();
    this._run({ input });
  }

  _announceCursor() {
    if (!this.input || document.activeElement !== $('ntm-input')) return;
    const { t, c } = this.cursor;
    const tr = this.trace;
    const v = this.input[t * tr.inputWidth + c];
    const where = this._ui().where(tr, t);
    let text = this.task === 'ngrams' ? `${where}: ${v > 0.5 ? 1 : 0}` : `${where}, bit ${c + 1}: ${v > 0.5 ? 'on' : 'off'}`;
    if (this.task === 'sort') text += `, priority ${this.input[t * tr.inputWidth + tr.bits].toFixed(2)}`;
    $('ntm-cursor').textContent = text;
  }

  // ----- the tasks

  async _initTasks() {
    $('ntm-note').textContent = 'Loading the NTM models…';
    try {
      const { tasks } = await this.client.request('ntm.tasks');
      for (const info of tasks) this.tasks[info.task] = info;
      for (const r of document.querySelectorAll('input[name="ntm-task"]')) {
        const info = this.tasks[r.value];
        r.disabled = !info;
        const label = r.closest('label');
        label.classList.toggle('untrained', !!info && !info.shipped);
        label.title = info?.shipped ? `pretrained weights: g.pretrained('ntm-${r.value}')` : `no shipped weights in this build: an untrained model you can train here`;
        label.querySelector('.tag')?.remove();
        if (info && !info.shipped) label.insertAdjacentHTML('beforeend', ' <small class="tag">train here</small>');
      }
      const checked = document.querySelector('input[name="ntm-task"]:checked');
      await this._selectTask(checked?.value ?? 'copy', true);
    } catch (e) {
      $('ntm-note').textContent = `NTM models: ${e.message}`;
    }
  }

  /** Switch the panel to `task`: its sizes, its model's description, a fresh run. */
  async _selectTask(task, first = false) {
    if (!first && task === this.task && this.trace?.task === task) return;
    const old = this.task;
    this._stop();
    if (this.training && old !== task) {
      this._setTraining(false);
      try {
        this.tasks[old] = { ...this.tasks[old], ...(await this.client.request('ntm.pause', { task: old })) };
      } catch {
        /* the worker is restarting */
      }
    }
    this.task = task;
    for (const r of document.querySelectorAll('input[name="ntm-task"]')) r.checked = r.value === task;
    const info = this.tasks[task];
    const ui = this._ui();
    $('ntm-task-desc').textContent = `${ui.section} ${ui.label}. ${ui.desc}`;
    this.trace = null;
    this.input = null;
    this.invalid = null;
    this.view = null;
    this.t = 0;
    this.cursor = { t: 0, c: 0 };
    this._buildSizes(info);
    this._headOptions(info);
    this._describe(info);
    this._pretrainedButton(info);
    this._setTraining(false);
    this._chart();
    await this._run();
  }

  /** The size sliders of the task (each past its training range, with ticks there) and its edits. */
  _buildSizes(info) {
    const box = $('ntm-sizes');
    box.replaceChildren();
    const specs = this._ui().sizes(info);
    const mine = (this.sizes[this.task] ??= Object.fromEntries(specs.map((s) => [s.key, s.value])));
    for (const s of specs) {
      const id = `ntm-size-${s.key}`;
      const wrap = document.createElement('div');
      wrap.className = 'field inline';
      wrap.innerHTML = `<label for="${id}">${s.label}</label> <output id="${id}-v" for="${id}"></output><input id="${id}" data-testid="${id}" type="range" min="${s.min}" max="${s.max}" step="1" list="${id}-marks"><datalist id="${id}-marks"></datalist>`;
      box.append(wrap);
      const input = wrap.querySelector('input');
      input.value = String(Math.min(s.max, Math.max(s.min, mine[s.key] ?? s.value)));
      mine[s.key] = Number(input.value);
      wrap.querySelector('datalist').replaceChildren(...s.ticks.map((v) => new Option(String(v), String(v))));
      input.addEventListener('input', () => {
        mine[s.key] = Number(input.value);
        if (this.task === 'sort') this._sortLimits();
        this._sizeLabels();
        this._run();
      });
    }
    if (this.task === 'recall') {
      box.insertAdjacentHTML('beforeend', '<div class="field inline"><label for="ntm-query">query = item</label> <output id="ntm-query-v" for="ntm-query"></output><input id="ntm-query" data-testid="ntm-query" type="range" min="1" max="1" step="1" value="1"></div>');
      $('ntm-query').addEventListener('input', () => {
        if (!this.trace) return;
        this._edit(setQuery(this.trace, this.input, Number($('ntm-query').value) - 1));
        this._queryControl();
      });
    }
    if (this.task === 'sort') {
      box.insertAdjacentHTML('beforeend', '<div class="field inline"><label for="ntm-priority" id="ntm-priority-l">priority of vector 1</label> <output id="ntm-priority-v" for="ntm-priority"></output><input id="ntm-priority" data-testid="ntm-priority" type="range" min="-1" max="1" step="0.01" value="0"></div>');
      $('ntm-priority').addEventListener('input', () => {
        if (!this.trace) return;
        this._edit(setPriority(this.trace, this.input, this.cursor.t, Number($('ntm-priority').value)));
        this._priorityControl();
      });
      this._sortLimits();
    }
    this._sizeLabels();
  }

  /** Priority sort: at most as many outputs as vectors. */
  _sortLimits() {
    const s = this.sizes.sort, out = $('ntm-size-outputLength');
    out.max = String(s.length);
    if (s.outputLength > s.length) s.outputLength = s.length;
    out.value = String(s.outputLength);
  }

  _sizeLabels() {
    const info = this.tasks[this.task];
    const r = info.trainRange;
    const trainedMax = { length: r.maxLength ?? r.length, repeats: r.maxRepeats, items: r.maxItems, outputLength: r.outputLength };
    for (const s of this._ui().sizes(info)) {
      const v = this.sizes[this.task][s.key];
      const el = $(`ntm-size-${s.key}`);
      let text = String(v), said = `${v} ${s.unit}`;
      if (this.task === 'copy' && v > info.R) {
        text = `${v} (> ${info.R} rows)`;
        said = `${v}, longer than the memory's ${info.R} rows`;
      } else if (trainedMax[s.key] !== undefined && v > trainedMax[s.key]) {
        text = `${v} (> ${trainedMax[s.key]} trained)`;
        said = `${v} ${s.unit}, past the training range (up to ${trainedMax[s.key]})`;
      }
      $(`ntm-size-${s.key}-v`).textContent = text;
      el.setAttribute('aria-valuetext', said);
    }
  }

  /** Recall: the query slider follows the input (items with a successor: 1..n−1). */
  _queryControl() {
    const q = $('ntm-query');
    if (!q || !this.trace) return;
    const n = this.trace.sizes.items;
    q.max = String(n - 1);
    const i = queryIndex(this.trace, this.input);
    if (i >= 0) q.value = String(i + 1);
    $('ntm-query-v').textContent = i >= 0 ? `${i + 1} (answer: item ${i + 2})` : 'none (edited)';
    q.setAttribute('aria-valuetext', i >= 0 ? `item ${i + 1}, the answer is item ${i + 2}` : 'the query matches no item');
  }

  /** Sort: the priority slider shows the cursor's vector. */
  _priorityControl() {
    const el = $('ntm-priority');
    if (!el || !this.trace) return;
    const t = Math.min(this.cursor.t, this.trace.sizes.length - 1);
    const p = this.input[t * this.trace.inputWidth + this.trace.bits];
    el.value = String(p);
    $('ntm-priority-l').textContent = `priority of vector ${t + 1}`;
    $('ntm-priority-v').textContent = p.toFixed(2);
    el.setAttribute('aria-valuetext', `${p.toFixed(2)} (vector ${t + 1})`);
  }

  _headOptions(info) {
    const H = Math.max(info.readHeads, info.writeHeads);
    $('ntm-heads-row').hidden = H <= 1;
    const sel = $('ntm-head');
    sel.replaceChildren(new Option(`all ${H}, stacked`, 'all'), ...Array.from({ length: H }, (_, h) => new Option(`head ${h + 1}`, String(h))));
    this.head = 'all';
    sel.value = 'all';
  }

  _describe(r) {
    const ui = this._ui();
    const arch = `${r.controllerType === 'feedforward' ? 'feed-forward' : 'LSTM'} controller of ${r.controller}, memory ${r.R}×${r.C}, ${r.readHeads} read and ${r.writeHeads} write head${r.writeHeads > 1 ? 's' : ''}`;
    $('ntm-model').textContent = r.pretrained
      ? `Pretrained (g.pretrained('ntm-${r.task}')) on ${ui.trained(r.trainRange)}: ${arch}. Push the sizes past that range and watch where it breaks.`
      : r.trainedSteps > 0
        ? `Trained here from scratch for ${r.trainedSteps} steps on ${ui.trained(r.inPageRange)} (${arch}).`
        : `Untrained model (${r.shipped ? 'trained here, then reset' : r.note ?? 'no shipped weights'}): ${arch}. Its heads wander and its output is noise. ${r.shipped ? 'Load pretrained for the shipped one, or train' : 'Train it here'} on small instances (${ui.trained(r.inPageRange)}, batches of ${r.batch}); it takes many thousands of steps.`;
  }

  /** "Load pretrained" is the way back once a model trained here replaced the shipped one. */
  _pretrainedButton(r) {
    const b = $('ntm-pretrained');
    b.disabled = r.pretrained || !r.shipped;
    b.title = r.pretrained ? 'the pretrained model is loaded' : r.shipped ? 'replace the model trained here by the shipped pretrained one' : `this build ships no weights for ${this._ui().label.toLowerCase()}`;
  }

  async _pretrained() {
    const b = $('ntm-pretrained');
    b.disabled = true;
    try {
      this._setTraining(false);
      const r = await this.client.request('ntm.pretrained', { task: this.task });
      this.tasks[this.task] = r;
      this.curves[this.task] = [];
      this._setTraining(false);
      this._chart();
      this._describe(r);
      this._pretrainedButton(r);
      await this._run();
    } catch (e) {
      b.disabled = false;
      $('ntm-model').textContent = `Pretrained NTM: ${e.message}`;
    }
  }

  _setTraining(on) {
    this.training = on;
    const shipped = this.tasks[this.task]?.shipped ?? true;
    $('ntm-train').textContent = on ? 'Pause training' : this.curves[this.task]?.length ? 'Resume training' : shipped ? 'Train from scratch' : 'Train it here';
    $('ntm-train').setAttribute('aria-pressed', String(on));
  }

  async _train() {
    const task = this.task;
    try {
      this._setTraining(true);
      await this.client.request('ntm.train', { task });
      const info = this.tasks[task];
      this.tasks[task] = { ...info, pretrained: false };
      this._pretrainedButton(this.tasks[task]);
      $('ntm-model').textContent = `Training a fresh NTM on ${this._ui().trained(info.inPageRange)} (batches of ${info.batch}); your example is re-run every 3 s.`;
    } catch (e) {
      this._setTraining(false);
      $('ntm-model').textContent = e.message;
    }
  }

  async _pauseTraining() {
    this._setTraining(false);
    try {
      const r = await this.client.request('ntm.pause', { task: this.task });
      this.tasks[this.task] = { ...this.tasks[this.task], ...r };
      this._describe(this.tasks[this.task]);
      this._setTraining(false);
    } catch (e) {
      $('ntm-model').textContent = e.message;
    }
  }

  _progress(m) {
    if (!this.training || m.task !== this.task) return; // a late event of a run that was paused or replaced
    this.lastProgress = m;
    const curve = (this.curves[m.task] ??= []);
    curve.push([m.step, m.bitErrors]);
    if (curve.length > 1500) this.curves[m.task] = curve.filter((_, i) => i % 2 === 0);
    $('ntm-train-stat').textContent = `step ${m.step} · ${m.bitErrors.toFixed(2)} wrong bits per sequence · loss ${m.loss.toFixed(2)} bits · ${m.sequencesPerSecond.toFixed(1)} sequences/s`;
    this._chart();
  }

  _chart() {
    const curve = this.curves[this.task] ?? [];
    const c = $('ntm-loss-chart');
    c.hidden = curve.length === 0;
    if (!curve.length) {
      $('ntm-train-stat').textContent = '';
      return;
    }
    lineChart(c, widthOf(c, 200, 900), 100, [{ points: curve, color: '#4f46e5' }], { yMin: 0, xLabel: 'step', title: 'wrong bits per sequence (training batches)', yFormat: (v) => v.toFixed(1) });
  }

  /**
   * Run the task: on the edited input (args.input), or on a fresh example of the current sizes
   * and seed. Latest wins: a dragged slider fires faster than long runs come back. A broken rule
   * leaves the last good run on screen and shows the library's message. Resolves to whether a
   * run came back.
   */
  async _run(args = null) {
    const task = this.task;
    const req = args?.input ? { task, input: Float32Array.from(args.input) } : { task, sizes: { ...this.sizes[task] }, seed: this.seeds[task] ?? 1 };
    if (this.runBusy) {
      this.runQueued = req;
      return false;
    }
    this.runBusy = true;
    let ok = false;
    try {
      const tr = await this.client.request('ntm.run', req);
      if (tr.task === this.task) {
        this._setTrace(tr);
        ok = true;
        if (!this.playing && !reducedMotion()) this._play();
      }
    } catch (e) {
      if (req.input && e.name === 'RangeError' && task === this.task) {
        // The edit broke the task's rules: say so, mark the step the library names, keep the rest.
        const m = e.message.match(/\bsteps? (\d+)(?:-(\d+))?/);
        this.invalid = {
          message: e.message.replace(/^NTM runTask example\.input: ntm runTask: /, ''),
          step: m ? Number(m[1]) : -1,
          last: m ? Number(m[2] ?? m[1]) : -1,
        };
        this._drawInput();
        this._summary();
      } else {
        $('ntm-note').textContent = e.message;
      }
    } finally {
      this.runBusy = false;
      const next = this.runQueued;
      this.runQueued = null;
      if (next && next.task === this.task) await this._run(next.input ? { input: next.input } : null);
    }
    return ok;
  }

  _setTrace(tr) {
    const first = !this.trace;
    // Enabled once a run is on screen, so a click cannot race the first autoplay.
    for (const id of BUTTONS) $(id).disabled = false;
    this.trace = tr;
    this.input = tr.input.slice();
    this.invalid = null;
    $('ntm-step').max = String(tr.steps);
    // Without autoplay (reduced motion), a new example shows its finished run: the last step.
    this.t = first && reducedMotion() ? tr.steps - 1 : Math.min(this.t, tr.steps - 1);
    const steps = this._editSteps();
    if (!steps.includes(this.cursor.t)) this.cursor.t = steps[0] ?? 0;
    const chans = this._editable(this.cursor.t);
    if (!chans.includes(this.cursor.c)) this.cursor.c = chans[0] ?? 0;
    this._prepare();
    this._drawAll();
    this._queryControl();
    this._priorityControl();
  }

  /** What every step's drawing needs, made once per trace: the locations used, the heat maps as images, the memory's range. */
  _prepare() {
    const tr = this.trace;
    const { steps: T, R: Rm } = tr;
    // Show the locations the heads use (weight > 0.05 somewhere), with a margin; all of them for
    // an untrained model whose weightings are spread thin.
    let lo = Rm, hi = -1;
    for (const [w, H] of [[tr.writeWeights, tr.writeHeads], [tr.readWeights, tr.readHeads]]) {
      if (!w) continue;
      for (let i = 0; i < T * H; i++) {
        for (let r = 0; r < Rm; r++) {
          if (w[i * Rm + r] > 0.05) {
            if (r < lo) lo = r;
            if (r > hi) hi = r;
          }
        }
      }
    }
    if (hi < 0) [lo, hi] = [0, Rm - 1];
    lo = Math.max(0, lo - 2);
    hi = Math.min(Rm - 1, hi + 2);
    while (hi - lo + 1 < Math.min(16, Rm)) {
      if (hi < Rm - 1) hi++;
      if (hi - lo + 1 < Math.min(16, Rm) && lo > 0) lo--;
    }
    const span = hi - lo + 1;
    const heat = (w, H) => Array.from({ length: H }, (_, h) => {
      const m = new Float32Array(span * T);
      let mx = 0;
      for (let t = 0; t < T; t++) {
        for (let r = lo; r <= hi; r++) {
          const v = w[(t * H + h) * Rm + r];
          m[(r - lo) * T + t] = v;
          if (v > mx) mx = v;
        }
      }
      // Scaled to the head's largest value, but not below 0.2: a trained head's sharp weighting
      // fills the scale, an untrained one spread 1/R over R rows stays dark instead of glowing.
      return valuesCanvas(m, 0, span, T, { mode: 'heat', hi: Math.max(mx, 0.2) });
    });
    let mlo = Infinity, mhi = -Infinity;
    if (tr.memory) {
      for (const v of tr.memory) {
        if (v < mlo) mlo = v;
        if (v > mhi) mhi = v;
      }
    }
    const avail = widthOf($('ntm-input'), 120, 4000);
    this.view = {
      lo, hi, span,
      write: tr.writeWeights ? heat(tr.writeWeights, tr.writeHeads) : null,
      read: tr.readWeights ? heat(tr.readWeights, tr.readHeads) : null,
      mlo, mhi,
      cw: Math.max(CELL, Math.min(40, Math.floor(avail / T))),
      rows: [],
      scored: firstScored(tr),
    };
  }

  _drawAll() {
    this._prepareWidth();
    this._drawInput();
    this._drawOutputs();
    this._summary();
    this._drawStep();
  }

  _prepareWidth() {
    const avail = widthOf($('ntm-input'), 120, 4000);
    this.view.cw = Math.max(CELL, Math.min(40, Math.floor(avail / this.trace.steps)));
  }

  /**
   * The input raster over time: one column per step (at least CELL px wide: the strip scrolls
   * sideways for long examples), bit rows CELL px tall so that every bit can be hit, then the
   * task's other channels: delimiters as thin marker rows, repeat copy's count as a number, sort's
   * priorities as bars.
   */
  _drawInput() {
    const tr = this.trace, v = this.view;
    if (!tr || !v) return;
    const { steps: T, inputWidth: Ix } = tr;
    const x = this.input;
    const cw = v.cw, w = cw * T;
    const chans = this._ui().channels(tr);
    let y = 0;
    v.rows = chans.map((ch, c) => {
      const row = { c, kind: ch.kind, label: ch.label, y, h: ROW_H[ch.kind] };
      y += row.h;
      return row;
    });
    const h = y;
    const ctx = fitCanvas($('ntm-input'), w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    // The bit rows as one block (rows = channels, columns = steps).
    const nb = v.rows.filter((r) => r.kind === 'bit').length;
    const bitsT = new Float32Array(nb * T);
    for (let t = 0; t < T; t++) for (let c = 0; c < nb; c++) bitsT[c * T + t] = x[t * Ix + c];
    drawValues(ctx, bitsT, 0, nb, T, 0, 0, w, nb * CELL, { mode: 'paper' });
    for (const row of v.rows) {
      if (row.kind === 'bit') continue;
      ctx.fillStyle = '#f9fafb';
      ctx.fillRect(0, row.y, w, row.h);
      for (let t = 0; t < T; t++) {
        const val = x[t * Ix + row.c];
        if (row.kind === 'marker' && val !== 0) {
          ctx.fillStyle = '#4f46e5';
          ctx.fillRect(t * cw + 1, row.y + 2, cw - 2, row.h - 4);
        } else if (row.kind === 'count' && val !== 0) {
          const n = Math.round(val * Math.sqrt(99 / 12) + 5.5);
          ctx.fillStyle = '#4f46e5';
          ctx.fillRect(t * cw + 1, row.y + 1, cw - 2, row.h - 2);
          ctx.fillStyle = '#fff';
          ctx.font = '600 11px system-ui, sans-serif';
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(`×${n}`, t * cw + cw / 2, row.y + row.h / 2);
          ctx.textAlign = 'left';
        } else if (row.kind === 'priority' && t < (tr.sizes.length ?? 0)) {
          const mid = row.y + row.h / 2, half = row.h / 2 - 2;
          ctx.fillStyle = val >= 0 ? '#4f46e5' : '#d97706';
          const bh = Math.abs(val) * half;
          ctx.fillRect(t * cw + 3, val >= 0 ? mid - bh : mid, cw - 6, Math.max(1, bh));
        }
      }
      if (row.kind === 'priority') {
        ctx.strokeStyle = '#9ca3af';
        ctx.beginPath();
        ctx.moveTo(0, row.y + row.h / 2 + 0.5);
        ctx.lineTo(w, row.y + row.h / 2 + 0.5);
        ctx.stroke();
      }
    }
    // Grid lines: the bits are targets.
    ctx.strokeStyle = 'rgba(0,0,0,0.12)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = 1; t < T; t++) {
      ctx.moveTo(t * cw + 0.5, 0);
      ctx.lineTo(t * cw + 0.5, h);
    }
    for (const row of v.rows.slice(1)) {
      ctx.moveTo(0, row.y + 0.5);
      ctx.lineTo(w, row.y + 0.5);
    }
    ctx.stroke();
    // Steps that take no edits (delimiters, the output phase) are dimmed in the bit rows.
    ctx.fillStyle = 'rgba(229,231,235,0.55)';
    for (let t = 0; t < T; t++) if (!this._editable(t).length) ctx.fillRect(t * cw, 0, cw, nb * CELL);
    if (this.invalid?.step >= 0) {
      const { step, last } = this.invalid;
      ctx.strokeStyle = '#dc2626';
      ctx.lineWidth = 3;
      ctx.strokeRect(step * cw + 1.5, 1.5, (last - step + 1) * cw - 3, h - 3);
    }
    if (document.activeElement === $('ntm-input')) {
      const { t, c } = this.cursor;
      const row = v.rows[c];
      if (row) {
        ctx.strokeStyle = '#4f46e5';
        ctx.lineWidth = 3;
        ctx.strokeRect(t * cw + 1.5, row.y + 1.5, cw - 3, row.h - 3);
      }
    }
    const ui = this._ui();
    const kinds = [...new Set(chans.filter((ch) => ch.kind !== 'bit').map((ch) => ch.label))];
    const rowsSaid = this.task === 'ngrams' ? 'one bit per step' : `${nb} bit rows${kinds.length ? `, then ${kinds.join(', ')}` : ''}`;
    const how = this.task === 'sort' ? 'click a bit to flip it or a bar to set its priority; keyboard: arrow keys, Space, + and −' : 'click a bit to flip it, or focus and use the arrow keys and Space';
    $('ntm-input-cap').textContent = `(steps 1–${T}: ${rowsSaid})`;
    $('ntm-input-how').textContent = `Edit the input: ${how}.`;
    $('ntm-input').setAttribute('aria-label', `Input bits of the ${ui.label.toLowerCase()} task`);
  }

  /** Target and output over time (Y rows each; the steps that are not scored are shaded) and, for N-grams, the probabilities. */
  _drawOutputs() {
    const tr = this.trace, v = this.view;
    const { steps: T, outputWidth: Y } = tr;
    const cw = v.cw, w = cw * T, rh = Y <= 2 ? CELL : SMALL, h = Y * rh;
    const transposed = (a) => {
      const m = new Float32Array(Y * T);
      for (let t = 0; t < T; t++) for (let c = 0; c < Y; c++) m[c * T + t] = a[t * Y + c];
      return m;
    };
    const shade = (ctx, alpha) => {
      ctx.fillStyle = `rgba(229,231,235,${alpha})`;
      for (let t = 0; t < T; t++) if (!tr.mask[t]) ctx.fillRect(t * cw, 0, cw, h);
    };
    const lines = (ctx) => {
      ctx.strokeStyle = 'rgba(0,0,0,0.06)';
      ctx.beginPath();
      for (let t = 1; t < T; t++) {
        ctx.moveTo(t * cw + 0.5, 0);
        ctx.lineTo(t * cw + 0.5, h);
      }
      ctx.stroke();
    };
    const tctx = fitCanvas($('ntm-target'), w, h);
    drawValues(tctx, transposed(tr.target), 0, Y, T, 0, 0, w, h, { mode: 'paper' });
    shade(tctx, 0.9);
    lines(tctx);
    const octx = fitCanvas($('ntm-output'), w, h);
    drawValues(octx, transposed(tr.output), 0, Y, T, 0, 0, w, h, { mode: 'paper' });
    shade(octx, 0.8);
    lines(octx);
    // The wrong bits of the scored steps (thresholded at 0.5), outlined in red.
    this.firstWrong = -1;
    if (this.task !== 'ngrams') {
      octx.strokeStyle = '#dc2626';
      octx.lineWidth = 1.5;
      for (let t = 0; t < T; t++) {
        if (!tr.mask[t]) continue;
        for (let c = 0; c < Y; c++) {
          if ((tr.output[t * Y + c] > 0.5) !== (tr.target[t * Y + c] > 0.5)) {
            octx.strokeRect(t * cw + 1, c * rh + 1, cw - 2, rh - 2);
            if (this.firstWrong < 0) this.firstWrong = t;
          }
        }
      }
    }
    const s0 = v.scored + 1;
    const outs = this._ui().outputs(tr);
    $('ntm-target-cap').textContent = this.task === 'ngrams'
      ? '(the next bit, at every step but the last)'
      : `(scored at steps ${s0}–${T}${outs.length > tr.bits ? `; the last row is the ${outs.at(-1)}` : ''})`;
    $('ntm-output-cap').textContent = this.task === 'ngrams' ? "(the NTM's probability that the next bit is 1: dark = likely 1)" : '(red: wrong bit; shaded steps are not scored)';
    const fig = $('ntm-prob-fig');
    fig.hidden = this.task !== 'ngrams';
    if (this.task === 'ngrams') this._drawProb();
  }

  /** N-grams: the NTM's and the Bayes-optimal P(next bit = 1) at every step, on the strip's columns. */
  _drawProb() {
    const tr = this.trace, cw = this.view.cw, T = tr.steps, w = cw * T, h = 90;
    const ctx = fitCanvas($('ntm-prob'), w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    const Y = (p) => 4 + (1 - p) * (h - 8);
    ctx.strokeStyle = '#e5e7eb';
    ctx.beginPath();
    for (const p of [0, 0.5, 1]) {
      ctx.moveTo(0, Y(p) + 0.5);
      ctx.lineTo(w, Y(p) + 0.5);
    }
    ctx.stroke();
    const line = (a, color, width) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (let t = 0; t < T - 1; t++) {
        const px = (t + 0.5) * cw;
        t ? ctx.lineTo(px, Y(a[t])) : ctx.moveTo(px, Y(a[t]));
      }
      ctx.stroke();
    };
    line(tr.bayes, '#d97706', 2.5);
    line(tr.output, '#4f46e5', 1.8);
    // The bit that came: a dot at 1 or 0.
    ctx.fillStyle = '#111827';
    for (let t = 0; t < T - 1; t++) {
      ctx.beginPath();
      ctx.arc((t + 0.5) * cw, Y(tr.target[t]), 2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  /** The result line (announced): the sizes, past the training range or not, and the error. */
  _summary() {
    const tr = this.trace, info = this.tasks[this.task], ui = this._ui();
    const note = $('ntm-note');
    if (this.invalid) {
      const marked = this.invalid.step >= 0 ? ' (the library counts steps from 0; outlined in red on the input)' : '';
      note.textContent = `Not run: ${this.invalid.message}${marked}. The output shown is the last valid run's.`;
      note.classList.add('bad');
      return;
    }
    const beyond = ui.beyond(tr, info.trainRange);
    const head = `${ui.title(tr)}${beyond ? ` (${beyond})` : ''}`;
    let text;
    if (this.task === 'ngrams') {
      const excess = tr.bayesLoss > 0 ? (100 * (tr.loss - tr.bayesLoss)) / tr.bayesLoss : 0;
      text = `${head}: the NTM's predictions cost ${tr.loss.toFixed(1)} bits, the Bayes-optimal estimator's ${tr.bayesLoss.toFixed(1)} bits (${excess >= 0 ? '+' : '−'}${Math.abs(excess).toFixed(1)} %).`;
    } else {
      let scoredSteps = 0;
      for (let t = 0; t < tr.steps; t++) scoredSteps += tr.mask[t] ? 1 : 0;
      const errors = Math.round(tr.bitErrors);
      const where = this.firstWrong >= 0 ? `, the first at step ${this.firstWrong + 1}` : '';
      const answer = this.task === 'recall' ? ` (the answer is item ${tr.query + 2})` : '';
      text = `${head}: ${errors} wrong bit${errors === 1 ? '' : 's'} of ${scoredSteps * tr.outputWidth}${where}${answer}.`;
    }
    const warning = tr.warning ? ` ${tr.warning[0].toUpperCase()}${tr.warning.slice(1)}.` : '';
    note.textContent = text + warning;
    note.classList.toggle('bad', !!tr.warning);
  }

  /** Keep a column (the keyboard's bit, the animation's step) in view in the sideways-scrolling strip. */
  _scrollTo(x, w) {
    const box = $('ntm-bits');
    let to = x < box.scrollLeft ? x : x + w > box.scrollLeft + box.clientWidth ? x + w - box.clientWidth : null;
    if (to === null) return;
    to = Math.max(0, Math.min(Math.round(to), box.scrollWidth - box.clientWidth));
    if (to === Math.round(box.scrollLeft)) return;
    this.ownScroll = true; // the scroll event this causes is not the visitor's
    box.scrollLeft = to;
  }

  _play() {
    if (!this.trace) return;
    this.playing = true;
    $('ntm-play').textContent = 'Pause';
    $('ntm-play').setAttribute('aria-pressed', 'true');
    const per = () => Math.max(STEP_MS[0], Math.min(STEP_MS[1], Math.round(6000 / this.trace.steps)));
    const tick = () => {
      if (!this.playing) return;
      this.t = (this.t + 1) % this.trace.steps;
      this._drawStep();
      // follow the step, unless the visitor scrolled the strip in the last few seconds
      if (performance.now() > this.followAfter) this._scrollTo(this.t * this.view.cw, this.view.cw);
      this.timer = setTimeout(tick, this.t === this.trace.steps - 1 ? 1200 : per());
    };
    this.timer = setTimeout(tick, per());
  }

  _stop() {
    this.playing = false;
    clearTimeout(this.timer);
    $('ntm-play').textContent = 'Play';
    $('ntm-play').setAttribute('aria-pressed', 'false');
  }

  /** Step t: its column marked on the strip, the heat maps' cursor, the memory and the weightings at t. */
  _drawStep() {
    const tr = this.trace, v = this.view;
    if (!tr || !v) return;
    const { steps: T, R: Rm, C: Cm } = tr;
    const t = this.t;
    const now = $('ntm-now');
    now.style.left = `${t * v.cw}px`;
    now.style.width = `${v.cw}px`;
    $('ntm-step').value = String(t + 1);
    let at = '';
    if (this.task === 'ngrams' && t < T - 1) {
      // The bits each predictor pays for the bit that came next: −log2 of the probability it gave it.
      const bit = tr.target[t] > 0.5;
      const cost = (p) => -Math.log2(Math.max(1e-7, bit ? p : 1 - p));
      at = ` · next bit ${bit ? 1 : 0}: the NTM gave it ${(bit ? tr.output[t] : 1 - tr.output[t]).toFixed(2)} (${cost(tr.output[t]).toFixed(2)} bits), Bayes-optimal ${(bit ? tr.bayes[t] : 1 - tr.bayes[t]).toFixed(2)} (${cost(tr.bayes[t]).toFixed(2)} bits)`;
    }
    $('ntm-step-v').textContent = `${t + 1} / ${T}`;
    $('ntm-step-info').textContent = at.replace(/^ · n/, 'N');
    $('ntm-step').setAttribute('aria-valuetext', `step ${t + 1} of ${T}`);
    $('ntm-mem-step').textContent = String(t + 1);
    const heads = (H) => (this.head === 'all' || Number(this.head) >= H ? Array.from({ length: H }, (_, h) => h) : [Number(this.head)]);
    const locs = v.span < Rm ? `locations ${v.lo}–${v.hi} of ${Rm} (the rest unused)` : `all ${Rm} locations`;
    for (const [id, imgs, H] of [['ntm-write', v.write, tr.writeHeads], ['ntm-read', v.read, tr.readHeads]]) {
      const canvas = $(id);
      const W = widthOf(canvas, 200, 900);
      if (!imgs) {
        placeholder(canvas, W, HEAT_H, 'no memory: the LSTM baseline');
        continue;
      }
      const hs = heads(H);
      const hh = hs.length > 1 ? HEAD_H : HEAT_H;
      const ctx = fitCanvas(canvas, W, hs.length * hh + (hs.length - 1) * 3);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, W, hs.length * hh + (hs.length - 1) * 3);
      hs.forEach((h, k) => {
        const y = k * (hh + 3);
        ctx.save();
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(imgs[h], 0, 0, T, v.span, 0, y, W, hh);
        ctx.restore();
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1.5;
        ctx.strokeRect((t * W) / T, y + 0.75, Math.max(1.5, W / T), hh - 1.5);
        if (H > 1) {
          ctx.fillStyle = 'rgba(17,24,39,0.75)';
          ctx.fillRect(0, y, 46, 14);
          ctx.fillStyle = '#fff';
          ctx.font = '10px system-ui, sans-serif';
          ctx.textBaseline = 'top';
          ctx.fillText(`head ${h + 1}`, 3, y + 2);
        }
      });
      $(`${id}-cap`).textContent = `(time →, ${locs} ↓${hs.length > 1 ? `; ${hs.length} heads` : ''})`;
    }
    // Memory at step t, transposed (columns = locations) to fit the wide canvas, with the write
    // (red) and read (green) weightings at t under it (summed over the heads shown).
    const MW = widthOf($('ntm-memory'), 240, 1000);
    const ctx = fitCanvas($('ntm-memory'), MW, 150);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, MW, 150);
    if (!tr.memory) {
      placeholder($('ntm-memory'), MW, 150, 'no memory: the LSTM baseline');
      return;
    }
    const M = new Float32Array(Cm * v.span);
    for (let r = v.lo; r <= v.hi; r++) for (let c = 0; c < Cm; c++) M[c * v.span + (r - v.lo)] = tr.memory[(t * Rm + r) * Cm + c];
    drawValues(ctx, M, 0, Cm, v.span, 0, 0, MW, 118, { mode: 'heat', lo: v.mlo, hi: v.mhi });
    const wcol = (arr, H, y, color) => {
      const sum = new Float32Array(v.span);
      let mx = 0;
      for (const h of heads(H)) {
        for (let r = v.lo; r <= v.hi; r++) {
          sum[r - v.lo] += arr[(t * H + h) * Rm + r];
          mx = Math.max(mx, sum[r - v.lo]);
        }
      }
      ctx.fillStyle = color;
      for (let i = 0; i < v.span; i++) {
        ctx.globalAlpha = Math.min(1, sum[i] / (mx || 1));
        ctx.fillRect((i * MW) / v.span, y, MW / v.span, 12);
      }
      ctx.globalAlpha = 1;
    };
    wcol(tr.writeWeights, tr.writeHeads, 122, '#ef4444');
    wcol(tr.readWeights, tr.readHeads, 136, '#10b981');
    $('ntm-mem-cap').textContent = `(${Cm} values per location ↓, ${locs} →; under it the write weighting in red and the read weighting in green)`;
  }

  // ----- the addressing demo

  _labels() {
    $('na-key-v').textContent = $('na-key').value;
    $('na-beta-v').textContent = Number($('na-beta').value).toFixed(1);
    $('na-gate-v').textContent = Number($('na-gate').value).toFixed(2);
    $('na-gamma-v').textContent = Number($('na-gamma').value).toFixed(1);
    $('na-sm-v').textContent = Number($('na-sm').value).toFixed(2);
    $('na-sp-v').textContent = Number($('na-sp').value).toFixed(2);
  }


  _headParams() {
    const sm = Number($('na-sm').value), sp = Number($('na-sp').value);
    const s0 = Math.max(0, 1 - sm - sp);
    const tot = sm + s0 + sp;
    return {
      keyRow: Number($('na-key').value),
      beta: Number($('na-beta').value),
      gate: Number($('na-gate').value),
      gamma: Number($('na-gamma').value),
      shift: [sm / tot, s0 / tot, sp / tot], // offsets −1, 0, +1, normalised to sum to 1
    };
  }

  async _address() {
    if (!this.caps?.ntm) return;
    if (this.demoBusy) {
      this.demoQueued = true;
      return;
    }
    this.demoBusy = true;
    try {
      const h = this._headParams();
      this.demo = await this.client.request('ntm.demo', { R, C, ...h, prev: Float32Array.from(this.prev) });
      this.demo.shiftUsed = h.shift;
      this._drawDemo();
    } catch (e) {
      $('na-note').textContent = e.message;
    } finally {
      this.demoBusy = false;
      if (this.demoQueued) {
        this.demoQueued = false;
        this._address();
      }
    }
  }

  async _demoStep() {
    if (!this.demo) return;
    this.history.push(this.demo.w);
    if (this.history.length > 40) this.history.shift();
    this.prev = Array.from(this.demo.w);
    await this._address();
  }

  _playDemo() {
    this.demoPlaying = true;
    $('na-play').textContent = 'Pause';
    $('na-play').setAttribute('aria-pressed', 'true');
    const tick = async () => {
      if (!this.demoPlaying) return;
      await this._demoStep();
      this.demoTimer = setTimeout(tick, 450);
    };
    tick();
  }

  _stopDemo() {
    this.demoPlaying = false;
    clearTimeout(this.demoTimer);
    $('na-play').textContent = 'Play';
    $('na-play').setAttribute('aria-pressed', 'false');
  }

  _drawDemo() {
    const d = this.demo;
    if (!d) return;
    // Memory (R rows × C columns), the key beside the row it was taken from, and the final w per row.
    const mc = $('ntm-addr-memory');
    const W = widthOf(mc, 240, 520);
    const ctx = fitCanvas(mc, W, 176);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, 176);
    const top = 16, h = 176 - top, rh = h / R;
    const mw = Math.round(W * 0.45), kx = mw + 12, kw = Math.round(W * 0.18), wx = kx + kw + 14, ww = W - wx - 4;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#374151';
    ctx.textBaseline = 'top';
    ctx.fillText(`memory M (${R} rows × ${C})`, 0, 0);
    ctx.fillText('key k', kx, 0);
    ctx.fillText(ctx.measureText('final weighting w').width <= W - wx ? 'final weighting w' : 'final w', wx, 0); // fits a phone
    drawValues(ctx, d.memory, 0, R, C, 0, top, mw, h, { mode: 'heat', lo: -1, hi: 1 });
    drawValues(ctx, d.key, 0, 1, C, kx, top + d.keyRow * rh, kw, rh, { mode: 'heat', lo: -1, hi: 1 });
    ctx.strokeStyle = '#111827';
    ctx.strokeRect(kx - 0.5, top + d.keyRow * rh - 0.5, kw + 1, rh + 1);
    ctx.fillStyle = '#f3f4f6';
    ctx.fillRect(wx, top, ww, h);
    for (let i = 0; i < R; i++) {
      ctx.fillStyle = '#4f46e5';
      ctx.fillRect(wx, top + i * rh + 1, Math.max(0.5, d.w[i] * ww), rh - 2);
    }
    // The stages as bar charts (eqs. 5–9), each over the R rows.
    const sc = $('ntm-addr-stages');
    const SW = widthOf(sc, 240, 520);
    const sctx = fitCanvas(sc, SW, 300);
    sctx.fillStyle = '#fff';
    sctx.fillRect(0, 0, SW, 300);
    const hp = this._headParams();
    const rows = [
      [this.prev, '#9ca3af', 'previous weighting w(t−1)'],
      [d.content, '#0ea5e9', `1. content: softmax(β·cos(k, M_i)), β = ${hp.beta.toFixed(1)}`],
      [d.gated, '#8b5cf6', `2. gated: g·content + (1−g)·previous, g = ${hp.gate.toFixed(2)}`],
      [d.shifted, '#f59e0b', `3. shifted: convolved with s = [${hp.shift.map((v) => v.toFixed(2)).join(', ')}]`],
      [d.w, '#4f46e5', `4. sharpened: w^γ / Σ w^γ, γ = ${hp.gamma.toFixed(1)}`],
    ];
    rows.forEach(([v, color, label], k) => bars(sctx, v, 0, k * 60, SW, 56, { color, label }));
    // History of w over steps (time runs right), like the paper's Figure 6.
    const hist = [...this.history, d.w];
    const Hm = new Float32Array(R * hist.length);
    hist.forEach((w, t) => {
      for (let i = 0; i < R; i++) Hm[i * hist.length + t] = w[i];
    });
    const hc = $('ntm-addr-history');
    const HW = widthOf(hc, 240, 520);
    const hctx = fitCanvas(hc, HW, 96);
    hctx.fillStyle = '#fff';
    hctx.fillRect(0, 0, HW, 96);
    hctx.fillStyle = '#f3f4f6';
    hctx.fillRect(0, 14, HW, 82);
    const cw = HW / Math.max(hist.length, 40);
    drawValues(hctx, Hm, 0, R, hist.length, 0, 14, cw * hist.length, 82, { mode: 'heat' });
    hctx.fillStyle = '#374151';
    hctx.font = '11px system-ui, sans-serif';
    hctx.textBaseline = 'top';
    hctx.fillText(`w over ${hist.length} step${hist.length > 1 ? 's' : ''} (rows ↓, time →)`, 0, 0);
    $('na-note').textContent = 'Try: g = 0 and shift +1 = 1, then Play: the head ignores the key and walks down the rows, as the copy task’s heads do. g = 1 with a large β jumps straight to the row most like the key; γ sharpens a blurred weighting.';
  }

}

function oneHot(i) {
  const a = new Array(R).fill(0);
  a[i] = 1;
  return a;
}
