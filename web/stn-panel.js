// stn-panel.js: the Spatial Transformer panel. Distorted inputs with the sampling grid θ picks,
// the transformer's outputs, live training curves, an editable θ, and a pad to draw on.
// Only DOM and canvas work here; every number comes from the worker (the θ shown beside the sliders
// from the library's pure affineTheta, the same the worker applies).
import { fitCanvas, drawValues, placeholder, lineChart, quad, widthOf } from './paint.js';
import { affineTheta } from '../src/js/stn.js';

const $ = (id) => document.getElementById(id);
const COLS = 4;
const TILE = 62;
const GAP = 6;
const SIDE = COLS * TILE + (COLS - 1) * GAP;
// Short names for the distortion menu (the library's descriptions go in the line under it).
const KIND_NAMES = { R: 'rotated', RTS: 'rotated, scaled, moved', P: 'projective', E: 'elastic', T: 'moved, cluttered' };

/** Run an async function with "latest wins" semantics: at most one in flight, the newest queued. */
function latest(fn) {
  let busy = false, queued = null;
  const run = async (args) => {
    busy = true;
    try {
      await fn(args);
    } finally {
      busy = false;
      if (queued) {
        const a = queued;
        queued = null;
        run(a.args);
      }
    }
  };
  return (args) => (busy ? (queued = { args }) : run(args));
}

export class StnPanel {
  constructor(client) {
    this.client = client;
    this.caps = null;
    this.running = false;
    this.hasModel = false;
    this.batch = null; // { images, labels, N, S }
    this.view = null; // { theta, output, predicted, labels, from }
    this.loss = [];
    this.trainAcc = [];
    this.testAcc = [];
    this.padInk = false;
    this.padVersion = 0; // bumped by every change to the pad's ink
    this.padLast = null; // { version, label, from, image }: the last classification (tests read it)
    this.padDigit = 0; // the next display digit Enter puts on the pad
    this.distortions = null; // g.distortions, from the ready event
    this.modelKind = null; // the distortion the current network was trained on
    this.apply = latest(() => this._apply());
    this.classify = latest(() => this._classify());
    this._wireControls();
    this._wirePad();
    client.on('stn.progress', (m) => this._progress(m));
    window.addEventListener('resize', () => this._charts());
    client.on('stn.eval', (m) => this._eval(m));
    client.on('stn.view', (m) => {
      if (!this._manual()) this._setView(m);
    });
    client.on('stn.stopped', (m) => {
      this._setRunning(false);
      this._note(`Training stopped: ${m.error?.message}`, true);
    });
    this.reset();
  }

  // ----- lifecycle

  reset() {
    this.caps = null;
    this.running = false;
    this.hasModel = false;
    this.batch = null;
    this.view = null;
    this.loss = [];
    this.trainAcc = [];
    this.testAcc = [];
    for (const id of ['stn-train', 'stn-reset', 'stn-pretrained']) $(id).disabled = true;
    $('stn-train').textContent = 'Train';
    $('stn-accuracy').textContent = '–';
    $('stn-loss').textContent = '–';
    $('stn-throughput').textContent = '–';
    $('stn-epoch').textContent = '–';
    $('stn-epoch-bar').value = 0;
    this.modelKind = null;
    $('stn-manual').checked = true;
    $('stn-manual').disabled = true;
    placeholder($('stn-inputs'), SIDE, SIDE, 'loading…');
    placeholder($('stn-outputs'), SIDE, SIDE, 'loading…');
    this._charts();
    this._drawTheta();
    this._clearPad();
    this._padRange();
    this._note('Loading the wasm core…');
  }

  /** The worker is gone (the page shows the banner): nothing runs until Restart. */
  lost() {
    this._setRunning(false);
    for (const id of ['stn-train', 'stn-reset', 'stn-pretrained']) $(id).disabled = true;
    this._note('The compute worker stopped: press Restart worker above.', true);
  }

  unavailable(error) {
    placeholder($('stn-inputs'), SIDE, SIDE, ['the wasm core did not load']);
    placeholder($('stn-outputs'), SIDE, SIDE, ['the wasm core did not load']);
    this._note(error.message, true);
  }

  async ready(info) {
    this.caps = info.caps;
    this.distortions = info.distortions;
    this._distortionMenu(info.distortions);
    this._padRange();
    $('stn-train').disabled = !this.caps.createSTN;
    $('stn-reset').disabled = !this.caps.createSTN;
    $('stn-pretrained').disabled = !this.caps.pretrained;
    $('stn-train').title = this.caps.createSTN ? '' : 'waits for g.createSTN (the STN model)';
    $('stn-pretrained').title = this.caps.pretrained ? '' : "waits for g.pretrained('stn-mnist')";
    await this._sample();
  }

