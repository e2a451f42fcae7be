// ntm-panel.js: the Neural Turing Machine panel. Left: the copy task run by the model (input,
// output, write and read weightings over time as in the paper's Figure 6, the memory at each step).
// Right: one head's addressing (g.ntm.address) taken apart stage by stage on a small memory.
// Only DOM and canvas work here; every number comes from the worker.
import { fitCanvas, drawValues, placeholder, bars, widthOf, lineChart, reducedMotion } from './paint.js';

const $ = (id) => document.getElementById(id);
const R = 16; // rows of the demo memory
const C = 8; // columns of the demo memory
const CELL = 24; // an input bit's least width and height in CSS px (WCAG 2.5.8 target size), also on a phone
const SMALL = 12; // row height of the target and output grids (shown, not clicked)

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
    // copy task
    this.sequence = null; // Float32Array length×bits
    this.bits = 8;
    this.trace = null;
    this.t = 0;
    this.playing = false;
    this.timer = null;
    this.seed = 1;
    this.training = false;
    this.curve = [];
    this.cursor = { t: 0, b: 0 }; // the keyboard's input bit
    this.copyBusy = false;
    this.copyQueued = false;
    this._wire();
    client.on('ntm.progress', (m) => this._progress(m));
    client.on('ntm.trace', (tr) => this._setTrace(tr));
    client.on('ntm.stopped', (m) => {
      this._setTraining(false);
      $('ntm-note').textContent = `Training stopped: ${m.error?.message}`;
    });
    this.reset();
    window.addEventListener('resize', () => {
      if (this.demo) this._drawDemo();
      if (this.trace) {
        this._drawCopy();
        this._drawStep();
      }
    });
  }

  reset() {
    this._stopDemo();
    this._stop();
    this.caps = null;
    this.trace = null;
    this.prev = oneHot(0);
    this.history = [];
    this.curve = [];
    this._setTraining(false);
    $('ntm-train-stat').textContent = '';
    $('ntm-loss-chart').hidden = true;
    for (const id of ['ntm-play', 'ntm-random', 'ntm-len', 'ntm-step', 'ntm-train', 'ntm-pretrained']) $(id).disabled = true;
    placeholder($('ntm-input'), 0, 8 * CELL, 'loading…');
    for (const id of ['ntm-target', 'ntm-output']) placeholder($(id), 0, 8 * SMALL, '');
    for (const id of ['ntm-write', 'ntm-read']) placeholder($(id), 0, 130, '');
    placeholder($('ntm-memory'), 0, 150, 'loading…');
    placeholder($('ntm-addr-memory'), 0, 176, 'loading…');
    placeholder($('ntm-addr-stages'), 0, 300, '');
    placeholder($('ntm-addr-history'), 0, 96, '');
    $('ntm-note').textContent = 'Loading the wasm core…';
    $('na-note').textContent = '';
    this._labels();
  }

  /** The worker is gone (the page shows the banner). */
  lost() {
    this._stop();
    this._stopDemo();
    this._setTraining(false);
    for (const id of ['ntm-play', 'ntm-random', 'ntm-len', 'ntm-step', 'ntm-train', 'ntm-pretrained']) $(id).disabled = true;
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
      await this._initModel();
    } else {
      for (const id of ['ntm-input', 'ntm-target', 'ntm-output']) placeholder($(id), 0, 8 * SMALL, 'waiting for g.createNTM');
      for (const id of ['ntm-write', 'ntm-read']) placeholder($(id), 0, 130, 'waiting for g.createNTM');
      placeholder($('ntm-memory'), 0, 150, ['The memory matrix over time appears here once', 'the NTM model (g.createNTM / pretrained ntm-copy) is in this build.']);
      $('ntm-note').textContent = 'The copy task waits for g.createNTM and the pretrained ntm-copy weights. The addressing demo on the right shows the mechanism it relies on.';
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

    $('ntm-play').addEventListener('click', () => (this.playing ? this._stop() : this._play()));
    $('ntm-step').addEventListener('input', () => {
      this._stop();
      this.t = Number($('ntm-step').value);
      this._drawStep();
    });
    $('ntm-random').addEventListener('click', () => {
      this.seed += 1;
      this.sequence = null;
      this._copy();
    });
    $('ntm-len').addEventListener('input', () => {
      this._lengthLabel();
      this.sequence = null;
      this._copy();
    });
    $('ntm-train').addEventListener('click', () => (this.training ? this._pauseTraining() : this._train()));
    $('ntm-pretrained').addEventListener('click', () => this._pretrained());
    const inp = $('ntm-input');
    const under = (e) => {
      const r = inp.getBoundingClientRect();
      return [Math.floor(((e.clientX - r.left) / r.width) * this.trace.length), Math.floor(((e.clientY - r.top) / r.height) * this.bits)];
    };
    // The keyboard cursor goes where the pointer went down (before the focus that draws it).
    inp.addEventListener('pointerdown', (e) => {
      if (!this.trace) return;
      const [t, b] = under(e);
      if (t >= 0 && t < this.trace.length && b >= 0 && b < this.bits) this.cursor = { t, b };
    });
    inp.addEventListener('click', (e) => {
      // Toggle the bit under the pointer (input vector t: column t, bit b: row b) and run the copy again.
      if (!this.trace || !this.sequence) return;
      this._flip(...under(e));
    });
    // Keyboard: the arrow keys move a cursor over the bits, Space or Enter flips the bit under it.
    inp.addEventListener('keydown', (e) => {
      if (!this.trace || !this.sequence) return;
      const L = this.trace.length, c = this.cursor;
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1], Home: [-L, 0], End: [L, 0] };
      if (moves[e.key]) {
        e.preventDefault();
        c.t = Math.max(0, Math.min(L - 1, c.t + moves[e.key][0]));
        c.b = Math.max(0, Math.min(this.bits - 1, c.b + moves[e.key][1]));
        this._drawCopy();
        this._scrollTo(c.t * this.bitWidth, this.bitWidth);
        this._announceCursor();
      } else if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        this._flip(c.t, c.b);
      }
    });
    inp.addEventListener('focus', () => {
      if (this.trace) this._drawCopy();
      this._announceCursor();
    });
    inp.addEventListener('blur', () => this.trace && this._drawCopy());
  }

  _flip(t, b) {
    if (t < 0 || t >= this.trace.length || b < 0 || b >= this.bits) return;
    this.cursor = { t, b };
    this.sequence[t * this.bits + b] = 1 - this.sequence[t * this.bits + b];
    this._announceCursor();
    this._copy();
  }

  _announceCursor() {
    if (!this.sequence || document.activeElement !== $('ntm-input')) return;
    const { t, b } = this.cursor;
    $('ntm-cursor').textContent = `vector ${t + 1} of ${this.trace.length}, bit ${b + 1}: ${this.sequence[t * this.bits + b] > 0.5 ? 'on' : 'off'}`;
  }

  _lengthLabel() {
    const L = Number($('ntm-len').value), Rm = this.info?.R;
    $('ntm-len-v').textContent = Rm && L > Rm ? `${L} (> ${Rm} rows)` : String(L);
    $('ntm-len').setAttribute('aria-valuetext', Rm && L > Rm ? `${L}, longer than the memory's ${Rm} rows` : `${L} vectors`);
  }

  /** The length slider goes past the memory's rows, to where the copy has to break; ticks at the training range and at R. */
  _lengthRange(r) {
    const s = $('ntm-len');
    s.max = String(r.R + Math.max(8, r.R >> 2));
    if (Number(s.value) > Number(s.max)) s.value = s.max;
    $('ntm-len-marks').replaceChildren(...[this.maxTrain, r.R].map((v) => new Option(String(v), String(v))));
    this._lengthLabel();
  }

  _labels() {
    $('na-key-v').textContent = $('na-key').value;
    $('na-beta-v').textContent = Number($('na-beta').value).toFixed(1);
    $('na-gate-v').textContent = Number($('na-gate').value).toFixed(2);
    $('na-gamma-v').textContent = Number($('na-gamma').value).toFixed(1);
    $('na-sm-v').textContent = Number($('na-sm').value).toFixed(2);
    $('na-sp-v').textContent = Number($('na-sp').value).toFixed(2);
  }

  // ----- the addressing demo

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

  // ----- the copy task (model)

  async _initModel() {
    $('ntm-note').textContent = 'Loading the NTM model…';
    try {
      const r = await this.client.request('ntm.init');
      this.bits = r.bits;
      this.maxTrain = r.maxLength ?? 20;
      this._describe(r);
      this._lengthRange(r);
      await this._copy();
      // Enabled once the first trace plays, so a click cannot race the autoplay.
      for (const id of ['ntm-play', 'ntm-random', 'ntm-len', 'ntm-step', 'ntm-train']) $(id).disabled = false;
      this._pretrainedButton(r);
    } catch (e) {
      $('ntm-note').textContent = `NTM model: ${e.message}`;
    }
  }

  _describe(r) {
    this.info = r;
    this.noteBase = r.pretrained
      ? `Pretrained on copy sequences of length 1–${this.maxTrain}; its memory has ${r.R} rows of ${r.C}, one per vector. Push the length past ${this.maxTrain}, then past ${r.R}, and watch where it breaks.`
      : r.trainedSteps > 0
        ? `Trained here from scratch for ${r.trainedSteps} steps (memory ${r.R}×${r.C}).`
        : `Untrained model (${r.note ?? 'no pretrained weights in this build'}): the heads wander and the output is noise. Train from scratch to watch it learn (it takes many thousands of steps).`;
  }

  /** "Load pretrained" is the way back once a model trained here replaced the shipped one. */
  _pretrainedButton(r) {
    const b = $('ntm-pretrained');
    b.disabled = r.pretrained;
    b.title = r.pretrained ? 'the pretrained model is loaded' : 'replace the model trained here by the shipped pretrained one';
  }

  async _pretrained() {
    const b = $('ntm-pretrained');
    b.disabled = true;
    try {
      this._setTraining(false);
      const r = await this.client.request('ntm.pretrained');
      this.curve = [];
      this._setTraining(false);
      $('ntm-train-stat').textContent = '';
      $('ntm-loss-chart').hidden = true;
      this._describe(r);
      this._lengthRange(r);
      this._pretrainedButton(r);
      await this._copy();
    } catch (e) {
      b.disabled = false;
      $('ntm-note').textContent = `Pretrained NTM: ${e.message}`;
    }
  }

  _setTraining(on) {
    this.training = on;
    $('ntm-train').textContent = on ? 'Pause training' : this.curve.length ? 'Resume training' : 'Train from scratch';
    $('ntm-train').setAttribute('aria-pressed', String(on));
  }

  async _train() {
    try {
      this._setTraining(true);
      await this.client.request('ntm.train');
      this._pretrainedButton({ pretrained: false });
      this.noteBase = `Training a fresh NTM on random copy sequences of length 1–${this.maxTrain} (batches of 8); your sequence is re-run every 3 s.`;
    } catch (e) {
      this._setTraining(false);
      $('ntm-note').textContent = e.message;
    }
  }

  async _pauseTraining() {
    this._setTraining(false);
    try {
      this._describe(await this.client.request('ntm.pause'));
      if (this.trace) this._drawCopy();
    } catch (e) {
      $('ntm-note').textContent = e.message;
    }
  }

  _progress(m) {
    if (!this.training) return; // a late event of a run that was paused or replaced
    this.lastProgress = m;
    this.curve.push([m.step, m.bitErrors]);
    if (this.curve.length > 1500) this.curve = this.curve.filter((_, i) => i % 2 === 0);
    $('ntm-train-stat').textContent = `step ${m.step} · ${m.bitErrors.toFixed(2)} wrong bits per sequence · loss ${m.loss.toFixed(2)} bits · ${m.sequencesPerSecond.toFixed(1)} sequences/s`;
    const c = $('ntm-loss-chart');
    c.hidden = false;
    lineChart(c, widthOf(c, 200, 900), 100, [{ points: this.curve, color: '#4f46e5' }], { yMin: 0, xLabel: 'step', title: 'wrong bits per sequence (training batches)', yFormat: (v) => v.toFixed(1) });
  }

  _setTrace(tr) {
    this.sequence = tr.sequence.slice();
    const first = !this.trace;
    this.trace = tr;
    $('ntm-step').max = String(tr.steps - 1);
    // Without autoplay (reduced motion), the first trace shows the finished copy: its last step.
    this.t = first && reducedMotion() ? tr.steps - 1 : Math.min(this.t, tr.steps - 1);
    this.cursor.t = Math.min(this.cursor.t, tr.length - 1);
    this._drawCopy();
    this._drawStep();
  }

  /** Run the copy on the current sequence (latest wins: a dragged length slider fires faster than long copies run). */
  async _copy() {
    if (this.copyBusy) {
      this.copyQueued = true;
      return;
    }
    this.copyBusy = true;
    try {
      const length = Number($('ntm-len').value);
      const args = { length, seed: this.seed };
      if (this.sequence && this.sequence.length === length * this.bits) args.sequence = Float32Array.from(this.sequence);
      this._setTrace(await this.client.request('ntm.copy', args));
      if (!this.playing && !reducedMotion()) this._play();
    } catch (e) {
      $('ntm-note').textContent = e.message;
    } finally {
      this.copyBusy = false;
      if (this.copyQueued) {
        this.copyQueued = false;
        this._copy();
      }
    }
  }

  _play() {
    if (!this.trace) return;
    this.playing = true;
    $('ntm-play').textContent = 'Pause';
    $('ntm-play').setAttribute('aria-pressed', 'true');
    const tick = () => {
      if (!this.playing) return;
      this.t = (this.t + 1) % this.trace.steps;
      this._drawStep();
      this.timer = setTimeout(tick, this.t === this.trace.steps - 1 ? 1200 : 220);
    };
    this.timer = setTimeout(tick, 220);
  }

  _stop() {
    this.playing = false;
    clearTimeout(this.timer);
    $('ntm-play').textContent = 'Play';
    $('ntm-play').setAttribute('aria-pressed', 'false');
  }

  /**
   * The bits: input vectors (fed at steps 1..L), target and output (the last L steps) stacked on one
   * column axis, so vector t sits above its copy. Columns are at least CELL px wide (the strip
   * scrolls sideways for long sequences); input rows are CELL px tall, so every bit can be hit.
   */
  _drawCopy() {
    const tr = this.trace;
    const { bits, length } = tr;
    const seq = new Float32Array(bits * length);
    const out = new Float32Array(bits * length);
    for (let t = 0; t < length; t++) {
      for (let b = 0; b < bits; b++) {
        seq[b * length + t] = tr.sequence[t * bits + b];
        out[b * length + t] = tr.output[t * bits + b];
      }
    }
    const avail = widthOf($('ntm-input'), 120, 4000);
    const cw = Math.max(CELL, Math.min(40, Math.floor(avail / length)));
    const w = cw * length;
    const ictx = this._grid('ntm-input', seq, bits, length, w, bits * CELL, 'paper');
    // Row lines too: the input is a grid of targets.
    ictx.strokeStyle = 'rgba(0,0,0,0.12)';
    for (let b = 1; b < bits; b++) {
      ictx.beginPath();
      ictx.moveTo(0, b * CELL);
      ictx.lineTo(w, b * CELL);
      ictx.stroke();
    }
    if (document.activeElement === $('ntm-input')) {
      const { t, b } = this.cursor;
      ictx.strokeStyle = '#4f46e5';
      ictx.lineWidth = 3;
      ictx.strokeRect(t * cw + 1.5, b * CELL + 1.5, cw - 3, CELL - 3);
    }
    this.bitWidth = cw;
    this._grid('ntm-target', seq, bits, length, w, bits * SMALL, 'paper');
    const ctx = this._grid('ntm-output', out, bits, length, w, bits * SMALL, 'paper');
    // Mark the output bits that come out wrong (thresholded at 0.5), and find the first wrong vector.
    ctx.strokeStyle = '#dc2626';
    ctx.lineWidth = 1.5;
    let firstWrong = -1;
    for (let t = 0; t < length; t++) {
      for (let b = 0; b < bits; b++) {
        if ((tr.output[t * bits + b] > 0.5) !== (tr.sequence[t * bits + b] > 0.5)) {
          ctx.strokeRect(t * cw + 1, b * SMALL + 1, cw - 2, SMALL - 2);
          if (firstWrong < 0) firstWrong = t;
        }
      }
    }
    $('ntm-input-cap').textContent = `(vectors 1–${length}, fed at steps 1–${length}; click a bit to flip it, or focus and use the arrow keys and Space)`;
    $('ntm-target-cap').textContent = `(what it should write out at steps ${tr.outputOffset + 1}–${tr.steps})`;
    const errors = Math.round(tr.bitErrors ?? countErrors(tr.sequence, tr.output));
    const beyond = length > (this.maxTrain ?? 20) && !tr.warning ? ' (longer than any training sequence)' : '';
    const where = firstWrong >= 0 ? `, the first at vector ${firstWrong + 1}` : '';
    const warning = tr.warning ? ` ${tr.warning[0].toUpperCase()}${tr.warning.slice(1)}.` : '';
    $('ntm-note').textContent = `${this.noteBase ?? ''} Length ${length}${beyond}: ${errors} wrong bit${errors === 1 ? '' : 's'} of ${length * bits}${where}.${warning}`;
    $('ntm-note').classList.toggle('bad', !!tr.warning);
  }

  /** Keep the keyboard's bit in view in the sideways-scrolling strip. */
  _scrollTo(x, w) {
    const box = $('ntm-bits');
    if (x < box.scrollLeft) box.scrollLeft = x;
    else if (x + w > box.scrollLeft + box.clientWidth) box.scrollLeft = x + w - box.clientWidth;
  }

  _grid(id, data, rows, cols, w, h, mode) {
    const ctx = fitCanvas($(id), w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    // Weightings are scaled to their largest value (an untrained head spreads 1/R over R rows).
    let hi = 1;
    if (mode === 'heat') {
      hi = 0;
      for (const v of data) hi = Math.max(hi, v);
    }
    drawValues(ctx, data, 0, rows, cols, 0, 0, w, h, { mode, hi: hi || 1 });
    if (mode === 'paper') {
      ctx.strokeStyle = 'rgba(0,0,0,0.06)';
      for (let c = 1; c < cols; c++) {
        ctx.beginPath();
        ctx.moveTo((c * w) / cols, 0);
        ctx.lineTo((c * w) / cols, h);
        ctx.stroke();
      }
    }
    return ctx;
  }

  _drawStep() {
    const tr = this.trace;
    if (!tr) return;
    const { steps, R: Rm, C: Cm } = tr;
    const t = this.t;
    // Memory at step t, transposed (columns = memory rows) to fit the wide canvas.
    const M = transpose(tr.memory.subarray(t * Rm * Cm, (t + 1) * Rm * Cm), Rm, Cm);
    const MW = widthOf($('ntm-memory'), 300, 1000);
    const ctx = fitCanvas($('ntm-memory'), MW, 150);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, MW, 150);
    let lo = Infinity, hi = -Infinity;
    for (const v of tr.memory) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    drawValues(ctx, M, 0, Cm, Rm, 0, 0, MW, 118, { mode: 'heat', lo, hi });
    // The write (red) and read (green) weightings at this step under the memory.
    const wcol = (arr, y, color) => {
      let mx = 0;
      for (let i = 0; i < Rm; i++) mx = Math.max(mx, arr[t * Rm + i]);
      for (let i = 0; i < Rm; i++) {
        ctx.fillStyle = color;
        ctx.globalAlpha = Math.min(1, arr[t * Rm + i] / (mx || 1));
        ctx.fillRect((i * MW) / Rm, y, MW / Rm, 12);
      }
      ctx.globalAlpha = 1;
    };
    wcol(tr.writeWeights, 122, '#ef4444');
    wcol(tr.readWeights, 136, '#10b981');
    $('ntm-step-v').textContent = `${t + 1} / ${steps} (red: write weighting, green: read weighting)`;
    $('ntm-step').value = String(t);
    // A cursor on the over-time plots.
    for (const id of ['ntm-write', 'ntm-read']) {
      const w = widthOf($(id), 200, 600);
      this._grid(id, transpose(id === 'ntm-write' ? tr.writeWeights : tr.readWeights, steps, Rm), Rm, steps, w, 130, 'heat');
      const c = $(id).getContext('2d');
      c.strokeStyle = '#fff';
      c.lineWidth = 1.5;
      c.strokeRect((t * w) / steps, 0.5, w / steps, 129);
    }
  }
}

function oneHot(i) {
  const a = new Array(R).fill(0);
  a[i] = 1;
  return a;
}

/** (rows × cols) → (cols × rows) */
function transpose(a, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function countErrors(seq, out) {
  let n = 0;
  for (let i = 0; i < seq.length; i++) n += (out[i] > 0.5 ? 1 : 0) !== (seq[i] > 0.5 ? 1 : 0) ? 1 : 0;
  return n;
}
