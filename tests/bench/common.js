// common.js: shared pieces of the benchmark harness: the timing protocol, medians, ratio checks,
// spawning helper programs that print JSON, and the table printer.
//
// Timing protocol (the same in tests/native/bench_stn.c and tests/bench/torch_stn.py, so the
// engines are measured alike):
//   1. warm up: call fn for at least `warmup` seconds (and at least 3 times), so V8 has tiered the
//      wasm up from Liftoff to TurboFan and caches are warm;
//   2. calibrate: double the call count until one batch of calls takes >= minTime / 4, estimate
//      `iters` for a run of about `minTime` seconds, time one such untimed run and re-estimate
//      (the first estimate is often made while V8's background compiler still runs);
//   3. time `runs` runs of `iters` calls each; report the median seconds per call (and min, max).
// Clock: process CPU time (user + system), not wall time. The machine is shared: when other jobs
// keep every core busy the scheduler takes our thread off the CPU for milliseconds at a time, and
// wall-clock medians then measured the load (seen: wall 2-3x CPU, spreads of 100%+), not the
// kernel. CPU time is what the single-threaded kernel consumed; the wall-clock medians are kept
// too (wallSec) so the contention is visible. All engines are single-threaded, so the two agree
// on an idle machine.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** Timing settings: the default run and --quick. */
export const PROFILES = {
  default: { warmup: 0.25, minTime: 0.1, runs: 7 },
  quick: { warmup: 0.15, minTime: 0.02, runs: 3 },
};

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Process CPU time (user + system) in seconds. */
export function cpuNow() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Time fn with the protocol above.
 * @returns {{ sec, min, max, wallSec, iters, runs: number[], wallRuns: number[] }} seconds per call
 */
export function measure(fn, { warmup, minTime, runs }) {
  let t0 = cpuNow();
  for (let calls = 0; calls < 3 || cpuNow() - t0 < warmup; calls++) fn();
  let k = 1, t = 0;
  for (;;) {
    t0 = cpuNow();
    for (let i = 0; i < k; i++) fn();
    t = cpuNow() - t0;
    if (t >= minTime / 4 || k >= 1 << 30) break;
    k *= 2;
  }
  let iters = Math.max(1, Math.ceil((k * minTime) / Math.max(t, 1e-9)));
  t0 = cpuNow();
  for (let i = 0; i < iters; i++) fn();
  iters = Math.max(1, Math.ceil((iters * minTime) / Math.max(cpuNow() - t0, 1e-9)));
  const per = [], wall = [];
  for (let r = 0; r < runs; r++) {
    const w0 = performance.now();
    t0 = cpuNow();
    for (let i = 0; i < iters; i++) fn();
    per.push((cpuNow() - t0) / iters);
    wall.push((performance.now() - w0) / 1000 / iters);
  }
  return summarize(per, iters, wall);
}

/** Median/min/max of seconds-per-call samples (also used for results from helper programs). */
export function summarize(per, iters, wall = null) {
  return {
    sec: median(per), min: Math.min(...per), max: Math.max(...per),
    wallSec: wall ? median(wall) : null, iters, runs: per, wallRuns: wall,
  };
}

/** value `op` target, e.g. check(3.4, '>=', 3) → { value, op, target, met: true } */
export function check(value, op, target) {
  const met = value == null || !Number.isFinite(value) ? null : op === '>=' ? value >= target : value <= target;
  return { value, op, target, met };
}

/**
 * Run a helper program that prints one JSON object on stdout.
 * @returns {{ ok: true, json: any } | { ok: false, reason: string }}
 */
export function runJson(cmd, args, { timeoutSec = 300 } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutSec * 1000, maxBuffer: 1 << 26 });
  if (r.error) return { ok: false, reason: `${cmd}: ${r.error.message}` };
  if (r.status !== 0) {
    const err = (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return { ok: false, reason: `${cmd} exited with ${r.status ?? r.signal}${err ? `: ${err}` : ''}` };
  }
  try {
    return { ok: true, json: JSON.parse(r.stdout) };
  } catch (e) {
    return { ok: false, reason: `${cmd} printed invalid JSON: ${e.message}` };
  }
}

/** Progress goes to stderr, so `--json` output on stdout stays machine-readable. */
export function progress(msg) {
  process.stderr.write(`  ${msg}\n`);
}

/** Format a number with `digits` significant decimals, or '-' when missing. */
export function fmt(x, digits = 1) {
  if (x == null || !Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

/** '3.42×  met' / '1.20×  MISSED' for a check(), or just the ratio when it has no target. */
export function fmtCheck(c, digits = 2) {
  if (c == null || c.value == null || !Number.isFinite(c.value)) return '-';
  const v = `${c.value.toFixed(digits)}×`;
  if (c.target == null) return v;
  return `${v} ${c.met ? 'met' : 'MISSED'}`;
}

/**
 * Print a table: { title, columns: [{ key, label, align: 'left'|'right' }], rows: [{ key: string }],
 * notes: [string] }. Cells must already be strings.
 */
export function printTable({ title, columns, rows, notes = [] }, out = process.stdout) {
  const width = columns.map((c) => Math.max(c.label.length, ...rows.map((r) => String(r[c.key] ?? '').length)));
  const cell = (c, i, s) => (c.align === 'left' ? s.padEnd(width[i]) : s.padStart(width[i]));
  const line = (cells) => cells.join('  ').trimEnd();
  const lines = [];
  if (title) lines.push(title);
  lines.push(line(columns.map((c, i) => cell(c, i, c.label))));
  lines.push(line(columns.map((c, i) => '-'.repeat(width[i]))));
  for (const r of rows) lines.push(line(columns.map((c, i) => cell(c, i, String(r[c.key] ?? '')))));
  for (const n of notes) lines.push(n);
  out.write(lines.join('\n') + '\n\n');
}
