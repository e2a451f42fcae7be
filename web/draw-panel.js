// draw-panel.js: the DRAW panel. Left: a digit drawn step by step by the model, with its write
// (and, when reconstructing, read) window drawn as a box. Right: the read filterbank you can drag
// around, with the N×N glimpse g.draw.read takes and what g.draw.write puts back.
// Only DOM and canvas work here; every number comes from the worker.
import { fitCanvas, drawValues, placeholder, widthOf, lineChart, reducedMotion } from './paint.js';

const $ = (id) => document.getElementById(id);
const FB = 252; // filterbank image side (css px)
const DC = 280; // drawing canvas side (css px)
const MARGIN = 22; // grey margin around the drawn image (css px)
// The animation takes about PASS_MS per pass at normal speed, whatever the model's number of steps
// T (16 for the old model, 64 for the paper's), within STEP_MS per step; the speed menu scales it.
const PASS_MS = 6400;
const STEP_MS = [60, 400];
const STRIP_MAX = 16; // thumbnails in the strip: every step up to 16, else 16 evenly spaced ones

export class DrawPanel {
  constructor(client) {
    this.client = client;
    this.caps = null;
    this.digit = null; // { image, H, W, label, index }
    this.digitIndex = 3;
    this.fb = { gx: 14.5, gy: 14.5 };
    this.glimpse = null;
    this.trace = null; // { steps, H, W, canvases, write, read, target }
    this.t = 0;
    this.playing = false;
    this.timer = null;
    this.seed = 1;
    this.readN = 2;
    this.writeN = 5;
    this.busy = false;
    this.queued = false;
    this.training = false;
    this.losses = [];
    this._wire();
    client.on('draw.progress', (m) => this._progress(m));
    client.on('draw.sample', (tr) => {
      if (!this.scrubbing) this._setTrace(tr, true);
    });
    client.on('draw.stopped', (m) => {
      this._setTraining(false);
      $('draw-note').textContent = `Training stopped: ${m.error?.message}`;
    });
    this.reset();
  }

  reset() {
    this._stop();
    this.caps = null;
    this.trace = null;
    this.glimpse = null;
    this.losses = [];
    this._setTraining(false);
    $('draw-train-stat').textContent = '';
    $('draw-loss-chart').hidden = true;
    for (const id of ['draw-play', 'draw-new', 'draw-recon', 'draw-step', 'draw-train', 'draw-pretrained']) $(id).disabled = true;
    placeholder($('draw-canvas'), DC, DC, 'loading…');
    placeholder($('draw-strip'), 0, 40, '');
    placeholder($('fb-image'), FB, FB, 'loading…');
    placeholder($('fb-glimpse'), 112, 112, '');
    placeholder($('fb-back'), 112, 112, '');
    placeholder($('fb-fx'), FB, 70, '');
    $('draw-note').textContent = 'Loading the wasm core…';
    $('fb-note').textContent = '';
  }

  /** The worker is gone (the page shows the banner). */
  lost() {
    this._stop();
    this._setTraining(false);
    for (const id of ['draw-play', 'draw-new', 'draw-recon', 'draw-step', 'draw-train', 'draw-pretrained']) $(id).disabled = true;
    $('draw-note').textContent = 'The compute worker stopped: press Restart worker above.';
  }

  unavailable(error) {
    placeholder($('draw-canvas'), DC, DC, 'the wasm core did not load');
    placeholder($('fb-image'), FB, FB, 'the wasm core did not load');
    $('draw-note').textContent = error.message;
  }

  async ready(info) {
    this.caps = info.caps;
    await this._loadDigit();
    if (this.caps.createDRAW) {
      await this._initModel();
    } else {
      placeholder($('draw-canvas'), DC, DC, ['The step-by-step drawing appears here', 'once the DRAW model (g.createDRAW)', 'is in this build.']);
      placeholder($('draw-strip'), 0, 40, 'waiting for g.createDRAW');
      $('draw-note').textContent = 'Waits for g.createDRAW and the pretrained draw-mnist weights. The filterbank on the right already runs.';
    }
  }

  // ----- wiring

