// e2e.test.js: the web page in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; never a downloaded browser). Starts web/serve.js on a free port, then checks:
// the page loads with a clean console and says which wasm build runs; load failures show the error
// banner and the worker can be restarted; the canvases are drawn and change where they should; the
// data-testid hooks behave; and, as the models land, that training raises STN test accuracy, the
// pad classifies a stroke, and the DRAW and NTM animations move. Screenshots of each panel go to
// tests/artifacts/ (git-ignored). Parts that wait on a model not yet in the build are skipped
// with a message naming it, so the run shows what is still missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadavg, availableParallelism } from 'node:os';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = new URL('./artifacts/', import.meta.url);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Launch flags from TOOLCHAIN.md (playwright adds --headless and a fresh temporary profile).
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

let server, base, browser, chromium;
const skipAll = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

before(async () => {
  if (skipAll) return;
  ({ chromium } = await import('playwright-core'));
  mkdirSync(ARTIFACTS, { recursive: true });
  server = spawn(process.execPath, ['web/serve.js'], { cwd: ROOT, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve.js did not start: ${out}`)), 10000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/(http:\/\/\S+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`serve.js exited with ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** A fresh page whose console errors, page errors and failed requests are collected. */
async function open(path = '/', { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on?.('console', (m) => m.type() === 'error' && problems.push(`worker console: ${m.text()}`)));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(base + path);
  return { page, context, problems };
}

async function waitReady(page) {
  await page.waitForFunction(() => document.documentElement.dataset.workerReady === 'true', null, { timeout: 30000 });
  return page.evaluate(() => window.glimpsePage.client.info);
}

/** Pixel statistics of a canvas: distinct colours (capped) and a cheap hash, to tell blank/changed. */
function canvasStats(page, testid) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      if (colours.size < 64) colours.add(v);
      h = Math.imul(h ^ v, 16777619) >>> 0;
    }
    return { colours: colours.size, hash: h, width: c.width, height: c.height };
  }, testid);
}

/** Wait until the canvas's pixels differ from `hash` (an animation or an update happened). */
async function waitChange(page, testid, hash, timeout = 10000) {
  const t0 = Date.now();
  for (;;) {
    const s = await canvasStats(page, testid);
    if (s.hash !== hash) return s;
    if (Date.now() - t0 > timeout) throw new Error(`canvas ${testid} did not change within ${timeout} ms`);
    await page.waitForTimeout(100);
  }
}

async function shot(page, selector, name) {
  const el = page.locator(selector);
  await el.scrollIntoViewIfNeeded();
  await el.screenshot({ path: fileURLToPath(new URL(name, ARTIFACTS)) });
}

test('serve.js: content types, / redirects to the page, nothing outside the repository', async () => {
  const { createStaticServer } = await import('../web/serve.js');
  const srv = createStaticServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const root = `http://127.0.0.1:${srv.address().port}`;
  try {
    const home = await fetch(root + '/', { redirect: 'manual' });
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/web/');
    const page = await fetch(root + '/web/');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await page.text(), /data-testid="stn-train"/);
    const wasm = await fetch(root + '/dist/glimpse-simd.wasm');
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal((await wasm.arrayBuffer()).byteLength > 0, true);
    const js = await fetch(root + '/src/js/index.js');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const gz = await fetch(root + '/data/mnist-10k.bin.gz');
    if (gz.status === 200) {
      assert.equal(gz.headers.get('content-type'), 'application/gzip');
      assert.equal(gz.headers.get('content-encoding'), null);
    }
    // Raw requests, so the client does not normalise the dot segments away.
    const raw = (path) => new Promise((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port: srv.address().port, path }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
    });
    for (const p of ['/..%2f..%2fetc%2fpasswd', '/../../etc/passwd', '/web/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/.git/config', '/web/%00']) {
      const code = await raw(p);
      assert.ok(code === 403 || code === 404, `${p} answered ${code}`);
    }
    assert.equal(await raw('/package.json'), 200);
    assert.equal(await raw('/web/nope.js'), 404);
  } finally {
    srv.close();
  }
});

test('the page loads with a clean console, says which build runs, and draws every panel', { skip: skipAll }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  t.diagnostic(`build ${info.build}, load ${Math.round(info.loadMs)} ms, caps ${JSON.stringify(info.caps)}`);
  assert.equal(info.simd, true, 'headless Chromium supports wasm SIMD, so the SIMD build should run');
  assert.match(await page.getByTestId('build').textContent(), /SIMD/);
  assert.equal(await page.getByTestId('error-banner').isVisible(), false);
  assert.equal(await page.title(), 'glimpse-wasm · attention you can watch and touch');

  // STN: distorted inputs and transformer outputs are drawn (many grey levels, not a placeholder).
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent !== '');
  for (const id of ['stn-inputs', 'stn-outputs']) {
    const s = await canvasStats(page, id);
    assert.ok(s.colours >= 32, `${id} looks blank (${s.colours} colours)`);
  }
  // Moving θ by hand changes the outputs.
  const before = await canvasStats(page, 'stn-outputs');
  await page.locator('#stn-rot').fill('60');
  const afterRot = await waitChange(page, 'stn-outputs', before.hash);
  assert.ok(afterRot.colours >= 16);
  // A new distortion gives a new input size.
  await page.selectOption('[data-testid="stn-kind"]', 'T');
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent === '60×60');
  await page.selectOption('[data-testid="stn-kind"]', 'RTS');
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent === '42×42');
  await page.locator('#stn-rot').fill('0');

  // The draw pad produces a rectified image even without a model.
  const pad = page.getByTestId('stn-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.2, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.85, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => {
    const c = document.getElementById('stn-pad-out');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let bright = 0;
    for (let i = 0; i < d.length; i += 4) bright += d[i] > 200 && d[i + 1] > 200 ? 1 : 0;
    return bright > 50 && bright < d.length / 4 - 100;
  });

  // DRAW: the filterbank geometry is drawn; with g.draw the glimpse follows a drag.
  const fb0 = await canvasStats(page, 'draw-fb-image');
  assert.ok(fb0.colours >= 16, 'the filterbank digit looks blank');
  if (info.caps.draw) {
    const g0 = await canvasStats(page, 'draw-glimpse');
    const img = page.getByTestId('draw-fb-image');
    await img.scrollIntoViewIfNeeded();
    const b = await img.boundingBox();
    await page.mouse.click(b.x + b.width * 0.3, b.y + b.height * 0.35);
    await waitChange(page, 'draw-glimpse', g0.hash);
  } else {
    t.diagnostic('DRAW glimpse: skipped, g.draw not in this build yet');
  }

  // NTM: the addressing demo steps the head and the history grows.
  if (info.caps.ntm) {
    await page.locator('#na-gate').fill('0');
    await page.locator('#na-sp').fill('1');
    const h0 = await canvasStats(page, 'ntm-addr-history');
    await page.getByTestId('ntm-addr-step').click();
    await waitChange(page, 'ntm-addr-history', h0.hash);
  } else {
    t.diagnostic('NTM addressing demo: skipped, g.ntm not in this build yet');
  }

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: fileURLToPath(new URL('page.png', ARTIFACTS)), fullPage: true });
  await shot(page, '#stn', 'stn.png');
  await shot(page, '#draw', 'draw.png');
  await shot(page, '#ntm', 'ntm.png');
  assert.deepEqual(problems, [], 'console errors or failed requests');
  await context.close();
});

