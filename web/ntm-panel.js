// ntm-panel.js: the Neural Turing Machine panel. Left: the copy task run by the model (input,
// output, write and read weightings over time as in the paper's Figure 6, the memory at each step).
// Right: one head's addressing (g.ntm.address) taken apart stage by stage on a small memory.
// Only DOM and canvas work here; every number comes from the worker.
import { fitCanvas, drawValues, placeholder, bars, widthOf, lineChart } from './paint.js';

const $ = (id) => document.getElementById(id);
const R = 16; // rows of the demo memory
const C = 8; // columns of the demo memory

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
    for (const id of ['ntm-play', 'ntm-random', 'ntm-len', 'ntm-step', 'ntm-train']) $(id).disabled = true;
    for (const id of ['ntm-input', 'ntm-target', 'ntm-output']) placeholder($(id), 0, 90, 'loading…');
    for (const id of ['ntm-write', 'ntm-read']) placeholder($(id), 0, 130, '');
    placeholder($('ntm-memory'), 0, 150, 'loading…');
    placeholder($('ntm-addr-memory'), 0, 176, 'loading…');
    placeholder($('ntm-addr-stages'), 0, 300, '');
    placeholder($('ntm-addr-history'), 0, 96, '');
    $('ntm-note').textContent = 'Loading the wasm core…';
    $('na-note').textContent = '';
    this._labels();
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
      for (const id of ['ntm-input', 'ntm-target', 'ntm-output']) placeholder($(id), 0, 90, 'waiting for g.createNTM');
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
      $('ntm-len-v').textContent = $('ntm-len').value;
      this.sequence = null;
      this._copy();
    });
    $('ntm-train').addEventListener('click', () => (this.training ? this._pauseTraining() : this._train()));
    $('ntm-input').addEventListener('click', (e) => {
      // Toggle the bit under the pointer and run the copy again.
      if (!this.trace || !this.sequence) return;
      const r = $('ntm-input').getBoundingClientRect();
      const L = this.trace.length;
      const col = Math.floor(((e.clientX - r.left) / r.width) * this.trace.steps);
      const row = Math.floor(((e.clientY - r.top) / r.height) * this.bits);
      const t = col - this.trace.inputOffset;
      if (t < 0 || t >= L || row < 0 || row >= this.bits) return;
      this.sequence[t * this.bits + row] = 1 - this.sequence[t * this.bits + row];
      this._copy();
    });
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
    ctx.fillText('final weighting w', wx, 0);
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
      await this._copy();
      // Enabled once the first trace plays, so a click cannot race the autoplay.
      for (const id of ['ntm-play', 'ntm-random', 'ntm-len', 'ntm-step', 'ntm-train']) $(id).disabled = false;
    } catch (e) {
      $('ntm-note').textContent = `NTM model: ${e.message}`;
    }
  }

  _describe(r) {
    this.info = r;
    this.noteBase = r.pretrained
      ? `Pretrained on copy sequences of length 1–${this.maxTrain} (memory ${r.R}×${r.C}). Push the length past that and watch where it breaks.`
      : r.trainedSteps > 0
        ? `Trained here from scratch for ${r.trainedSteps} steps (memory ${r.R}×${r.C}).`
        : `Untrained model (${r.note ?? 'no pretrained weights in this build'}): the heads wander and the output is noise. Train from scratch to watch it learn (it takes many thousands of steps).`;
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
    this.curve.push([m.step, m.bitErrors]);
    if (this.curve.length > 1500) this.curve = this.curve.filter((_, i) => i % 2 === 0);
    $('ntm-train-stat').textContent = `step ${m.step} · ${m.bitErrors.toFixed(2)} wrong bits per sequence · loss ${m.loss.toFixed(2)} bits · ${m.sequencesPerSecond.toFixed(1)} sequences/s`;
    const c = $('ntm-loss-chart');
    c.hidden = false;
    lineChart(c, widthOf(c, 200, 900), 100, [{ points: this.curve, color: '#4f46e5' }], { yMin: 0, xLabel: 'step', title: 'wrong bits per sequence (training batches)', yFormat: (v) => v.toFixed(1) });
  }

  _setTrace(tr) {
    this.sequence = tr.sequence.slice();
    this.trace = tr;
    $('ntm-step').max = String(tr.steps - 1);
    this.t = Math.min(this.t, tr.steps - 1);
    this._drawCopy();
    this._drawStep();
  }

  async _copy() {
    try {
      const length = Number($('ntm-len').value);
      const args = { length, seed: this.seed };
      if (this.sequence && this.sequence.length === length * this.bits) args.sequence = Float32Array.from(this.sequence);
      this._setTrace(await this.client.request('ntm.copy', args));
      if (!this.playing) this._play();
    } catch (e) {
      $('ntm-note').textContent = e.message;
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

  /** Bit grids and weightings over time: time runs right, as in Figure 6 of the paper. */
  _drawCopy() {
    const tr = this.trace;
    const { steps, bits, length, R: Rm } = tr;
    // Input and output on the full time axis: inputs at steps 1..L, outputs in the last L steps.
    const inp = new Float32Array(bits * steps);
    const tgt = new Float32Array(bits * steps);
    const out = new Float32Array(bits * steps);
    for (let t = 0; t < length; t++) {
      for (let b = 0; b < bits; b++) {
        inp[b * steps + (tr.inputOffset + t)] = tr.sequence[t * bits + b];
        tgt[b * steps + (tr.outputOffset + t)] = tr.sequence[t * bits + b];
        out[b * steps + (tr.outputOffset + t)] = tr.output[t * bits + b];
      }
    }
    const w = widthOf($('ntm-input'), 120, 600);
    this._grid('ntm-input', inp, bits, steps, w, 90, 'paper');
    this._grid('ntm-target', tgt, bits, steps, w, 90, 'paper');
    const ctx = this._grid('ntm-output', out, bits, steps, w, 90, 'paper');
    // Mark the output bits that come out wrong (thresholded at 0.5).
    ctx.strokeStyle = '#dc2626';
    ctx.lineWidth = 1.5;
    const cw = w / steps, ch = 90 / bits;
    for (let t = 0; t < length; t++) {
      for (let b = 0; b < bits; b++) {
        if ((tr.output[t * bits + b] > 0.5) !== (tr.sequence[t * bits + b] > 0.5)) {
          ctx.strokeRect((tr.outputOffset + t) * cw + 1, b * ch + 1, cw - 2, ch - 2);
        }
      }
    }
    const errors = Math.round(tr.bitErrors ?? countErrors(tr.sequence, tr.output));
    const beyond = length > (this.maxTrain ?? 20) ? ' (longer than any training sequence)' : '';
    $('ntm-note').textContent = `${this.noteBase ?? ''} Length ${length}${beyond}: ${errors} wrong bit${errors === 1 ? '' : 's'} of ${length * bits}. Click input bits to flip them.`;
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