  _wire() {
    for (const id of ['fb-n', 'fb-delta', 'fb-sigma']) $(id).addEventListener('input', () => this._updateFb());
    $('fb-next').addEventListener('click', async () => {
      this.digitIndex += 1;
      await this._loadDigit();
    });
    const img = $('fb-image');
    let dragging = false;
    const move = (e) => {
      const r = img.getBoundingClientRect();
      if (!this.digit) return;
      const sx = this.digit.W / r.width, sy = this.digit.H / r.height;
      // Paper convention: pixel a (1-based) covers [a − 1, a) on screen, centre a − 0.5.
      this.fb.gx = Math.max(1, Math.min(this.digit.W, (e.clientX - r.left) * sx + 0.5));
      this.fb.gy = Math.max(1, Math.min(this.digit.H, (e.clientY - r.top) * sy + 0.5));
      this._updateFb();
    };
    img.addEventListener('pointerdown', (e) => {
      dragging = true;
      img.setPointerCapture(e.pointerId);
      img.style.cursor = 'grabbing';
      move(e);
    });
    img.addEventListener('pointermove', (e) => dragging && move(e));
    const end = () => {
      dragging = false;
      img.style.cursor = '';
    };
    img.addEventListener('pointerup', end);
    img.addEventListener('pointercancel', end);
    // Keyboard: the arrow keys move the window's centre by a pixel (with Shift, by 4).
    img.addEventListener('keydown', (e) => {
      const step = e.shiftKey ? 4 : 1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      if (!d || !this.digit) return;
      e.preventDefault();
      this.fb.gx = Math.max(1, Math.min(this.digit.W, this.fb.gx + d[0]));
      this.fb.gy = Math.max(1, Math.min(this.digit.H, this.fb.gy + d[1]));
      this._updateFb();
    });

    $('draw-play').addEventListener('click', () => (this.playing ? this._stop() : this._play()));
    $('draw-speed').addEventListener('change', () => this._speedLabel());
    $('draw-step').addEventListener('pointerdown', () => (this.scrubbing = true));
    $('draw-step').addEventListener('change', () => (this.scrubbing = false));
    $('draw-step').addEventListener('input', () => {
      this._stop();
      this.t = Number($('draw-step').value) - 1;
      this._drawStep();
    });
    $('draw-new').addEventListener('click', () => {
      this.seed += 1;
      this._generate();
    });
    $('draw-recon').addEventListener('click', () => this._reconstruct());
    $('draw-train').addEventListener('click', () => (this.training ? this._pauseTraining() : this._train()));
    $('draw-pretrained').addEventListener('click', () => this._pretrained());
  }

  // ----- the filterbank view

  async _loadDigit() {
    try {
      this.digit = await this.client.request('draw.digit', { index: this.digitIndex });
      this._updateFb();
    } catch (e) {
      $('fb-note').textContent = e.message;
    }
  }

  _fbParams() {
    const { W: A, H: B } = this.digit;
    const N = Number($('fb-n').value);
    const delta = Number($('fb-delta').value);
    const sigma = Number($('fb-sigma').value);
    $('fb-n-v').textContent = String(N);
    $('fb-delta-v').textContent = `${delta.toFixed(1)} px`;
    $('fb-sigma-v').textContent = `${sigma.toFixed(1)} px`;
    $('fb-pos').textContent = `window centre (gX, gY) = (${this.fb.gx.toFixed(1)}, ${this.fb.gy.toFixed(1)}) px`;
    // Raw attention parameters (g̃X, g̃Y, log σ², log δ̃, log γ), inverting eqs. 21–24.
    const params = [
      (2 * this.fb.gx) / (A + 1) - 1,
      (2 * this.fb.gy) / (B + 1) - 1,
      2 * Math.log(sigma),
      Math.log((delta * (N - 1)) / (Math.max(A, B) - 1)),
      0,
    ];
    return { N, delta, sigma, params };
  }