test('under npm start the page is cross-origin isolated and its worker trains with threads', { skip: skipAll }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  const isolated = await page.evaluate(() => self.crossOriginIsolated);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const badge = await page.getByTestId('threads').textContent();
  t.diagnostic(`crossOriginIsolated ${isolated}, ${cores} cores, worker: ${info.threads} threads (${info.build}); badge "${badge}"`);
  assert.equal(isolated, true);
  assert.equal(info.crossOriginIsolated, true);
  assert.equal(info.threads, Math.min(cores, 8));
  assert.equal(info.build, info.threads > 1 ? 'simd-threads' : 'simd');
  assert.match(badge, new RegExp(`\\b${info.threads} thread`));
  assert.deepEqual(problems, []);
  await context.close();
});

test('served without the isolation headers (a plain static host), the page runs single-threaded and says why', { skip: skipAll }, async (t) => {
  const { createStaticServer } = await import('../web/serve.js');
  const srv = createStaticServer({ isolate: false });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${srv.address().port}/web/`);
    const info = await waitReady(page);
    const badge = await page.getByTestId('threads').textContent();
    t.diagnostic(`not isolated: ${info.threads} thread; badge "${badge}"`);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
    assert.equal(info.threads, 1);
    assert.match(info.threadsReason, /cross-origin isolated/);
    assert.match(badge, /1 thread: .*cross-origin isolated/);
    // still works: a pretrained model scores on the test digits
    await page.getByTestId('stn-pretrained').click();
    await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent), null, { timeout: 30000 });
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    srv.close();
  }
});

// The target (issue: threads) is 90 % within 25 s of Train on an otherwise idle 2-core machine; the
// time is printed (and written to tests/artifacts/page-training.txt) with the load average beside it,
// and asserted only within a bound that a machine shared with other work still meets: a timed test
// would fail on load, not on a regression (speed is measured by npm run bench).
test('training in the page reaches 90 % test accuracy on the default RTS distortion (time printed; target 25 s)', { skip: skipAll, timeout: 240000 }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  assert.equal(await page.inputValue('[data-testid="stn-kind"]'), 'RTS', 'the default distortion');
  const train = page.getByTestId('stn-train');
  await train.click();
  const t0 = Date.now(), LIMIT = 180000;
  let acc = 0, at = null;
  while (Date.now() - t0 < LIMIT) {
    await page.waitForTimeout(250);
    const txt = await page.getByTestId('stn-accuracy').textContent();
    acc = /%$/.test(txt) ? parseFloat(txt) : 0;
    if (acc >= 90) {
      at = (Date.now() - t0) / 1000;
      break;
    }
  }
  const ips = await page.getByTestId('stn-throughput').textContent();
  const load = loadavg()[0].toFixed(1);
  const line = `page training, RTS, ${info.threads} threads: ${at === null ? `${acc}% after ${LIMIT / 1000} s` : `90% test accuracy (${acc}%) after ${at.toFixed(1)} s (target 25 s: ${at <= 25 ? 'met' : 'missed'})`}; ${ips} images/s; load average ${load} on ${availableParallelism()} cores`;
  t.diagnostic(line);
  writeFileSync(new URL('page-training.txt', ARTIFACTS), `${line}\n`);
  await train.click();
  assert.ok(at !== null, `test accuracy ${acc}% after ${LIMIT / 1000} s (load average ${load})`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('?simd=0 runs the scalar build and says so', { skip: skipAll }, async () => {
  const { page, context, problems } = await open('/web/?simd=0');
  const info = await waitReady(page);
  assert.equal(info.simd, false);
  assert.match(await page.getByTestId('build').textContent(), /scalar build \(forced/);
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent !== '');
  assert.ok((await canvasStats(page, 'stn-outputs')).colours >= 32);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a wasm load failure shows the error banner, and restarting the worker recovers', { skip: skipAll }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // both SIMD builds (the threaded one is tried first where the page is isolated)
  await context.route('**/dist/glimpse-simd*.wasm', (r) => r.fulfill({ status: 404, body: 'gone' }));
  await page.goto(base + '/');
  const banner = page.getByTestId('error-banner');
  await banner.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await banner.textContent(), /could not be loaded.*HTTP 404/s);
  assert.match(await page.getByTestId('build').textContent(), /failed/);
  await page.screenshot({ path: fileURLToPath(new URL('error-banner.png', ARTIFACTS)) });
  await context.unroute('**/dist/glimpse-simd*.wasm');
  await page.getByTestId('restart-worker').click();
  await waitReady(page);
  assert.equal(await banner.isVisible(), false);
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent !== '');
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test('STN training raises test accuracy and reports throughput', { skip: skipAll, timeout: 240000 }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  if (!info.caps.createSTN) return t.skip('g.createSTN is not in this build yet');
  await page.selectOption('[data-testid="stn-kind"]', 'R');
  await page.waitForFunction(() => document.getElementById('stn-in-size').textContent === '28×28');
  const train = page.getByTestId('stn-train');
  await train.click();
  await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent));
  const first = parseFloat(await page.getByTestId('stn-accuracy').textContent());
  const out0 = await canvasStats(page, 'stn-outputs');
  const t0 = Date.now();
  let acc = first;
  while (Date.now() - t0 < 180000) {
    await page.waitForTimeout(2000);
    acc = parseFloat(await page.getByTestId('stn-accuracy').textContent());
    if (acc >= Math.max(60, first + 30)) break;
  }
  const ips = Number((await page.getByTestId('stn-throughput').textContent()).replace(/,/g, ''));
  const wall = await page.getByTestId('stn-throughput').getAttribute('title');
  t.diagnostic(`STN test accuracy ${first}% → ${acc}% in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${ips} images/s (trainBatch), ${wall}`);
  writeFileSync(new URL('stn-throughput.txt', ARTIFACTS), `${ips} images/s (trainBatch, batch 64, headless Chromium, SIMD)\n${wall}\n`);
  assert.ok(acc >= first + 20, `test accuracy went from ${first}% to only ${acc}%`);
  assert.ok(ips > 0, 'images/s not reported');
  await waitChange(page, 'stn-outputs', out0.hash);
  await train.click(); // pause
  await page.waitForFunction(() => document.querySelector('[data-testid="stn-train"]').textContent === 'Train');
  await shot(page, '#stn', 'stn-trained.png');

  // The pad: a drawn "1" gets a class label.
  const pad = page.getByTestId('stn-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.85, { steps: 10 });
  await page.mouse.up();
  await page.waitForFunction(() => /^\d$/.test(document.querySelector('[data-testid="stn-pad-label"]').textContent));
  t.diagnostic(`pad stroke classified as ${await page.getByTestId('stn-pad-label').textContent()}`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('STN: the pretrained model loads, scores well and reads a drawn digit', { skip: skipAll, timeout: 60000 }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  if (!info.caps.pretrained) return t.skip("g.pretrained('stn-mnist') is not in this build yet");
  await page.getByTestId('stn-pretrained').click();
  await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent), null, { timeout: 30000 });
  const acc = parseFloat(await page.getByTestId('stn-accuracy').textContent());
  t.diagnostic(`pretrained STN: ${acc}% on 500 held-out distorted digits (${await page.locator('#stn-kind').inputValue()})`);
  assert.ok(acc >= 80, `pretrained accuracy only ${acc}%`);
  const pad = page.getByTestId('stn-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 10 });
  await page.mouse.up();
  await page.waitForFunction(() => /^\d$/.test(document.querySelector('[data-testid="stn-pad-label"]').textContent));
  t.diagnostic(`pad stroke read as ${await page.getByTestId('stn-pad-label').textContent()}`);
  await shot(page, '#stn', 'stn-pretrained.png');
  assert.deepEqual(problems, []);
  await context.close();
});

test('DRAW: the step-by-step drawing animates', { skip: skipAll, timeout: 60000 }, async (t) => {
  const { page, context, problems } = await open('/');
  const info = await waitReady(page);
  if (!info.caps.createDRAW) return t.skip('g.createDRAW is not in this build yet');
  const play = page.getByTestId('draw-play');
  await play.waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="draw-play"]').disabled, null, { timeout: 30000 });
  if ((await play.getAttribute('aria-pressed')) !== 'true') await play.click();
  const s0 = await canvasStats(page, 'draw-canvas');
  const s1 = await waitChange(page, 'draw-canvas', s0.hash);
  await waitChange(page, 'draw-canvas', s1.hash);
  await play.click();
  assert.equal(await play.getAttribute('aria-pressed'), 'false');
  // Reconstructing a test digit shows read windows too.
  await page.getByTestId('draw-reconstruct').click();
  await waitChange(page, 'draw-canvas', (await canvasStats(page, 'draw-canvas')).hash);
  await shot(page, '#draw', 'draw-model.png');
  // Train from scratch: progress is reported and the loss curve appears; then pause.
  const train = page.getByTestId('draw-train');
  await train.click();
  await page.waitForFunction(() => /^step \d+/.test(document.getElementById('draw-train-stat').textContent), null, { timeout: 30000 });
  t.diagnostic(`DRAW training: ${await page.locator('#draw-train-stat').textContent()}`);
  await train.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="draw-train"]').textContent === 'Resume training');
  assert.deepEqual(problems, []);
  await context.close();
});

// ---------------------------------------------------------------------------------------------
// Issue 15: how the page treats its visitor (the pad, accessibility, honest numbers, a dead worker).

const DESKTOP = { viewport: { width: 1400, height: 1000 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** A fresh page in a context with the given options (viewport, isMobile, reducedMotion, …), problems collected. */
async function openWith(options, path = '/', { media } = {}) {
  const context = await browser.newContext({ deviceScaleFactor: 1, ...options });
  const page = await context.newPage();
  if (media) await page.emulateMedia(media);
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(base + path);
  return { page, context, problems };
}

// ---------------------------------------------------------------------------------------------
// Issue 13 (the NTM tasks) and issue 12 (DRAW at T = 64) on the page.

const NTM_TASKS = ['copy', 'repeat-copy', 'recall', 'ngrams', 'sort'];

/** Pick an NTM task and wait for its first run. */
async function selectTask(page, task) {
  await page.locator(`input[name="ntm-task"][value="${task}"]`).check();
  await page.waitForFunction((k) => window.__glimpse.panels[2].trace?.task === k, task, { timeout: 30000 });
}

/** The DRAW panel on a T = 64 model: the shipped one once it has 64 steps, until then a fresh one of the paper's attention sizes made in the page. */
async function draw64(page) {
  const steps = await page.evaluate(() => window.__glimpse.panels[1].trace?.steps);
  if (steps === 64) return 'the shipped model';
  await page.evaluate(() => window.__glimpse.panels[1].useModel({ T: 64, readN: 2, writeN: 5, hidden: 32, latent: 10 }));
  await page.waitForFunction(() => window.__glimpse.panels[1].trace?.steps === 64);
  return 'a T = 64 model made in the page';
}

test('DRAW at T = 64: the step slider covers every step and the animation reaches the last one at a sensible pace', { skip: skipAll, timeout: 90000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  await waitReady(page);
  await page.waitForFunction(() => !document.querySelector('[data-testid="draw-play"]').disabled, null, { timeout: 30000 });
  const which = await draw64(page);
  const play = page.getByTestId('draw-play');
  if ((await play.getAttribute('aria-pressed')) === 'true') await play.click();
  const slider = page.getByTestId('draw-step');
  assert.equal(await slider.getAttribute('min'), '1');
  assert.equal(await slider.getAttribute('max'), '64');
  // The slider reaches every step: the last one shows the finished canvas.
  await slider.fill('64');
  assert.equal(await page.locator('#draw-step-v').textContent(), '64 / 64');
  assert.equal(await slider.getAttribute('aria-valuetext'), 'step 64 of 64');
  // A pass at normal speed: a fixed time per step, the whole pass a few seconds (not 64 × 380 ms).
  const pace = await page.locator('#draw-speed-v').textContent();
  const [, ms, total] = pace.match(/(\d+) ms a step, ([\d.]+) s for 64 steps/).map(Number);
  t.diagnostic(`DRAW T = 64 (${which}): ${pace}`);
  assert.ok(ms >= 50 && total >= 3 && total <= 12, pace);
  // At the fast speed, one pass from step 1 draws all 64 steps (each frame a new canvas and window) and ends on the last.
  await page.getByTestId('draw-speed').selectOption('0.4');
  await slider.fill('1');
  const frames = new Set();
  const t0 = Date.now();
  await play.click();
  while (Date.now() - t0 < 30000) {
    const r = await page.evaluate(() => ({ passes: window.__glimpse.panels[1].passes ?? 0, shown: window.__glimpse.panels[1].lastPassShown, label: document.getElementById('draw-step-v').textContent }));
    frames.add((await canvasStats(page, 'draw-canvas')).hash);
    if (r.passes >= 1) {
      t.diagnostic(`one pass: ${r.shown} steps drawn in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${frames.size} distinct frames sampled, label "${r.label}"`);
      assert.equal(r.shown, 64, 'every step drawn in the pass');
      assert.equal(r.label, '64 / 64', 'the pass ends on the last step');
      break;
    }
    await page.waitForTimeout(50);
  }
  assert.ok(frames.size >= 8, `the canvas changed only ${frames.size} times during the pass`);
  await play.click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('NTM: every task of the paper animates, reports its error, takes edits within its rules and says when one breaks them', { skip: skipAll, timeout: 120000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  const info = await waitReady(page);
  if (!info.caps.createNTM) return t.skip('g.createNTM is not in this build yet');
  await page.waitForFunction(() => !document.querySelector('[data-testid="ntm-play"]').disabled, null, { timeout: 60000 });
  const tasks = await page.evaluate(() => Object.fromEntries(Object.entries(window.__glimpse.panels[2].tasks).map(([k, v]) => [k, v.shipped])));
  t.diagnostic(`NTM tasks with shipped weights: ${Object.entries(tasks).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'}; untrained (train here): ${Object.entries(tasks).filter(([, v]) => !v).map(([k]) => k).join(', ') || 'none'}`);
  assert.deepEqual(Object.keys(tasks).sort(), [...NTM_TASKS].sort());
  assert.equal(tasks.copy, true, 'ntm-copy is shipped');
  const note = () => page.getByTestId('ntm-note').textContent();
  for (const task of NTM_TASKS) {
    await selectTask(page, task);
    const play = page.getByTestId('ntm-play');
    if ((await play.getAttribute('aria-pressed')) !== 'true') await play.click();
    // It animates: the memory, the weightings' cursor and the step frame move on.
    const m0 = await canvasStats(page, 'ntm-memory');
    const w0 = await canvasStats(page, 'ntm-write');
    await waitChange(page, 'ntm-memory', (await waitChange(page, 'ntm-memory', m0.hash)).hash);
    await waitChange(page, 'ntm-write', w0.hash);
    // It reports its error: wrong bits (N-grams: bits against the Bayes-optimal estimator).
    const said = await note();
    t.diagnostic(`${task}: ${said} | ${await page.getByTestId('ntm-model').textContent()}`);
    assert.match(said, task === 'ngrams' ? /cost [\d.]+ bits, the Bayes-optimal estimator's [\d.]+ bits/ : /\d+ wrong bits? of \d+/);
    assert.match(await page.getByTestId('ntm-train').textContent(), tasks[task] ? /Train from scratch/ : /Train it here/);
    assert.equal(await page.getByTestId('ntm-pretrained').isDisabled(), true);
    await play.click();
  }

  // Past the training range: repeat copy with more repeats than trained, its errors marked.
  await selectTask(page, 'repeat-copy');
  await page.getByTestId('ntm-size-repeats').fill('20');
  await page.waitForFunction(() => window.__glimpse.panels[2].trace.sizes.repeats === 20);
  const rc = await note();
  t.diagnostic(`repeat copy ×20: ${rc}`);
  assert.match(rc, /× 20 repeats \(outside the training range: repeats past \d+\): \d+ wrong bits? of \d+/);

  // Recall: the query slider picks another item (the answer follows); flipping a query bit asks
  // for an item not in the list, which the library refuses: its message is shown, the step marked.
  await selectTask(page, 'recall');
  await page.getByTestId('ntm-size-items').fill('5');
  await page.waitForFunction(() => window.__glimpse.panels[2].trace.sizes.items === 5);
  await page.getByTestId('ntm-query').fill('3');
  await page.waitForFunction(() => window.__glimpse.panels[2].trace.query === 2);
  assert.match(await note(), /the answer is item 4/);
  const K = 3, n = 5, Ix = 8, qt = n * (K + 1) + 1; // the first query vector's step
  const inp = page.getByTestId('ntm-input');
  await inp.focus();
  await page.evaluate((step) => (window.__glimpse.panels[2].cursor = { t: step, c: 0 }), qt);
  const bit0 = await page.evaluate((i) => window.__glimpse.panels[2].trace.input[i], qt * Ix);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.__glimpse.panels[2].invalid !== null);
  const refused = await note();
  t.diagnostic(`recall, a query bit flipped: ${refused}`);
  assert.match(refused, /^Not run: .*query .*equals none of the items/);
  assert.equal(await page.evaluate(() => window.__glimpse.panels[2].invalid.step), qt);
  await page.keyboard.press('Space'); // flipped back: valid again
  await page.waitForFunction(() => window.__glimpse.panels[2].invalid === null && /wrong bit/.test(document.getElementById('ntm-note').textContent));
  assert.equal(await page.evaluate((i) => window.__glimpse.panels[2].trace.input[i], qt * Ix), bit0);
  assert.equal(await page.evaluate(() => window.__glimpse.panels[2].trace.query), 2);

  // Sort: + raises the priority of the vector under the cursor; eight heads, one at a time or stacked.
  await selectTask(page, 'sort');
  await inp.focus();
  const p0 = await page.evaluate(() => window.__glimpse.panels[2].trace.input[8]);
  await page.keyboard.press(p0 > 0.85 ? '-' : '+');
  await page.waitForFunction((p) => Math.abs(window.__glimpse.panels[2].trace.input[8] - p) > 0.05, p0);
  assert.match(await page.locator('#ntm-cursor').textContent(), /^vector 1 of \d+, bit 1: (on|off), priority -?\d\.\d\d$/);
  const heads = await page.getByTestId('ntm-head').locator('option').count();
  const readHeads = await page.evaluate(() => window.__glimpse.panels[2].trace.readHeads);
  assert.equal(heads, readHeads + 1, 'every head, and all of them stacked');
  const stacked = await canvasStats(page, 'ntm-read');
  await page.getByTestId('ntm-head').selectOption('2');
  const one = await canvasStats(page, 'ntm-read');
  assert.ok(one.height < stacked.height, 'one head is drawn alone');

  // N-grams: the model's and the Bayes-optimal probabilities are drawn.
  await selectTask(page, 'ngrams');
  assert.equal(await page.locator('#ntm-prob-fig').isVisible(), true);
  assert.ok((await canvasStats(page, 'ntm-prob')).colours >= 3);

  // A task without shipped weights trains here: progress is reported; then pause.
  const untrained = NTM_TASKS.find((k) => !tasks[k]) ?? 'copy';
  await selectTask(page, untrained);
  const train = page.getByTestId('ntm-train');
  await train.click();
  await page.waitForFunction(() => /^step \d+/.test(document.getElementById('ntm-train-stat').textContent), null, { timeout: 30000 });
  t.diagnostic(`NTM training (${untrained}): ${await page.locator('#ntm-train-stat').textContent()}`);
  await train.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="ntm-train"]').textContent === 'Resume training');
  assert.deepEqual(problems, []);
  await context.close();
});