  // ----- controls

  _wireControls() {
    $('stn-batch').addEventListener('click', () => this._sample());
    $('stn-kind').addEventListener('change', async () => {
      this._kindDescription();
      // A new distortion is a new task (and maybe a new input size): start over.
      if (this.hasModel || this.running) await this._resetModel();
      await this._sample();
    });
    $('stn-train').addEventListener('click', () => (this.running ? this._pause() : this._train()));
    $('stn-reset').addEventListener('click', async () => {
      await this._resetModel();
      await this._sample();
    });
    $('stn-pretrained').addEventListener('click', () => this._pretrained());
    // Moving θ by hand always shows: with a network, it ticks "use my θ" (untick it to get the
    // network's θ back). The pad follows the same rule as the 16 digits.
    const steer = () => {
      this._drawTheta();
      if (this.hasModel && !$('stn-manual').checked) {
        $('stn-manual').checked = true;
        this._padRange();
      }
      this.apply();
      if (this.padInk) this.classify();
    };
    for (const id of ['stn-rot', 'stn-scale', 'stn-tx', 'stn-ty']) $(id).addEventListener('input', steer);
    $('stn-identity').addEventListener('click', () => {
      $('stn-rot').value = 0;
      $('stn-scale').value = 1;
      $('stn-tx').value = 0;
      $('stn-ty').value = 0;
      steer();
    });
    $('stn-manual').addEventListener('change', () => {
      this._padRange();
      this.apply();
      if (this.padInk) this.classify();
    });
  }

  /** The distortion menu from the library's table (g.distortions), keeping the current choice. */
  _distortionMenu(table) {
    const sel = $('stn-kind');
    const current = sel.value;
    sel.replaceChildren(...Object.entries(table).map(([kind]) => new Option(`${kind} · ${KIND_NAMES[kind] ?? kind}`, kind, false, kind === current)));
    this._kindDescription();
  }

  _kindDescription() {
    const d = this.distortions?.[$('stn-kind').value];
    $('stn-kind-desc').textContent = d ? `${d.description} (${d.side}×${d.side} inputs)` : '';
  }

  _manualTheta() {
    return {
      rotation: Number($('stn-rot').value),
      scale: Number($('stn-scale').value),
      tx: Number($('stn-tx').value),
      ty: Number($('stn-ty').value),
    };
  }

  _manual() {
    return !this.hasModel || $('stn-manual').checked;
  }

  _drawTheta() {
    const m = this._manualTheta();
    $('stn-rot-v').textContent = `${m.rotation}°`;
    $('stn-scale-v').textContent = m.scale.toFixed(2);
    $('stn-tx-v').textContent = m.tx.toFixed(2);
    $('stn-ty-v').textContent = m.ty.toFixed(2);
    $('stn-rot').setAttribute('aria-valuetext', `${m.rotation} degrees`);
    const t = affineTheta(m);
    const f = (v) => (v >= 0 ? ' ' : '') + v.toFixed(2);
    $('stn-theta').textContent = `θ = ⎡${f(t[0])} ${f(t[1])} ${f(t[2])} ⎤\n    ⎣${f(t[3])} ${f(t[4])} ${f(t[5])} ⎦`;
  }

  _note(text, bad = false) {
    const el = $('stn-note');
    el.textContent = text;
    el.classList.toggle('bad', bad);
  }

  _status() {
    if (!this.caps) return;
    const parts = [];
    if (!this.caps.createSTN) {
      parts.push('Training waits for the STN model (g.createSTN is not in this build yet). Meanwhile, steer θ by hand below: each output tile samples the input inside its orange outline.');
    } else if (!this.hasModel) {
      parts.push('Press Train: a fresh network learns to classify these digits, and its θ (orange) learns to undo the distortion.');
    } else if (this.running) {
      parts.push('Training… outputs and outlines follow the network’s θ; label badges show its predictions.');
    }
    parts.push('Data: MNIST digits distorted by g.distort; the 16 shown are never trained on.');
    this._note(parts.join(' '));
  }

  // ----- worker requests

  async _sample() {
    try {
      const b = await this.client.request('stn.sample', { kind: $('stn-kind').value });
      this.batch = b;
      $('stn-in-size').textContent = `${b.S}×${b.S}`;
      this.view = null;
      if (this._manual()) await this._apply();
      else this._setView(await this.client.request('stn.view'));
      this._status();
    } catch (e) {
      this._note(e.message, true);
    }
  }