  async _updateFb() {
    if (!this.digit) return;
    this._drawFbImage();
    if (!this.caps?.draw) {
      placeholder($('fb-glimpse'), 112, 112, ['needs', 'g.draw.read']);
      placeholder($('fb-back'), 112, 112, ['needs', 'g.draw.write']);
      placeholder($('fb-fx'), FB, 70, 'the filterbank Fx appears once g.draw is in this build');
      $('fb-note').textContent = 'The window geometry is live; the glimpse itself waits for the DRAW kernels (g.draw.read / write / filterbank).';
      return;
    }
    // Latest wins: dragging fires faster than the worker needs to answer.
    if (this.busy) {
      this.queued = true;
      return;
    }
    this.busy = true;
    try {
      const { N, params } = this._fbParams();
      const d = this.digit;
      const r = await this.client.request('draw.glimpse', { image: d.image, H: d.H, W: d.W, N, params });
      this.glimpse = r;
      this._drawGlimpse();
      $('fb-note').textContent = `A test digit (${d.label}). Each glimpse pixel is a Gaussian-weighted average of the image (Fy·x·Fxᵀ); “written back” is Fyᵀ·glimpse·Fx, what the window can put on a canvas.`;
    } catch (e) {
      $('fb-note').textContent = e.message;
    } finally {
      this.busy = false;
      if (this.queued) {
        this.queued = false;
        this._updateFb();
      }
    }
  }