// Digits as pen strokes in a unit box (x right, y down), drawn on the pad with the mouse.
const arc = (cx, cy, rx, ry, a0, a1, n = 16) => Array.from({ length: n + 1 }, (_, i) => {
  const a = ((a0 + ((a1 - a0) * i) / n) * Math.PI) / 180;
  return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
});
const DIGIT_STROKES = {
  0: [arc(0.5, 0.5, 0.42, 0.5, -90, 270, 24)],
  1: [[[0.35, 0.15], [0.55, 0], [0.55, 0.5], [0.55, 1]]],
  2: [[...arc(0.5, 0.28, 0.4, 0.28, 180, 380, 12), [0.05, 1], [0.95, 1]]],
  3: [[...arc(0.48, 0.25, 0.38, 0.25, 200, 450, 12), ...arc(0.48, 0.73, 0.44, 0.27, -90, 160, 12)]],
  4: [[[0.62, 0], [0.05, 0.68], [0.98, 0.68]], [[0.72, 0.3], [0.72, 1]]],
  5: [[[0.9, 0], [0.2, 0], [0.12, 0.45], ...arc(0.48, 0.68, 0.42, 0.32, -120, 160, 14)]],
  6: [[[0.8, 0.02], ...arc(0.9, 0.62, 0.8, 0.6, 240, 180, 6), ...arc(0.5, 0.72, 0.4, 0.28, 180, 540, 18)]],
  7: [[[0.02, 0], [0.98, 0], [0.35, 1]]],
  8: [[...arc(0.5, 0.24, 0.34, 0.24, 90, 450, 16), ...arc(0.5, 0.74, 0.42, 0.26, -90, 270, 16)]],
  9: [[...arc(0.5, 0.28, 0.4, 0.28, 0, 360, 18), [0.9, 0.28], [0.85, 1]]],
};