  async _apply() {
    if (!this.batch) return;
    try {
      // Your θ, or (a network and "use my θ" unticked) the network's θ and its predictions.
      const manual = this._manual();
      const v = await this.client.request(manual ? 'stn.apply' : 'stn.view', manual ? { manual: this._manualTheta() } : {});
      if (manual === this._manual()) this._setView(v);
    } catch (e) {
      this._note(e.message, true);
    }
  }

  async _train() {
    try {
      this._setRunning(true);
      await this.client.request('stn.train', { kind: $('stn-kind').value, batch: 64 });
      this.hasModel = true;
      this.modelKind = $('stn-kind').value;
      $('stn-manual').disabled = false;
      $('stn-manual').checked = false;
      this._padRange();
      this._status();
    } catch (e) {
      this._setRunning(false);
      this._note(e.message, true);
    }
  }

  async _pause() {
    this._setRunning(false);
    try {
      await this.client.request('stn.pause');
      this._status();
    } catch (e) {
      this._note(e.message, true);
    }
  }

  async _resetModel() {
    this._setRunning(false);
    try {
      await this.client.request('stn.reset');
    } catch (e) {
      this._note(e.message, true);
    }
    this.hasModel = false;
    this.modelKind = null;
    $('stn-manual').checked = true;
    $('stn-manual').disabled = true;
    this._clearStats();
    this._padRange();
  }

  /** A new model (reset, pretrained): no number of the previous run stays on screen. */
  _clearStats() {
    this.loss = [];
    this.trainAcc = [];
    this.testAcc = [];
    $('stn-accuracy').textContent = '–';
    $('stn-loss').textContent = '–';
    $('stn-throughput').textContent = '–';
    $('stn-throughput').title = '';
    $('stn-epoch').textContent = '–';
    $('stn-epoch-bar').value = 0;
    this._charts();
  }

  async _pretrained() {
    $('stn-pretrained').disabled = true;
    this._note('Loading the pretrained transformer…');
    try {
      if (this.running) await this._pause();
      const r = await this.client.request('stn.pretrained');
      this.hasModel = true;
      this.modelKind = r.kind;
      this._clearStats();
      $('stn-kind').value = r.kind;
      this._kindDescription();
      $('stn-manual').disabled = false;
      $('stn-manual').checked = false;
      this._padRange();
      this._eval({ accuracy: r.accuracy, step: 0 });
      await this._sample();
      if (this.padInk) this.classify();
      this._note(`Pretrained transformer loaded (${r.kind} distortion, ${r.size}×${r.size} inputs): ${(r.accuracy * 100).toFixed(1)}% on held-out digits. Draw on the pad, or press Train to keep training it.`);
    } catch (e) {
      this._note(`Pretrained model: ${e.message}`, true);
    } finally {
      $('stn-pretrained').disabled = !this.caps?.pretrained;
    }
  }

  _setRunning(on) {
    this.running = on;
    $('stn-train').textContent = on ? 'Pause' : 'Train';
    $('stn-train').setAttribute('aria-pressed', String(on));
  }

  // ----- progress events

  _progress(m) {
    if (!this.running) return; // a late event of a run that was paused or replaced
    this.lastProgress = m;
    $('stn-loss').textContent = m.loss.toFixed(3);
    $('stn-throughput').textContent = Math.round(m.imagesPerSecond).toLocaleString('en-US');
    $('stn-throughput').title = `wall clock: images trained over the last few seconds of training, everything included (making the distorted batches, test evaluation, other panels training in the same worker); trainBatch alone runs at ${Math.round(m.stepImagesPerSecond).toLocaleString('en-US')} images/s`;
    $('stn-epoch').textContent = m.epoch.toFixed(2);
    $('stn-epoch-bar').value = m.epoch % 1;
    this.loss.push([m.step, m.loss]);
    const prev = this.trainAcc.at(-1)?.[1] ?? m.accuracy;
    this.trainAcc.push([m.step, prev * 0.8 + m.accuracy * 0.2]);
    if (this.loss.length > 2000) {
      this.loss = this.loss.filter((_, i) => i % 2 === 0);
      this.trainAcc = this.trainAcc.filter((_, i) => i % 2 === 0);
    }
    this._charts();
  }

  _eval(m) {
    $('stn-accuracy').textContent = `${(m.accuracy * 100).toFixed(1)}%`;
    this.testAcc.push([m.step, m.accuracy]);
    this._charts();
  }

