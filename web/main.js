// main.js: boots the page. Starts the compute worker, shows which wasm build runs, reports load
// failures and worker errors in a banner (with a restart button), and hands the worker to the
// three panels, which only ever touch the DOM and their canvases.
import { WorkerClient } from './client.js';
import { StnPanel } from './stn-panel.js';
import { DrawPanel } from './draw-panel.js';
import { NtmPanel } from './ntm-panel.js';

const $ = (id) => document.getElementById(id);

// ?simd=0 forces the scalar build (passed on to the worker).
const workerUrl = new URL('./worker.js', import.meta.url);
const simdParam = new URLSearchParams(location.search).get('simd');
if (simdParam !== null) workerUrl.searchParams.set('simd', simdParam);

const client = new WorkerClient(workerUrl);
const panels = [new StnPanel(client), new DrawPanel(client), new NtmPanel(client)];

function showBanner(title, detail) {
  $('banner-title').textContent = title;
  $('banner-detail').textContent = detail ?? '';
  $('banner').hidden = false;
}

function setBuild(text, cls, title) {
  const el = $('build');
  el.textContent = text;
  el.className = `pill ${cls}`;
  if (title) el.title = title;
}

client.on('ready', (info) => {
  $('banner').hidden = true;
  if (info.simd) {
    setBuild('wasm SIMD build', 'pill-simd', `running dist/glimpse-${info.build}.wasm (128-bit wasm SIMD${info.threads > 1 ? ', shared memory' : ''})`);
  } else {
    const why = info.simdSupported ? 'forced with ?simd=0' : 'this browser has no wasm SIMD';
    setBuild(`scalar build (${why})`, 'pill-scalar', 'running dist/glimpse-scalar.wasm');
  }
  const th = $('threads');
  th.textContent = info.threads > 1 ? `${info.threads} threads` : `1 thread${info.threadsReason ? `: ${info.threadsReason}` : ''}`;
  th.className = `pill ${info.threads > 1 ? 'pill-simd' : 'pill-scalar'}`;
  th.title = info.threads > 1 ? 'the worker trains with this many threads (a shared-memory wasm build); results do not depend on the count' : info.threadsReason || 'one thread';
  const mb = (info.memoryBytes / 2 ** 20).toFixed(0);
  $('memory').textContent = `${mb} MB wasm memory · loaded in ${Math.round(info.loadMs)} ms`;
  document.documentElement.dataset.workerReady = 'true';
  for (const p of panels) p.ready(info);
});

client.on('fatal', ({ error }) => {
  setBuild('wasm failed to load', 'pill-bad');
  showBanner('The WebAssembly core could not be loaded.', `${error.message} (run ./build.sh, then reload or restart).`);
  document.documentElement.dataset.workerReady = 'false';
  for (const p of panels) p.unavailable?.(error);
});

client.on('error', ({ error }) => {
  showBanner('The compute worker reported an error.', error.message);
});

// The heartbeat found the worker gone (terminated, killed for memory, or hung): say so, stop the
// panels' "Training…" states and offer Restart, as for any other worker failure.
client.on('dead', ({ error }) => {
  setBuild('worker stopped', 'pill-bad');
  showBanner('The compute worker stopped responding.', `${error.message}. Training and the panels' buttons need it: restart it to go on.`);
  document.documentElement.dataset.workerReady = 'dead';
  for (const p of panels) p.lost?.(error);
});

client.on('restart', () => {
  setBuild('loading wasm…', 'pill-wait');
  $('memory').textContent = '';
  document.documentElement.dataset.workerReady = 'restarting';
  for (const p of panels) p.reset();
});

$('banner-restart').addEventListener('click', () => {
  $('banner').hidden = true;
  client.restart();
});
$('banner-close').addEventListener('click', () => ($('banner').hidden = true));

// Errors in the page's own modules end up in the banner too.
window.addEventListener('error', (e) => showBanner('The page hit an error.', e.message));
window.addEventListener('unhandledrejection', (e) => showBanner('The page hit an error.', e.reason?.message ?? String(e.reason)));

// Refresh the memory figure now and then (training grows it).
setInterval(async () => {
  if (!client.info) return;
  try {
    const r = await client.request('info');
    const mb = (r.memoryBytes / 2 ** 20).toFixed(0);
    $('memory').textContent = `${mb} MB wasm memory`;
  } catch {
    /* the worker is restarting */
  }
}, 5000);

client.start();
window.glimpsePage = { client, panels }; // for the e2e test and curious readers
// Test hooks (tests/e2e.test.js): kill the worker the way a crash would, without telling the client.
window.__glimpse = { client, panels, terminateWorker: () => client.worker.terminate() };