/** Digit d's strokes `size` (a fraction of the pad's side) tall, turned by `deg` (clockwise), centred at (cx, cy). */
function placeDigit(d, { size, deg = 0, cx = 0.5, cy = 0.5 }) {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  return DIGIT_STROKES[d].map((line) => line.map(([x, y]) => {
    const u = (x - 0.5) * 0.62 * size, v = (y - 0.5) * size;
    return [cx + u * c - v * s, cy + u * s + v * c];
  }));
}

/** Draw strokes (pad fractions) on the pad with the mouse and wait for the pad's reading of the last one. */
async function drawOnPad(page, strokes) {
  const box = await page.getByTestId('stn-pad').boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  for (const line of strokes) {
    await page.mouse.move(...at(line[0]));
    await page.mouse.down();
    for (const p of line.slice(1)) await page.mouse.move(...at(p));
    await page.mouse.up();
  }
  await page.waitForFunction(() => {
    const p = window.__glimpse.panels[0];
    return p.padLast && p.padLast.version === p.padVersion;
  }, null, { timeout: 10000 });
  return page.evaluate(() => window.__glimpse.panels[0].padLast.label);
}

test('the drawing pad: background is 0, and small digits in the corners and digits turned up to ±40°, drawn with the mouse, are read', { skip: skipAll, timeout: 120000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  await waitReady(page);
  await page.getByTestId('stn-pretrained').click();
  await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent), null, { timeout: 30000 });
  const kind = await page.inputValue('[data-testid="stn-kind"]');
  // Item 6: the pad says what the network was trained for, not "anywhere, at any angle".
  const range = await page.getByTestId('stn-pad-range').textContent();
  const help = await page.getByTestId('stn-pad-help').textContent();
  t.diagnostic(`pad help: ${help.replace(/\s+/g, ' ')} | ${range}`);
  assert.doesNotMatch(`${help} ${range}`, /any angle/);
  assert.match(range, new RegExp(`trained on ${kind} digits \\(.*±45°`));
  await page.getByTestId('stn-pad').scrollIntoViewIfNeeded();

  const corners = [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]];
  const cases = [];
  for (let d = 0; d < 10; d++) {
    // every digit in two opposite corners, every corner five times
    for (const [cx, cy] of [corners[d % 4], corners[3 - (d % 4)]]) cases.push({ d, kind: 'small, in a corner', o: { size: 0.36, cx, cy } });
    for (const deg of [-40, 40]) cases.push({ d, kind: 'turned ±40°', o: { size: 0.5, deg, cx: 0.5, cy: 0.5 } });
  }
  const tally = {};
  const wrong = [];
  let pixels = null;
  for (const c of cases) {
    await page.locator('#stn-pad-clear').click();
    const label = await drawOnPad(page, placeDigit(c.d, c.o));
    // The same strokes the old way: the pad painted #111 and read as red/255 (background 0.067).
    const old = await page.evaluate(async () => {
      const pad = document.getElementById('stn-pad');
      const a = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
      const img = new Float32Array(pad.width * pad.height);
      for (let i = 0; i < img.length; i++) img[i] = (17 + (238 * a[i * 4 + 3]) / 255) / 255;
      const r = await window.__glimpse.client.request('stn.classify', { pad: img, P: pad.width });
      return r.label;
    });
    if (!pixels) {
      // What the page sends: 0 where nothing was drawn, up to 1 on the strokes.
      pixels = await page.evaluate(() => {
        const im = window.__glimpse.panels[0].padLast.image;
        let zeros = 0, max = 0, min = Infinity;
        for (const v of im) {
          zeros += v === 0 ? 1 : 0;
          max = Math.max(max, v);
          min = Math.min(min, v);
        }
        const pad = document.getElementById('stn-pad');
        const corner = pad.getContext('2d').getImageData(0, 0, 8, 8).data;
        return { n: im.length, zeros, min, max, cornerAlpha: Math.max(...corner.filter((_, i) => i % 4 === 3)) };
      });
    }
    const k = (tally[c.kind] ??= { n: 0, right: 0, old: 0 });
    k.n++;
    k.right += label === c.d ? 1 : 0;
    k.old += old === c.d ? 1 : 0;
    if (label !== c.d) wrong.push(`${c.d} read as ${label} (${c.kind}, ${JSON.stringify(c.o)})`);
  }
  const all = Object.values(tally).reduce((a, k) => ({ n: a.n + k.n, right: a.right + k.right, old: a.old + k.old }), { n: 0, right: 0, old: 0 });
  for (const [name, k] of Object.entries(tally)) t.diagnostic(`pad, ${name}: ${k.right}/${k.n} right (the old #111 background: ${k.old}/${k.n})`);
  t.diagnostic(`pad, all: ${all.right}/${all.n} right (old: ${all.old}/${all.n}); pixels sent: ${pixels.zeros}/${pixels.n} exactly 0, range [${pixels.min}, ${pixels.max.toFixed(3)}]${wrong.length ? `; wrong: ${wrong.join('; ')}` : ''}`);
  writeFileSync(new URL('pad-recognition.txt', ARTIFACTS), `${JSON.stringify({ tally, all, pixels, wrong }, null, 1)}\n`);
  assert.equal(pixels.cornerAlpha, 0, 'the pad holds ink only: its background must read as 0');
  assert.equal(pixels.min, 0);
  assert.ok(pixels.zeros > pixels.n / 2, `only ${pixels.zeros}/${pixels.n} input pixels are 0: the background is read as ink`);
  assert.ok(pixels.max > 0.9, 'strokes should reach full ink');
  const corner = tally['small, in a corner'], turned = tally['turned ±40°'];
  assert.ok(corner.right >= 0.75 * corner.n, `small digits in the corners: ${corner.right}/${corner.n}`);
  assert.ok(turned.right >= 0.75 * turned.n, `turned digits: ${turned.right}/${turned.n}`);
  assert.ok(all.right >= 0.8 * all.n, `${all.right}/${all.n}`);

  // Item 3: with a network, moving θ by hand shows (it ticks "use my θ"), and the pad follows the same rule.
  assert.equal(await page.getByTestId('stn-manual').isChecked(), false);
  const out0 = await canvasStats(page, 'stn-outputs');
  const padOut0 = await canvasStats(page, 'stn-pad-out');
  await page.locator('#stn-rot').fill('30');
  await waitChange(page, 'stn-outputs', out0.hash);
  assert.equal(await page.getByTestId('stn-manual').isChecked(), true, 'moving a θ slider should switch to "use my θ"');
  assert.equal(await page.getByTestId('stn-out-from').textContent(), '(your θ)');
  await waitChange(page, 'stn-pad-out', padOut0.hash);
  await page.waitForFunction(() => window.__glimpse.panels[0].padLast?.from === 'manual');
  // the classifier reads the drawing through the hand-set θ (model.classify), and says so
  assert.match(await page.getByTestId('stn-pad-label').textContent(), /^\d$/);
  assert.match(await page.locator('#stn-pad-why').textContent(), /% sure, reading through your θ$/);
  await page.getByTestId('stn-manual').uncheck();
  await page.waitForFunction(() => window.__glimpse.panels[0].padLast?.from === 'model');
  assert.match(await page.getByTestId('stn-pad-label').textContent(), /^\d$/);
  assert.equal(await page.getByTestId('stn-out-from').textContent(), '(network’s θ)');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a worker that dies mid-training is noticed: the error banner with Restart, no panel left "Training…"', { skip: skipAll, timeout: 90000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  await waitReady(page);
  const train = page.getByTestId('stn-train');
  await train.click();
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="stn-throughput"]').textContent), null, { timeout: 30000 });
  assert.equal(await train.textContent(), 'Pause');
  const t0 = Date.now();
  await page.evaluate(() => window.__glimpse.terminateWorker()); // as a crash or the browser's OOM killer would
  const banner = page.getByTestId('error-banner');
  await banner.waitFor({ state: 'visible', timeout: 20000 });
  const detected = (Date.now() - t0) / 1000;
  const text = await banner.textContent();
  t.diagnostic(`dead worker noticed after ${detected.toFixed(1)} s: ${text.replace(/\s+/g, ' ').trim()}`);
  assert.match(text, /stopped responding/);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.workerReady), 'dead');
  assert.equal(await train.textContent(), 'Train', 'the STN panel still says it trains');
  assert.equal(await train.isDisabled(), true);
  assert.match(await page.locator('#stn-note').textContent(), /Restart/);
  // Requests fail at once now instead of hanging.
  const err = await page.evaluate(() => window.__glimpse.client.request('info').then(() => 'answered', (e) => e.message));
  assert.match(err, /stopped responding/);
  await page.getByTestId('restart-worker').click();
  await waitReady(page);
  assert.equal(await banner.isVisible(), false);
  await page.waitForFunction(() => !document.querySelector('[data-testid="stn-train"]').disabled);
  await train.click();
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="stn-throughput"]').textContent), null, { timeout: 30000 });
  await train.click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('all three panels training at once: images/s is wall clock (it matches the steps counted), and Load pretrained leaves no stale number', { skip: skipAll, timeout: 120000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  await waitReady(page);
  await page.waitForFunction(() => !document.querySelector('[data-testid="draw-train"]').disabled && !document.querySelector('[data-testid="ntm-train"]').disabled, null, { timeout: 30000 });
  await page.getByTestId('stn-train').click();
  await page.getByTestId('draw-train').click();
  await page.getByTestId('ntm-train').click();
  // Every progress event, stamped on arrival, to count what was really trained in the shown window.
  await page.evaluate(() => {
    window.__log = { stn: [], draw: [], ntm: [] };
    for (const k of Object.keys(window.__log)) window.__glimpse.client.on(`${k}.progress`, (m) => window.__log[k].push({ at: performance.now(), ...m }));
  });
  await page.waitForFunction(() => window.__glimpse.panels.every((p) => p.lastProgress), null, { timeout: 30000 });
  await page.waitForTimeout(9000);
  const log = await page.evaluate(() => window.__log);
  const rows = [['stn', 64, 'imagesPerSecond', 'images'], ['draw', 16, 'imagesPerSecond', 'images'], ['ntm', 8, 'sequencesPerSecond', 'sequences']];
  const lines = [];
  for (const [name, batch, key, unit] of rows) {
    // The worker's figure covers the last 4 s of its loop: count the steps that arrived in those 4 s.
    const ev = log[name], last = ev.at(-1);
    const first = ev.find((e) => e.at >= last.at - 4000);
    const real = ((last.step - first.step) * batch * 1000) / (last.at - first.at);
    const shown = last[key];
    const old = last.stepImagesPerSecond;
    lines.push({ name, real, shown, old, unit });
    t.diagnostic(`${name}: shown ${shown.toFixed(1)} ${unit}/s, counted from its steps ${real.toFixed(1)} ${unit}/s${old ? `; the old trainBatch-only figure ${old.toFixed(0)}` : ''}`);
  }
  writeFileSync(new URL('throughput-wall.txt', ARTIFACTS), `${JSON.stringify(lines, null, 1)}\n`);
  for (const { name, real, shown } of lines) {
    assert.ok(real > 0, `${name} did not train`);
    assert.ok(Math.abs(shown / real - 1) < 0.25, `${name}: shows ${shown.toFixed(1)}/s, trains ${real.toFixed(1)}/s`);
  }
  const shownText = Number((await page.getByTestId('stn-throughput').textContent()).replace(/,/g, ''));
  assert.ok(Math.abs(shownText / lines[0].real - 1) < 0.35, `STN shows ${shownText} images/s`);
  assert.ok(lines[0].old > 1.5 * lines[0].real, 'the trainBatch-only figure should be the larger one here (else this test cannot tell them apart)');
  assert.match(await page.getByTestId('stn-throughput').getAttribute('title'), /^wall clock/);

  // DRAW's loss chart: the first steps (~660 nats) are clipped so the rest of the curve shows.
  const chart = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="draw-loss-chart"]');
    const pts = window.__glimpse.panels[1].losses.map((p) => p[1]);
    return { y0: Number(c.dataset.y0), y1: Number(c.dataset.y1), first: pts[0], last: pts.at(-1), n: pts.length };
  });
  t.diagnostic(`DRAW loss chart: ${chart.n} points, first ${chart.first.toFixed(0)}, last ${chart.last.toFixed(0)} nats; y axis ${chart.y0.toFixed(0)}–${chart.y1.toFixed(0)}`);
  assert.ok(chart.n >= 3);
  assert.ok(chart.y1 < chart.first, 'the first point sets the scale again');
  assert.ok(chart.last > chart.y0 && chart.last <= chart.y1);

  // Load pretrained while training: none of the old run's numbers stay.
  await page.getByTestId('stn-pretrained').click();
  await page.waitForFunction(() => /Pretrained transformer loaded/.test(document.getElementById('stn-note').textContent), null, { timeout: 30000 });
  await page.waitForTimeout(1000);
  for (const id of ['stn-loss', 'stn-throughput', 'stn-epoch']) assert.equal(await page.locator(`#${id}`).textContent(), '–', `#${id} kept the old run's value`);
  assert.equal(await page.locator('#stn-epoch-bar').evaluate((e) => e.value), 0);
  assert.equal(await page.getByTestId('stn-train').textContent(), 'Train');

  // DRAW and NTM: "Train from scratch" replaced the pretrained model; Load pretrained brings it back.
  for (const panel of ['draw', 'ntm']) {
    const button = page.getByTestId(`${panel}-pretrained`);
    assert.equal(await button.isDisabled(), false, `${panel}: no way back to the pretrained model`);
    await button.click();
    // (the NTM panel describes its model in #ntm-model; #ntm-note is the announced result line)
    await page.waitForFunction((id) => /^Pretrained/.test(document.getElementById(id).textContent), panel === 'ntm' ? 'ntm-model' : 'draw-note', { timeout: 30000 });
    await page.waitForTimeout(500);
    assert.equal(await page.locator(`#${panel}-train-stat`).textContent(), '', `${panel}: the old run's numbers stayed`);
    assert.equal(await page.locator(`#${panel}-loss-chart`).isHidden(), true);
    assert.equal(await page.getByTestId(`${panel}-train`).textContent(), 'Train from scratch');
    assert.equal(await button.isDisabled(), true);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

/** WCAG contrast of every visible text on the page, from computed styles: the colour against what is painted under it. */
function textContrasts(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [r, g, b, a];
    };
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
    /** The colour painted under element el at its text: the backgrounds of what lies beneath, composited. */
    const backdrop = (node) => {
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getClientRects()[0];
      const stack = document.elementsFromPoint(r.left + Math.min(4, r.width / 2), r.top + r.height / 2);
      const layers = [];
      for (const e of stack) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg && bg[3] > 0) layers.push(bg);
        if (bg && bg[3] === 1) break;
      }
      let c = [255, 255, 255, 1];
      for (const l of layers.reverse()) c = over(l, c);
      return c;
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || seen.has(el)) continue;
      seen.add(el);
      if (el.closest('[hidden], .sr-only, option, script, style') || !el.getClientRects().length) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      if (!range.getClientRects().length) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility !== 'visible') continue;
      if (el.closest('button:disabled, input:disabled, select:disabled, label:has(input:disabled)')) continue; // inactive controls are exempt (WCAG 1.4.3)
      el.scrollIntoView({ block: 'center', behavior: 'instant' });
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      const under = backdrop(n);
      const fg = over([...parse(cs.color).slice(0, 3), parse(cs.color)[3] * opacity], under);
      const [a, b] = [lum(fg), lum(under)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
      const large = size >= 24 || (size >= 18.66 && bold);
      out.push({ text: n.textContent.trim().slice(0, 40), tag: el.tagName, id: el.id || el.className, ratio, need: large ? 3 : 4.5, color: cs.color, under: `rgb(${under.slice(0, 3).map(Math.round).join(',')})` });
    }
    window.scrollTo(0, 0);
    return out;
  });
}