  _drawFbImage() {
    const d = this.digit;
    const ctx = fitCanvas($('fb-image'), FB, FB);
    drawValues(ctx, d.image, 0, d.H, d.W, 0, 0, FB, FB);
    const { N, delta, sigma } = this._fbParams();
    const s = FB / d.W;
    // Filter centres μ_i = g + (i − N/2 − 0.5)·δ (eq. 19, 20), 1-based pixel units → screen.
    const mu = (g, i) => g + (i - N / 2 - 0.5) * delta;
    const X = (v) => (v - 0.5) * s;
    ctx.save();
    ctx.strokeStyle = 'rgba(16,185,129,0.35)';
    ctx.lineWidth = 1;
    for (let j = 1; j <= N; j++) {
      for (let i = 1; i <= N; i++) {
        ctx.beginPath();
        ctx.arc(X(mu(this.fb.gx, i)), X(mu(this.fb.gy, j)), Math.max(1, sigma * s), 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    ctx.fillStyle = '#10b981';
    for (let j = 1; j <= N; j++) {
      for (let i = 1; i <= N; i++) {
        ctx.beginPath();
        ctx.arc(X(mu(this.fb.gx, i)), X(mu(this.fb.gy, j)), 2.2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    this._box(ctx, this.fb.gx, this.fb.gy, delta, N, s, '#10b981', 2, 1);
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(X(this.fb.gx), X(this.fb.gy), 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
  }

  /** The attention box: the square spanned by the N×N filter centres, half-width N·δ/2 around (gX, gY). */
  _box(ctx, gx, gy, delta, N, s, color, width, alpha) {
    const half = (N * delta) / 2;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.strokeRect((gx - half - 0.5) * s, (gy - half - 0.5) * s, 2 * half * s, 2 * half * s);
    ctx.restore();
  }

  _drawGlimpse() {
    const r = this.glimpse;
    const gctx = fitCanvas($('fb-glimpse'), 112, 112);
    drawValues(gctx, r.glimpse, 0, r.N, r.N, 0, 0, 112, 112);
    const bctx = fitCanvas($('fb-back'), 112, 112);
    let hi = 0;
    for (const v of r.back) hi = Math.max(hi, v);
    drawValues(bctx, r.back, 0, r.H, r.W, 0, 0, 112, 112, { hi: hi || 1 });
    // Fx: one row per filter (N), one column per image column (A), as a heat map.
    const fctx = fitCanvas($('fb-fx'), FB, 70);
    fctx.fillStyle = '#fff';
    fctx.fillRect(0, 0, FB, 70);
    let fmax = 0;
    for (const v of r.Fx) fmax = Math.max(fmax, v);
    drawValues(fctx, r.Fx, 0, r.N, r.W, 0, 14, FB, 56, { mode: 'heat', hi: fmax || 1 });
    fctx.fillStyle = '#374151';
    fctx.font = '11px system-ui, sans-serif';
    fctx.textBaseline = 'top';
    fctx.fillText(`Fx: ${r.N} filters × ${r.W} columns (γ = ${r.gamma.toFixed(2)})`, 2, 0);
  }

  // ----- the step-by-step drawing (model)

  async _initModel() {
    $('draw-note').textContent = 'Loading the DRAW model…';
    try {
      const r = await this.client.request('draw.init');
      this.readN = r.readN ?? this.readN;
      this.writeN = r.writeN ?? this.writeN;
      this._describe(r);
      await this._generate();
      // Enabled once the first sample plays, so a click cannot race the autoplay.
      for (const id of ['draw-play', 'draw-new', 'draw-recon', 'draw-step', 'draw-train']) $(id).disabled = false;
      this._pretrainedButton(r);
    } catch (e) {
      $('draw-note').textContent = `DRAW model: ${e.message}`;
    }
  }

  /**
   * A fresh model of these createDRAW options in place of the current one (not in the page's UI:
   * tests/e2e.test.js uses it to check the panel at T = 64 before the shipped model has it).
   */
  async useModel(options) {
    this._stop();
    this._setTraining(false);
    const r = await this.client.request('draw.create', { options });
    this.losses = []; // nothing of a run trained here stays on screen
    this._setTraining(false);
    $('draw-train-stat').textContent = '';
    $('draw-loss-chart').hidden = true;
    this.readN = r.readN;
    this.writeN = r.writeN;
    this._describe(r);
    this._pretrainedButton(r);
    await this._generate();
    return r;
  }

  _describe(r) {
    this.steps = r.steps;
    this._speedLabel();
    $('draw-note').textContent = r.pretrained
      ? `Pretrained on MNIST: ${r.steps} steps, each adding ink through the red window (a ${r.writeN}×${r.writeN} filterbank). Play, scrub, or ask for a new sample.`
      : r.trainedSteps > 0
        ? `Trained here from scratch for ${r.trainedSteps} steps: press New sample or Reconstruct to see what it learned.`
        : `Untrained model (${r.note ?? 'no pretrained weights in this build'}): the windows move, but the ink is noise. Press Train from scratch to watch it learn.`;
  }

  /** "Load pretrained" is the way back once a model trained here replaced the shipped one. */
  _pretrainedButton(r) {
    const b = $('draw-pretrained');
    b.disabled = r.pretrained;
    b.title = r.pretrained ? 'the pretrained model is loaded' : 'replace the model trained here by the shipped pretrained one';
  }

  async _pretrained() {
    const b = $('draw-pretrained');
    b.disabled = true;
    try {
      this._setTraining(false);
      const r = await this.client.request('draw.pretrained');
      // Nothing of the run trained here stays on screen.
      this.losses = [];
      this._setTraining(false);
      $('draw-train-stat').textContent = '';
      $('draw-loss-chart').hidden = true;
      this._describe(r);
      this._pretrainedButton(r);
      await this._generate();
    } catch (e) {
      b.disabled = false;
      $('draw-note').textContent = `Pretrained DRAW: ${e.message}`;
    }
  }

  _setTraining(on) {
    this.training = on;
    $('draw-train').textContent = on ? 'Pause training' : this.losses.length ? 'Resume training' : 'Train from scratch';
    $('draw-train').setAttribute('aria-pressed', String(on));
  }

  async _train() {
    try {
      this._setTraining(true);
      await this.client.request('draw.train');
      $('draw-loss-chart').hidden = false;
      this._pretrainedButton({ pretrained: false });
      $('draw-note').textContent = 'Training a fresh DRAW on MNIST (Adam, batches of 16): a new sample from the same noise every 3 s. Expect blobs first, digits after a few thousand steps.';
    } catch (e) {
      this._setTraining(false);
      $('draw-note').textContent = e.message;
    }
  }

  async _pauseTraining() {
    this._setTraining(false);
    try {
      this._describe(await this.client.request('draw.pause'));
    } catch (e) {
      $('draw-note').textContent = e.message;
    }
  }

  _progress(m) {
    if (!this.training) return; // a late event of a run that was paused or replaced
    this.lastProgress = m;
    this.losses.push([m.step, m.loss]);
    if (this.losses.length > 1500) this.losses = this.losses.filter((_, i) => i % 2 === 0);
    $('draw-train-stat').textContent = `step ${m.step} · epoch ${m.epoch.toFixed(2)} · loss ${m.loss.toFixed(1)} nats (reconstruction ${m.reconstruction.toFixed(1)} + KL ${m.kl.toFixed(1)}) · ${Math.round(m.imagesPerSecond)} images/s`;
    const c = $('draw-loss-chart');
    c.hidden = false;
    // clipStart: the first steps (~660 nats) would flatten the rest of the curve (~100 nats).
    lineChart(c, widthOf(c, 200, 400), 100, [{ points: this.losses, color: '#dc2626' }], { xLabel: 'step', title: 'negative ELBO (nats / image)', yFormat: (v) => v.toFixed(0), clipStart: true });
  }

  async _generate() {
    try {
      this._setTrace(await this.client.request('draw.generate', { seed: this.seed, count: 1 }));
      this._autoplay();
    } catch (e) {
      $('draw-note').textContent = e.message;
    }
  }

  async _reconstruct() {
    try {
      this.digitIndex += 1;
      this._setTrace(await this.client.request('draw.reconstruct', { index: this.digitIndex }));
      this._autoplay();
    } catch (e) {
      $('draw-note').textContent = e.message;
    }
  }

  _setTrace(tr, keepPlaying = false) {
    const wasPlaying = this.playing;
    this._stop();
    this.trace = tr;
    // A sample arriving during training while paused shows its finished canvas.
    this.t = keepPlaying && !wasPlaying ? tr.steps - 1 : 0;
    $('draw-step').max = String(tr.steps);
    this.steps = tr.steps;
    this._speedLabel();
    this._drawStep();
    if (keepPlaying && wasPlaying) this._play();
  }

  /** Play a new trace, unless the visitor prefers reduced motion: then show its finished canvas (Play animates it). */
  _autoplay() {
    if (!reducedMotion()) return this._play();
    this.t = this.trace.steps - 1;
    this._drawStep();
  }

  _play() {
    if (!this.trace) return;
    this.playing = true;
    $('draw-play').textContent = 'Pause';
    $('draw-play').setAttribute('aria-pressed', 'true');
    if (this.t >= this.trace.steps - 1) this.t = 0;
    this.shown = new Set(); // the steps drawn in this pass (tests check that every one is)
    const tick = () => {
      if (!this.playing) return;
      this._drawStep();
      this.shown.add(this.t);
      const last = this.t >= this.trace.steps - 1;
      if (last) {
        this.passes = (this.passes ?? 0) + 1;
        this.lastPassShown = this.shown.size; // every step of the pass drawn: the steps count
      }
      this.t = last ? 0 : this.t + 1;
      if (this.t === 0) this.shown = new Set();
      this.timer = setTimeout(tick, last ? 1400 : this._stepMs());
    };
    tick();
  }

  /** Time per animation step: about PASS_MS per pass at normal speed, scaled by the speed menu. */
  _stepMs(steps = this.trace?.steps ?? 16) {
    const base = Math.max(STEP_MS[0], Math.min(STEP_MS[1], PASS_MS / steps));
    return Math.round(base * Number($('draw-speed').value));
  }

  _speedLabel() {
    const T = this.steps ?? this.trace?.steps;
    if (!T) return;
    const ms = this._stepMs(T);
    $('draw-speed-v').textContent = `${ms} ms a step, ${((ms * T) / 1000).toFixed(1)} s for ${T} steps`;
  }

  _stop() {
    this.playing = false;
    clearTimeout(this.timer);
    $('draw-play').textContent = 'Play';
    $('draw-play').setAttribute('aria-pressed', 'false');
  }

  _drawStep() {
    const tr = this.trace;
    if (!tr) return;
    const t = this.t;
    const { H, W } = tr;
    // The image sits inside a margin so windows reaching past its edges stay visible.
    const ctx = fitCanvas($('draw-canvas'), DC, DC);
    ctx.fillStyle = '#e5e7eb';
    ctx.fillRect(0, 0, DC, DC);
    drawValues(ctx, tr.canvases, t * H * W * tr.count, H, W, MARGIN, MARGIN, DC - 2 * MARGIN, DC - 2 * MARGIN);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, DC, DC);
    ctx.clip();
    ctx.translate(MARGIN, MARGIN);
    const s = (DC - 2 * MARGIN) / W;
    const win = (arr, N, color) => {
      if (!arr) return;
      const o = t * tr.count * 5;
      const [gx, gy, delta, sigma2, gamma] = arr.subarray(o, o + 5);
      // Line width follows σ, opacity follows γ (relative to the largest γ in the sequence).
      let gmax = 0;
      for (let k = 0; k < tr.steps; k++) gmax = Math.max(gmax, arr[k * tr.count * 5 + 4]);
      const width = Math.max(1, Math.min(8, Math.sqrt(sigma2) * s * 0.6));
      this._box(ctx, gx, gy, delta, N, s, color, width, Math.max(0.25, Math.min(1, gamma / (gmax || 1))));
    };
    // The path of the write window's centre up to this step: at T = 64 a step lasts ~100 ms, the
    // trail shows where the window has been.
    if (tr.write && t > 0) {
      ctx.strokeStyle = 'rgba(239,68,68,0.55)';
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      for (let k = 0; k <= t; k++) {
        const o = k * tr.count * 5;
        const px = (tr.write[o] - 0.5) * s, py = (tr.write[o + 1] - 0.5) * s;
        k ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
      }
      ctx.stroke();
    }
    win(tr.read, this.readN, '#10b981');
    win(tr.write, this.writeN, '#ef4444');
    ctx.restore();
    ctx.fillStyle = '#374151';
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(`step ${t + 1} / ${tr.steps}`, 4, 4);
    $('draw-step').value = String(t + 1);
    $('draw-step').setAttribute('aria-valuetext', `step ${t + 1} of ${tr.steps}`);
    $('draw-step-v').textContent = `${t + 1} / ${tr.steps}`;
    this._drawStrip();
  }

  /** The canvas after (up to STRIP_MAX evenly spaced) steps, numbered, the one shown now outlined; the target first when reconstructing. */
  _drawStrip() {
    const tr = this.trace;
    const T = tr.steps;
    const SW = widthOf($('draw-strip'), 200, 800);
    // Thumbnails at least 28 px (a phone shows fewer of them).
    const n = Math.max(1, Math.min(T, STRIP_MAX, Math.floor((SW - 8) / 28) - (tr.target ? 1 : 0)));
    const picks = Array.from({ length: n }, (_, i) => (n === 1 ? T - 1 : Math.round((i * (T - 1)) / (n - 1))));
    const slots = n + (tr.target ? 1 : 0);
    const side = Math.max(16, Math.min(40, Math.floor((SW - 8) / slots)));
    const H = side + 13;
    const ctx = fitCanvas($('draw-strip'), SW, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, SW, H);
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#57606e';
    let x = 0;
    if (tr.target) {
      drawValues(ctx, tr.target, 0, tr.H, tr.W, x, 0, side - 1, side - 1);
      ctx.fillText('target', x + side / 2, side + 1);
      x += side + 6;
    }
    // The thumbnail of the latest pick at or before the step shown now is outlined.
    let now = 0;
    picks.forEach((k, i) => (k <= this.t ? (now = i) : null));
    picks.forEach((k, i) => {
      drawValues(ctx, tr.canvases, k * tr.H * tr.W * tr.count, tr.H, tr.W, x, 0, side - 1, side - 1);
      if (i === now) {
        ctx.strokeStyle = '#ef4444';
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, 1, side - 3, side - 3);
      }
      ctx.fillStyle = '#57606e';
      ctx.fillText(String(k + 1), x + side / 2, side + 1);
      x += side;
    });
    $('draw-strip').setAttribute('aria-label', `the canvas after steps ${picks.map((k) => k + 1).join(', ')} of ${T}`);
  }
}