  _charts() {
    const w = widthOf($('stn-loss-chart'), 200, 420);
    lineChart($('stn-loss-chart'), w, 118, [{ points: this.loss, color: '#4f46e5' }], {
      yMin: 0, xLabel: 'step', title: 'training loss (cross-entropy)',
    });
    lineChart($('stn-acc-chart'), w, 118, [
      { points: this.trainAcc, color: '#6366f1' }, // 4.5:1 on white
      { points: this.testAcc, color: '#059669', dots: true },
    ], { yMin: 0, yMax: 1, xLabel: 'step', title: 'accuracy: train (line), test (dots)', yFormat: (v) => `${Math.round(v * 100)}%` });
  }

  // ----- drawing

  _setView(v) {
    this.view = v;
    this._drawInputs();
    this._drawOutputs();
    $('stn-out-from').textContent = v.from === 'model' ? '(network’s θ)' : '(your θ)';
  }

  _tileXY(i) {
    return [(i % COLS) * (TILE + GAP), Math.floor(i / COLS) * (TILE + GAP)];
  }

  _drawInputs() {
    const b = this.batch;
    if (!b) return;
    const ctx = fitCanvas($('stn-inputs'), SIDE, SIDE);
    ctx.clearRect(0, 0, SIDE, SIDE);
    const n = Math.min(b.N, COLS * COLS);
    for (let i = 0; i < n; i++) {
      const [x, y] = this._tileXY(i);
      drawValues(ctx, b.images, i * b.S * b.S, b.S, b.S, x, y, TILE, TILE);
      const th = this.view?.theta;
      if (!th) continue;
      // The output's corners (±1, ±1) land at θ·(x, y, 1) in the input; draw that quadrilateral.
      const t = th.subarray(i * 6, i * 6 + 6);
      const corner = (u, w) => [x + ((t[0] * u + t[1] * w + t[2] + 1) / 2) * TILE, y + ((t[3] * u + t[4] * w + t[5] + 1) / 2) * TILE];
      const pts = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, TILE, TILE);
      ctx.clip();
      quad(ctx, pts, '#f59e0b', 1.5);
      // Mark the output's top edge, so rotations read unambiguously.
      ctx.strokeStyle = '#fde68a';
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.moveTo(...pts[0]);
      ctx.lineTo(...pts[1]);
      ctx.stroke();
      ctx.restore();
    }
  }

  _drawOutputs() {
    const v = this.view;
    const b = this.batch;
    if (!v || !b) return;
    const ctx = fitCanvas($('stn-outputs'), SIDE, SIDE);
    ctx.clearRect(0, 0, SIDE, SIDE);
    const n = Math.min(b.N, COLS * COLS);
    for (let i = 0; i < n; i++) {
      const [x, y] = this._tileXY(i);
      const So = v.So ?? b.S;
      drawValues(ctx, v.output, i * So * So, So, So, x, y, TILE, TILE);
      if (v.predicted) {
        const ok = v.predicted[i] === v.labels[i];
        ctx.fillStyle = ok ? '#059669' : '#dc2626';
        ctx.fillRect(x + TILE - 17, y + 2, 15, 15);
        ctx.fillStyle = '#fff';
        ctx.font = 'bold 11px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(String(v.predicted[i]), x + TILE - 9.5, y + 10);
      }
    }
  }

  // ----- the drawing pad
  //
  // The pad's pixels hold only ink: strokes are drawn in white on a transparent canvas (the dark
  // background is the element's CSS, the "draw here" hint an HTML overlay), and the alpha channel
  // is read as the image, so the background is exactly 0 and full ink 1, as in the training data.

  _wirePad() {
    const pad = $('stn-pad');
    const ctx = this._padCtx();
    let drawing = false, last = null;
    const pos = (e) => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * pad.width, ((e.clientY - r.top) / r.height) * pad.height];
    };
    pad.addEventListener('pointerdown', (e) => {
      drawing = true;
      $('stn-pad-hint').hidden = true;
      pad.setPointerCapture(e.pointerId);
      last = pos(e);
      this._stroke(ctx, last, last);
    });
    pad.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      const p = pos(e);
      this._stroke(ctx, last, p);
      last = p;
    });
    const end = () => {
      if (!drawing) return;
      drawing = false;
      this._inkChanged();
    };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
    // Keyboard: nothing to draw with, but the classifier can still be tried on a test digit.
    pad.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this._padTestDigit();
      } else if (e.key === 'Delete' || e.key === 'Backspace' || e.key === 'Escape') {
        e.preventDefault();
        this._clearPad();
      }
    });
    $('stn-pad-clear').addEventListener('click', () => this._clearPad());
  }

  _padCtx() {
    return $('stn-pad').getContext('2d', { willReadFrequently: true });
  }

  _inkChanged() {
    this.padInk = true;
    this.padVersion++;
    this.classify();
  }

  _stroke(ctx, a, b) {
    ctx.strokeStyle = '#fff';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = 15;
    ctx.beginPath();
    ctx.moveTo(...a);
    ctx.lineTo(...b);
    ctx.stroke();
  }

  /** Enter on the pad: the next of the 16 distorted test digits, as ink on the pad (the pad is the input canvas). */
  _padTestDigit() {
    const b = this.batch;
    if (!b) return;
    const k = this.padDigit++ % Math.min(b.N, COLS * COLS);
    const S = b.S;
    const small = document.createElement('canvas');
    small.width = S;
    small.height = S;
    const sc = small.getContext('2d');
    const img = sc.createImageData(S, S);
    for (let i = 0; i < S * S; i++) {
      img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = 255;
      img.data[i * 4 + 3] = Math.round(Math.max(0, Math.min(1, b.images[k * S * S + i])) * 255);
    }
    sc.putImageData(img, 0, 0);
    const pad = $('stn-pad');
    const ctx = this._padCtx();
    ctx.clearRect(0, 0, pad.width, pad.height);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
    $('stn-pad-hint').hidden = true;
    this.padKeyDigit = b.labels[k];
    this._inkChanged();
  }

  _clearPad() {
    const pad = $('stn-pad');
    this._padCtx().clearRect(0, 0, pad.width, pad.height);
    $('stn-pad-hint').hidden = false;
    this.padInk = false;
    this.padVersion++;
    this.padLast = null;
    $('stn-pad-label').textContent = '–';
    $('stn-pad-why').textContent = '';
    placeholder($('stn-pad-out'), 180, 84, 'input → rectified');
    placeholder($('stn-pad-probs'), 180, 52, 'class probabilities');
  }

  /** What the pad's network was trained on (or that there is none): the range a drawing should stay in. */
  _padRange() {
    const el = $('stn-pad-range');
    const d = this.modelKind && this.distortions?.[this.modelKind];
    if (!this.hasModel) {
      el.textContent = 'No network yet: the pad shows your θ applied to your drawing. Train one, or load the pretrained one, to read it.';
    } else if (d) {
      el.textContent = `This network was trained on ${this.modelKind} digits (${d.description}); drawings outside that range, such as upside-down digits or ones filling the pad, are guesses.`;
    } else {
      el.textContent = '';
    }
  }

  async _classify() {
    if (!this.padInk || !this.caps) return;
    const pad = $('stn-pad');
    const P = pad.width;
    const version = this.padVersion;
    const px = this._padCtx().getImageData(0, 0, P, P).data;
    const img = new Float32Array(P * P);
    for (let i = 0; i < P * P; i++) img[i] = px[i * 4 + 3] / 255; // ink coverage: 0 background, 1 ink
    try {
      const useManual = this._manual();
      const r = await this.client.request('stn.classify', { pad: img, P, manual: useManual ? this._manualTheta() : undefined }, [img.buffer]);
      if (version !== this.padVersion) return; // the pad changed meanwhile; its own request follows
      const ctx = fitCanvas($('stn-pad-out'), 180, 84);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 180, 84);
      drawValues(ctx, r.image, 0, r.S, r.S, 0, 0, 84, 84);
      drawValues(ctx, r.output, 0, r.So ?? r.S, r.So ?? r.S, 96, 0, 84, 84);
      ctx.fillStyle = '#57606e';
      ctx.font = '16px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('→', 90, 42);
      this.padLast = { version, label: r.label, from: r.from, image: r.image };
      if (r.label !== null && r.label !== undefined) {
        $('stn-pad-label').textContent = String(r.label);
        $('stn-pad-why').textContent = `${Math.round(r.probs[r.label] * 100)}% sure${r.from === 'manual' ? ', reading through your θ' : ''}`;
        const pc = fitCanvas($('stn-pad-probs'), 180, 52);
        pc.fillStyle = '#fff';
        pc.fillRect(0, 0, 180, 52);
        for (let k = 0; k < 10; k++) {
          const h = r.probs[k] * 36;
          pc.fillStyle = k === r.label ? '#312e81' : '#7880f4'; // both ≥ 3:1 on white
          pc.fillRect(k * 18 + 2, 38 - h, 14, h);
          pc.fillStyle = '#374151';
          pc.font = '10px system-ui, sans-serif';
          pc.textAlign = 'center';
          pc.fillText(String(k), k * 18 + 9, 47);
        }
      } else {
        $('stn-pad-label').textContent = '–';
        $('stn-pad-why').textContent = 'no classifier yet';
        placeholder($('stn-pad-probs'), 180, 52, ['no classifier yet:', 'press Train']);
      }
    } catch (e) {
      this._note(e.message, true);
    }
  }
}