/** Chromium's accessibility tree (CDP): every control with its role and computed name. */
async function axControls(page) {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const CONTROLS = new Set(['button', 'slider', 'checkbox', 'combobox', 'textbox', 'spinbutton', 'link', 'radio', 'switch', 'tab', 'menuitem', 'listbox', 'application', 'scrollbar']);
  return nodes
    .filter((n) => !n.ignored)
    .map((n) => ({
      role: n.role?.value,
      name: (n.name?.value ?? '').trim(),
      focusable: (n.properties ?? []).some((p) => p.name === 'focusable' && p.value.value),
    }))
    .filter((n) => CONTROLS.has(n.role) || (n.focusable && n.role !== 'RootWebArea'));
}

test('accessibility: every control is named, results are announced, text contrast ≥ 4.5:1, and the pad, the filterbank window and the NTM bits work from the keyboard', { skip: skipAll, timeout: 120000 }, async (t) => {
  const { page, context, problems } = await openWith(DESKTOP);
  await waitReady(page);
  await page.waitForFunction(() => !document.querySelector('[data-testid="ntm-play"]').disabled && !document.querySelector('[data-testid="draw-play"]').disabled, null, { timeout: 30000 });
  await page.getByTestId('stn-pretrained').click();
  await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent), null, { timeout: 30000 });

  const controls = await axControls(page);
  const unnamed = controls.filter((c) => !c.name);
  t.diagnostic(`accessibility tree: ${controls.length} controls (${[...new Set(controls.map((c) => c.role))].join(', ')}), ${unnamed.length} unnamed`);
  writeFileSync(new URL('aria-snapshot.yml', ARTIFACTS), await page.ariaSnapshot());
  assert.deepEqual(unnamed, [], 'controls without an accessible name');
  const sliders = controls.filter((c) => c.role === 'slider');
  assert.ok(sliders.length >= 16, `${sliders.length} sliders`);
  // Each slider is named by its own label, not by the number beside it.
  for (const name of ['rotation', 'zoom (θ scale)', 'shift x', 'shift y', 'N (grid)', 'stride δ', 'σ', 'key ≈ row', 'key strength β', 'gate g', 'sharpen γ', 'shift −1', 'shift +1', 'length', 'step']) {
    assert.ok(await page.getByRole('slider', { name, exact: true }).count() >= 1, `no slider named "${name}"`);
  }
  // Results are announced: the test accuracy, the pad's prediction, the copy task's outcome.
  for (const sel of ['#stn-accuracy', '#stn-pad-label', '#ntm-note']) {
    assert.ok(await page.locator(sel).evaluate((e) => !!e.closest('[aria-live="polite"], [aria-live="assertive"], [role="status"]')), `${sel} is not in a live region`);
  }

  const contrasts = await textContrasts(page);
  const low = contrasts.filter((c) => c.ratio < c.need);
  const min = contrasts.reduce((a, c) => (c.ratio < a.ratio ? c : a));
  const footerCode = contrasts.find((c) => c.tag === 'CODE' && /simd=0/.test(c.text));
  t.diagnostic(`text contrast: ${contrasts.length} texts, lowest ${min.ratio.toFixed(2)}:1 ("${min.text}", ${min.color} on ${min.under}); footer code ${footerCode.ratio.toFixed(2)}:1`);
  assert.deepEqual(low.map((c) => `${c.ratio.toFixed(2)}:1 "${c.text}" (${c.tag}#${c.id}, ${c.color} on ${c.under})`), [], 'text below WCAG AA contrast');
  // The train-accuracy line (a graphic: ≥ 3:1 on the chart's white).
  const trainLine = await page.evaluate(() => window.__glimpse.panels[0]._charts.toString().match(/trainAcc, color: '(#[0-9a-f]{6})'/)[1]);
  const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  const lumOf = (rgb) => 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  function f(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }
  const lineRatio = 1.05 / (lumOf(hex(trainLine)) + 0.05);
  t.diagnostic(`train-accuracy line ${trainLine}: ${lineRatio.toFixed(2)}:1 on white`);
  assert.ok(lineRatio >= 3, `train-accuracy line ${trainLine} is ${lineRatio.toFixed(2)}:1`);

  // Keyboard: the pad (Enter puts a test digit on it and it is read; Delete clears), ...
  const pad = page.getByTestId('stn-pad');
  await pad.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__glimpse.panels[0].padLast?.label !== undefined && window.__glimpse.panels[0].padLast?.label !== null);
  const keyed = await page.evaluate(() => ({ label: window.__glimpse.panels[0].padLast.label, truth: window.__glimpse.panels[0].padKeyDigit }));
  t.diagnostic(`pad from the keyboard: a test ${keyed.truth} read as ${keyed.label}`);
  assert.match(await page.getByTestId('stn-pad-label').textContent(), /^\d$/);
  await page.keyboard.press('Delete');
  assert.equal(await page.getByTestId('stn-pad-label').textContent(), '–');
  // ... the filterbank window (arrow keys move it, and the glimpse follows), ...
  const fb = page.getByTestId('draw-fb-image');
  await fb.focus();
  const g0 = await canvasStats(page, 'draw-glimpse');
  const pos0 = await page.getByTestId('draw-fb-pos').textContent();
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+ArrowDown');
  await waitChange(page, 'draw-glimpse', g0.hash);
  const pos1 = await page.getByTestId('draw-fb-pos').textContent();
  t.diagnostic(`filterbank from the keyboard: ${pos0} → ${pos1}`);
  assert.match(pos1, /\(17\.5, 18\.5\)/);
  // ... and the NTM input bits (arrow keys move a cursor, Space flips the bit under it).
  const bits = page.getByTestId('ntm-input');
  await bits.focus();
  // The copy task's input is steps×9 (8 bits, then the delimiter): vector 2, bit 3 is [1 * 9 + 2].
  const before = await page.evaluate(() => window.__glimpse.panels[2].input[1 * 9 + 2]);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Space');
  await page.waitForFunction((b) => window.__glimpse.panels[2].trace.input[1 * 9 + 2] !== b, before);
  const said = await page.locator('#ntm-cursor').textContent();
  t.diagnostic(`NTM bits from the keyboard: "${said}"`);
  assert.match(said, /^vector 2 of \d+, bit 3: (on|off)$/);
  // Every one of them is in the tab order.
  for (const id of ['stn-pad', 'fb-image', 'ntm-input']) assert.equal(await page.locator(`#${id}`).getAttribute('tabindex'), '0');
  assert.deepEqual(problems, []);
  await context.close();
});

test('prefers-reduced-motion: nothing animates by itself, Play still does', { skip: skipAll, timeout: 60000 }, async () => {
  const { page, context, problems } = await openWith(DESKTOP, '/', { media: { reducedMotion: 'reduce' } });
  await waitReady(page);
  await page.waitForFunction(() => !document.querySelector('[data-testid="ntm-play"]').disabled && !document.querySelector('[data-testid="draw-play"]').disabled, null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => matchMedia('(prefers-reduced-motion: reduce)').matches), true);
  for (const panel of ['draw', 'ntm']) assert.equal(await page.getByTestId(`${panel}-play`).getAttribute('aria-pressed'), 'false', `${panel} autoplays`);
  const d0 = await canvasStats(page, 'draw-canvas');
  const n0 = await canvasStats(page, 'ntm-memory');
  await page.waitForTimeout(1500);
  assert.equal((await canvasStats(page, 'draw-canvas')).hash, d0.hash, 'the DRAW canvas moved by itself');
  assert.equal((await canvasStats(page, 'ntm-memory')).hash, n0.hash, 'the NTM memory moved by itself');
  // What is shown is the finished result, not the blank first step.
  assert.match(await page.locator('#draw-step-v').textContent(), /^(\d+) \/ \1$/);
  await page.getByTestId('draw-play').click();
  await waitChange(page, 'draw-canvas', d0.hash);
  await page.getByTestId('draw-play').click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('layout at 1400 px and on a phone: both STN grids level, the distortion menu not cut off, NTM bits big enough to hit, the length up past the memory; screenshots of every panel', { skip: skipAll, timeout: 120000 }, async (t) => {
  for (const [label, options] of [['1400', DESKTOP], ['390', PHONE]]) {
    const { page, context, problems } = await openWith(options);
    await waitReady(page);
    await page.waitForFunction(() => !document.querySelector('[data-testid="ntm-play"]').disabled && !document.querySelector('[data-testid="draw-play"]').disabled, null, { timeout: 30000 });
    await page.getByTestId('stn-pretrained').click();
    await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="stn-accuracy"]').textContent), null, { timeout: 30000 });
    await page.waitForFunction(() => /network/.test(document.querySelector('[data-testid="stn-out-from"]').textContent));

    // The "(network's θ)" caption does not wrap and push its grid down.
    if (label === '1400') {
      const [a, b] = await Promise.all(['stn-inputs', 'stn-outputs'].map((id) => page.getByTestId(id).boundingBox()));
      t.diagnostic(`${label}: STN grids at y = ${a.y.toFixed(1)} and ${b.y.toFixed(1)}`);
      assert.ok(Math.abs(a.y - b.y) < 1, `the output grid is ${(b.y - a.y).toFixed(1)} px lower than the input grid`);
    }
    // Every distortion's menu text fits the select (measured with its own font, less the arrow).
    const menu = await page.getByTestId('stn-kind').evaluate((sel) => {
      const cs = getComputedStyle(sel);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
      return { room, texts: [...sel.options].map((o) => ({ text: o.text, width: ctx.measureText(o.text).width })) };
    });
    const cut = menu.texts.filter((o) => o.width > menu.room);
    t.diagnostic(`${label}: distortion menu ${menu.room.toFixed(0)} px for its text; widest "${menu.texts.reduce((a, o) => (o.width > a.width ? o : a)).text}"`);
    assert.deepEqual(cut.map((o) => `${o.text} (${o.width.toFixed(0)} px)`), [], 'menu entries cut off');

    // NTM: at length 40 (81 steps: one column per step) every input bit is at least 24×24 px and
    // a click flips the bit under it.
    const ntm = (f, arg) => page.evaluate(f, arg);
    const R = await ntm(() => window.__glimpse.panels[2].tasks.copy.R);
    const len = page.getByTestId('ntm-size-length');
    await len.fill('40');
    await page.waitForFunction(() => window.__glimpse.panels[2].trace?.sizes.length === 40);
    const inp = page.getByTestId('ntm-input');
    const cell = await ntm(() => {
      const p = window.__glimpse.panels[2];
      return { w: document.getElementById('ntm-input').getBoundingClientRect().width / p.trace.steps, h: p.view.rows[0].h, Ix: p.trace.inputWidth };
    });
    t.diagnostic(`${label}: NTM input bit at length 40: ${cell.w.toFixed(1)}×${cell.h.toFixed(1)} px`);
    assert.ok(cell.w >= 24 && cell.h >= 24, `input bits ${cell.w.toFixed(1)}×${cell.h.toFixed(1)} px`);
    await inp.scrollIntoViewIfNeeded();
    await page.locator('#ntm-bits').evaluate((e, x) => (e.scrollLeft = x), 33 * cell.w - 100);
    const at = 33 * cell.Ix + 5; // vector 34, bit 6
    const bitBefore = await ntm((i) => window.__glimpse.panels[2].input[i], at);
    const ib = await inp.boundingBox();
    const [x, y] = [ib.x + 33.5 * cell.w, ib.y + 5.5 * cell.h];
    if (options.hasTouch) await page.touchscreen.tap(x, y);
    else await page.mouse.click(x, y);
    await page.waitForFunction(([i, b]) => window.__glimpse.panels[2].trace.input[i] !== b, [at, bitBefore]);
    // The length goes past the memory's R rows, and the page says what breaks there.
    const max = Number(await len.getAttribute('max'));
    assert.ok(max > R, `length slider stops at ${max}, memory has ${R} rows`);
    if (label === '1400') {
      await len.fill(String(max));
      await page.waitForFunction((L) => window.__glimpse.panels[2].trace?.sizes.length === L, max, { timeout: 20000 });
      const note = await page.getByTestId('ntm-note').textContent();
      t.diagnostic(`length ${max}: ${note}`);
      assert.match(note, new RegExp(`longer than the memory's ${R} rows`));
      assert.match(note, /[1-9]\d* wrong bits/);
      await len.fill('8');
      await page.waitForFunction(() => window.__glimpse.panels[2].trace?.sizes.length === 8);
    }
    await len.fill('12');
    await page.waitForFunction(() => window.__glimpse.panels[2].trace?.sizes.length === 12);

    // Screenshots of each panel (a DRAW run in progress for the loss chart).
    await page.getByTestId('draw-train').click();
    await page.waitForFunction(() => window.__glimpse.panels[1].losses.length >= 6, null, { timeout: 30000 });
    await page.getByTestId('draw-train').click();
    await page.getByTestId('ntm-play').evaluate((b) => b.getAttribute('aria-pressed') === 'true' && b.click());
    await page.getByTestId('draw-play').evaluate((b) => b.getAttribute('aria-pressed') === 'true' && b.click());
    for (const id of ['stn', 'draw', 'ntm']) await shot(page, `#${id}`, `${id}-${label}.png`);

    // The NTM panel on every task (paused at 60 % of the run), and DRAW at T = 64.
    for (const task of NTM_TASKS) {
      await selectTask(page, task);
      await page.getByTestId('ntm-play').evaluate((b) => b.getAttribute('aria-pressed') === 'true' && b.click());
      const steps = await page.evaluate(() => window.__glimpse.panels[2].trace.steps);
      await page.getByTestId('ntm-step').fill(String(Math.ceil(steps * 0.6)));
      await shot(page, '#ntm-task-card', `ntm-${task}-${label}.png`);
    }
    await draw64(page);
    await page.getByTestId('draw-play').evaluate((b) => b.getAttribute('aria-pressed') === 'true' && b.click());
    await page.getByTestId('draw-step').fill('40');
    await shot(page, '#draw', `draw-T64-${label}.png`);
    assert.deepEqual(problems, []);
    await context.close();
  }
});
