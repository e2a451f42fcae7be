// common.js: the one timing harness of the benchmark sections (tests/bench/*.js): the timing
// protocol, medians, ratio checks, running each engine (the wasm builds in-process, the native
// and PyTorch helper programs that print JSON), the rows, tables and notes the sections share,
// and the table printer.
//
// Timing protocol (the same in tests/native/bench_common.h and tests/bench/torch_common.py, so
// the engines are measured alike):
//   1. warm up: call fn for at least `warmup` seconds (and at least 3 times), so V8 has tiered the
//      wasm up from Liftoff to TurboFan and caches are warm;
//   2. calibrate: double the call count until one batch of calls takes >= minTime / 4, estimate
//      `iters` for a run of about `minTime` seconds, time one such untimed run and re-estimate
//      (the first estimate is often made while V8's background compiler still runs);
//   3. time `runs` runs of `iters` calls each; report the median seconds per call (and min, max).
// Clock: process CPU time (user + system), not wall time, unless the profile says
// clock: 'wall' (bench.js --clock wall; the helper programs get --clock wall). The machine is
// shared: when other jobs keep every core busy the scheduler takes our thread off the CPU for
// milliseconds at a time, and wall-clock medians then measured the load (seen: wall 2-3x CPU,
// spreads of 100%+), not the kernel. CPU time is what the single-threaded kernel consumed; the
// wall-clock medians are kept too (wallSec) so the contention is visible. All engines are
// single-threaded, so the two agree on an idle machine; multi-threaded code needs the wall clock
// (CPU time adds up the threads), and then the CPU medians are kept (cpuSec).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { load } from '../../src/js/index.js';
import { loadTestBuild } from '../util.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The Python with PyTorch; override only to test the fallback. */
export const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';

/** Timing settings: the default run and --quick (bench.js may add clock: 'wall'). */
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

/** Wall-clock time in seconds. */
export function wallNow() {
  return performance.now() / 1000;
}

/**
 * Time fn with the protocol above, on the clock of the profile (clock: 'cpu', the default, or
 * 'wall'); every timed run records both clocks.
 * @returns {{ sec, min, max, wallSec, cpuSec, iters, runs: number[], wallRuns: number[], cpuRuns: number[], clock }}
 *   seconds per call; sec, min, max and runs on the timing clock
 */
export function measure(fn, { warmup, minTime, runs, clock = 'cpu' }) {
  return measureInterleaved([fn], { warmup, minTime, runs, clock })[0];
}

/** Warm fn up (≥ 3 calls and `warmup` s), then the number of calls that take about minTime s on `now`. */
function calibrate(fn, now, warmup, minTime) {
  let t0 = now();
  for (let calls = 0; calls < 3 || now() - t0 < warmup; calls++) fn();
  let k = 1, t = 0;
  for (;;) {
    t0 = now();
    for (let i = 0; i < k; i++) fn();
    t = now() - t0;
    if (t >= minTime / 4 || k >= 1 << 30) break;
    k *= 2;
  }
  let n = Math.max(1, Math.ceil((k * minTime) / Math.max(t, 1e-9)));
  t0 = now();
  for (let i = 0; i < n; i++) fn();
  return Math.max(1, Math.ceil((n * minTime) / Math.max(now() - t0, 1e-9)));
}

/**
 * measure() for several fns whose times are to be compared (e.g. the same workload on 1 and 2
 * threads): each fn is warmed up and calibrated as measure() does, then the timed runs alternate
 * (run r of fns[0], run r of fns[1], ...), so a change in the machine's load during the
 * measurement reaches all of them alike. Returns one measure() result per fn.
 */
export function measureInterleaved(fns, { warmup, minTime, runs, clock = 'cpu' }) {
  const now = clock === 'wall' ? wallNow : cpuNow;
  const iters = fns.map((fn) => calibrate(fn, now, warmup, minTime));
  const cpu = fns.map(() => []), wall = fns.map(() => []);
  for (let r = 0; r < runs; r++) {
    fns.forEach((fn, f) => {
      const w0 = performance.now();
      const c0 = cpuNow();
      for (let i = 0; i < iters[f]; i++) fn();
      cpu[f].push((cpuNow() - c0) / iters[f]);
      wall[f].push((performance.now() - w0) / 1000 / iters[f]);
    });
  }
  return fns.map((_, f) => (clock === 'wall' ? summarize(wall[f], iters[f], wall[f], { clock, cpuRuns: cpu[f] }) : summarize(cpu[f], iters[f], wall[f])));
}

/** measure() for an async fn (awaited on every call; e.g. onnxruntime-web's session.run): the same protocol and result. */
export async function measureAsync(fn, { warmup, minTime, runs, clock = 'cpu' }) {
  const now = clock === 'wall' ? wallNow : cpuNow;
  let t0 = now();
  for (let calls = 0; calls < 3 || now() - t0 < warmup; calls++) await fn();
  let k = 1, t = 0;
  for (;;) {
    t0 = now();
    for (let i = 0; i < k; i++) await fn();
    t = now() - t0;
    if (t >= minTime / 4 || k >= 1 << 30) break;
    k *= 2;
  }
  let iters = Math.max(1, Math.ceil((k * minTime) / Math.max(t, 1e-9)));
  t0 = now();
  for (let i = 0; i < iters; i++) await fn();
  iters = Math.max(1, Math.ceil((iters * minTime) / Math.max(now() - t0, 1e-9)));
  const cpu = [], wall = [];
  for (let r = 0; r < runs; r++) {
    const w0 = performance.now();
    const c0 = cpuNow();
    for (let i = 0; i < iters; i++) await fn();
    cpu.push((cpuNow() - c0) / iters);
    wall.push((performance.now() - w0) / 1000 / iters);
  }
  return clock === 'wall' ? summarize(wall, iters, wall, { clock, cpuRuns: cpu }) : summarize(cpu, iters, wall);
}

/** Median/min/max of seconds-per-call samples on the timing clock (also for helper programs' results). */
export function summarize(per, iters, wall = null, { clock = 'cpu', cpuRuns = null } = {}) {
  const cpu = clock === 'cpu' ? per : cpuRuns;
  return {
    sec: median(per), min: Math.min(...per), max: Math.max(...per),
    wallSec: wall ? median(wall) : null, cpuSec: cpu ? median(cpu) : null,
    iters, runs: per, wallRuns: wall, cpuRuns: cpu, clock,
  };
}

/** A measurement printed by a helper program (bench_common.h, torch_common.py): { runs, iters, wallRuns[, clock, cpuRuns] }. */
export function summarizeJson(m) {
  return summarize(m.runs, m.iters, m.wallRuns ?? null, { clock: m.clock ?? 'cpu', cpuRuns: m.cpuRuns ?? null });
}

/** Helper-program results grouped by keys: group(results, k1, k2) = { [k1(r)]: { [k2(r)]: summary } }. */
export function group(results, ...keys) {
  const out = {};
  for (const r of results) {
    let o = out;
    for (const k of keys.slice(0, -1)) o = o[k(r)] ??= {};
    o[keys.at(-1)(r)] = summarizeJson(r);
  }
  return out;
}

/** Every measurement in a (nested) results object. */
export function* summaries(x) {
  if (!x || typeof x !== 'object') return;
  if (Array.isArray(x.runs) && typeof x.sec === 'number') yield x;
  else for (const v of Object.values(x)) yield* summaries(v);
}

/** The timing flags of the helper programs (bench_common.h, torch_common.py) for a profile. */
export function timingArgs(profile) {
  return ['--runs', String(profile.runs), '--min-time', String(profile.minTime), '--warmup', String(profile.warmup),
    ...(profile.clock === 'wall' ? ['--clock', 'wall'] : [])];
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

/** '7%': the spread (max − min) / median of a measurement, or '-'. */
export function fmtSpread(m) {
  return m ? `${fmt((100 * (m.max - m.min)) / m.sec, 0)}%` : '-';
}

let torchMissing; // undefined: not asked yet; null: PyTorch is there; else why not
/** null when PYTHON can import torch, else why not (asked once per process). */
export function torchAvailable() {
  if (torchMissing === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120000 });
    torchMissing = r.error ? `${PYTHON}: ${r.error.message}` : r.status !== 0 ? `${PYTHON} -c 'import torch' failed` : null;
  }
  return torchMissing;
}

const WASM_BUILDS = [{ id: 'wasm-simd', simd: true }, { id: 'wasm-scalar', simd: false }];
const NATIVE_BUILDS = [{ id: 'native', dir: 'native' }, { id: 'native-scalar', dir: 'native-scalar' }];
const wasmFile = (simd, test) => (test ? `build/test/glimpse-test-${simd ? 'simd' : 'scalar'}.wasm` : `dist/glimpse-${simd ? 'simd' : 'scalar'}.wasm`);

/**
 * The wasm engines of a section ({ id, what }), timing `fn` of dist/ (or, with test, of build/test/)
 * in-process; with api, also 'wasm-simd-api' (what: api) after 'wasm-simd'.
 */
export function wasmEngines(fn, { test = false, detail = '', api = null } = {}) {
  return [
    { id: 'wasm-simd', what: `${fn} of ${wasmFile(true, test)}, called directly from Node${detail}` },
    ...(api ? [{ id: 'wasm-simd-api', what: api }] : []),
    { id: 'wasm-scalar', what: `the same, ${wasmFile(false, test)}` },
  ];
}

/** The two native engines of a section ({ id, what }): build/native{,-scalar}/<program>. */
export function nativeEngines(program) {
  return [
    { id: 'native', what: `build/native/${program} (same C, SSE4.1 branch of simd.h, -O3 -march=native)` },
    { id: 'native-scalar', what: `build/native-scalar/${program} (same C, scalar branch)` },
  ];
}

/**
 * The engines of one section: runs each (wasm in-process, native and PyTorch helper programs) and
 * keeps res (engine id → results), missing (engine id → why there are none) and info (engine id →
 * what ran: build, SIMD branch, torch version).
 */
export class Engines {
  constructor(section) {
    this.section = section;
    this.res = {};
    this.missing = {};
    this.info = {};
  }

  /** Store a result: res[id] = m, or res[id][key] = m. */
  put(id, key, m) {
    if (key == null) this.res[id] = m;
    else (this.res[id] ??= {})[key] = m;
  }

  /** Record why the engines `ids` have no results. */
  miss(ids, reason) {
    for (const id of [ids].flat()) this.missing[id] = reason;
  }

  /**
   * Time both wasm builds in-process. Each is loaded (test: its test build in build/test/, with the
   * test-only entry points) and skipped when it lacks the export `needs`; then for each of `cases`
   * res[id][key(case)] = time(g, case, id, simd), or without cases res[id] = time(g, null, id, simd).
   * `companions`: { [id]: [ids] } engines timed on that build too, missing when it is.
   */
  async wasm(time, { cases = null, key = String, label = String, needs = null, test = false, companions = {} } = {}) {
    for (const { id, simd } of WASM_BUILDS) {
      const ids = [id, ...(companions[id] ?? [])];
      let g;
      try {
        g = test ? await loadTestBuild(simd ? 'simd' : 'scalar') : await load({ simd, threads: 1 }); // these sections time one thread (CPU time); the threads section compares counts
      } catch (e) {
        this.miss(ids, `not available (${e.message})`);
        continue;
      }
      if (needs && typeof g._core.x[needs] !== 'function') {
        this.miss(ids, `not built (${wasmFile(simd, test)} has no ${needs}; run ./build.sh)`);
        continue;
      }
      for (const i of ids) this.info[i] = g.build;
      for (const c of cases ?? [null]) {
        progress(`${this.section}: ${id}${c == null ? '' : ` ${label(c)}`}`);
        this.put(id, c == null ? null : key(c), await time(g, c, id, simd));
      }
    }
  }

  /**
   * Run build/native/<program> and build/native-scalar/<program> (tests/native/bench_*.c) with args;
   * res[id] (or res[id][key]) = read(json, id), by default the summary of its first result.
   */
  native(program, args, { read = readFirst, key = null, timeoutSec = 300 } = {}) {
    for (const { id, dir } of NATIVE_BUILDS) {
      const prog = `${ROOT}build/${dir}/${program}`;
      if (!existsSync(prog)) {
        this.miss(id, `not built (run ./build.sh to get build/${dir}/${program})`);
        continue;
      }
      progress(`${this.section}: ${id} (${prog})`);
      const r = runJson(prog, args, { timeoutSec });
      if (!r.ok) {
        this.miss(id, r.reason);
        continue;
      }
      this.info[id] = r.json.simd;
      this.put(id, key, read(r.json, id));
    }
  }

  /**
   * Run tests/bench/<script> (torch_*.py) with PYTHON for the engines `ids`: res[id] (or
   * res[id][key]) = read(json, id). Returns false (the ids are missing, with why) when PyTorch is
   * not there or the script failed.
   */
  torch(script, args, { ids = ['torch'], read = readFirst, key = null, label = ids[0], hint = '', timeoutSec = 300 } = {}) {
    const no = torchAvailable();
    if (no) {
      this.miss(ids, `not available (${no})`);
      return false;
    }
    progress(`${this.section}: ${label} (${PYTHON} tests/bench/${script}${hint ? `; ${hint}` : ''})`);
    const r = runJson(PYTHON, [`${ROOT}tests/bench/${script}`, ...args], { timeoutSec });
    if (!r.ok) {
      this.miss(ids, `failed: ${r.reason}`);
      return false;
    }
    const params = r.json.parameters ?? r.json.params;
    for (const id of ids) {
      this.info[id] = `torch ${r.json.version}, ${r.json.threads} thread(s)${params != null ? `, ${params} parameters` : ''}`;
      this.put(id, key, read(r.json, id));
    }
    return true;
  }

  /** The short status of an engine without results, for a table cell ('not built', 'failed', ...). */
  status(id) {
    return (this.missing[id] ?? 'not measured').split(' (')[0].split(':')[0];
  }

  /**
   * The timing fields of a machine-readable row for measurement m of engine id: seconds per call
   * (×scale) under `sec`, the wall-clock ones under `wall`, spread, iters, the runs, and `missing`
   * when there is no m.
   */
  fields(m, id, { sec = 'msPerCall', wall = 'wallMsPerCall', scale = 1e3 } = {}) {
    return {
      [sec]: m ? m.sec * scale : null,
      [wall]: m?.wallSec != null ? m.wallSec * scale : null,
      spread: m ? (m.max - m.min) / m.sec : null,
      iters: m?.iters ?? null, runsSec: m?.runs ?? null, wallRunsSec: m?.wallRuns ?? null,
      ...(m?.clock === 'wall' ? { clock: 'wall', cpuRunsSec: m.cpuRuns } : {}),
      ...(m ? {} : { missing: this.missing[id] ?? 'not measured' }),
    };
  }

  /**
   * Machine-readable rows of results res[id][key(shape)][pass], shapes × engines × passes:
   * { shape, engine, pass, [rateKey]: rate(shape, m), ...fields(m) }.
   */
  passRows(shapes, key, engines, passes, rateKey, rate) {
    return shapes.flatMap((s) => engines.flatMap((e) => passes.map((p) => {
      const m = this.res[e.id]?.[key(s)]?.[p];
      return { shape: s, engine: e.id, pass: p, [rateKey]: rate(s, m), ...this.fields(m, e.id) };
    })));
  }

  /** Table rows, one per engine: { engine, ...cells(res[id], id) }, or the engine's status under statusKey. */
  rows(engines, statusKey, cells) {
    return engines.map((e) => (this.res[e.id] ? { engine: e.id, ...cells(this.res[e.id], e.id) } : { engine: e.id, [statusKey]: this.status(e.id) }));
  }

  /** Notes under a table: why engines have no results (a reason the previous engine had is not repeated). */
  missingNotes(engines) {
    return engines.filter((e, i) => this.missing[e.id] && this.missing[e.id] !== this.missing[engines[i - 1]?.id])
      .map((e) => `${e.id}: ${this.missing[e.id]}`);
  }

  /** Notes: what each engine is, what ran [info] and why it has no results. */
  engineNotes(engines) {
    return engines.map((e) => `  ${e.id}: ${e.what}${this.info[e.id] ? ` [${this.info[e.id]}]` : ''}${this.missing[e.id] ? `: ${this.missing[e.id]}` : ''}`);
  }

  /** Notes: timingNotes(), engineNotes() and, with checks, targetsNote(). */
  notes(profile, engines, checks = null, { spread = true } = {}) {
    return [...this.timingNotes(profile, { spread }), ...this.engineNotes(engines), ...(checks ? [targetsNote(checks)] : [])];
  }

  /**
   * Rows, checks and tables of a section with one measurement per engine (res[id] = summary): per
   * engine a rate = perCall / seconds per call (rows: rateKey; table: rateLabel), the time per call
   * × scale (rows: secPerCall, wallSecPerCall in seconds; table: timeLabel with timeDigits) and the
   * spread; then the ratios ({ id, label, num, den, op?, target? }) of the rates.
   */
  perEngine(engines, ratios, { title, rateKey, rateLabel, perCall, timeLabel, scale = 1, timeDigits = 3 }) {
    const rate = (m) => (m ? perCall / m.sec : null);
    const rows = engines.map((e) => ({
      engine: e.id, [rateKey]: rate(this.res[e.id]), ...this.fields(this.res[e.id], e.id, { sec: 'secPerCall', wall: 'wallSecPerCall', scale: 1 }),
    }));
    const checks = ratios.map((r) => ({ ratio: r.id, ...ratioCheck(rate(this.res[r.num]), rate(this.res[r.den]), r) }));
    const tables = [
      {
        title,
        columns: [{ key: 'engine', label: 'engine', align: 'left' }, ...timeColumns('rate', rateLabel, timeLabel)],
        rows: this.rows(engines, 'rate', (m) => timeCells('rate', m, rate, { scale, msDigits: timeDigits })),
        notes: this.missingNotes(engines),
      },
      ratioTable(ratios, [{ key: 'value', label: 'value', check: (r) => checks.find((c) => c.ratio === r.id) }]),
    ];
    return { rows, checks, tables };
  }

  /** Notes: the timing protocol and clock, with how the other clock compared (median over every measurement). */
  timingNotes(profile, { spread = true } = {}) {
    const wall = profile.clock === 'wall';
    const ratios = [...summaries(this.res)].map((m) => ((wall ? m.cpuSec : m.wallSec) ?? NaN) / m.sec).filter(Number.isFinite);
    const other = ratios.length ? `${median(ratios).toFixed(2)}×` : 'not recorded vs';
    return [
      `Timing: warm up ${profile.warmup} s, then the median of ${profile.runs} runs of ≥ ${profile.minTime} s each (at least one call)` +
        `${spread ? '; spread = (max − min) / median' : ''}.`,
      wall
        ? `  Seconds are wall-clock time (--clock wall); CPU time was ${other} wall-clock time (median).`
        : `  Seconds are process CPU time (shared machine: time spent descheduled is not the kernel's); wall-clock was ${other} CPU time (median).`,
    ];
  }
}

const readFirst = (json) => summarizeJson(json.results[0]);

/** GL_KIND_* of src/weights.h */
export const KIND = { STN: 1, DRAW: 2, NTM: 3 };

/**
 * fn(model, scope) on a model made directly in the wasm core by gl_model_create(kind, config words)
 * (no JS API in between); the model and the scope's allocations are freed afterwards.
 */
export function withWasmModel(core, kind, config, fn) {
  return core.scoped((s) => {
    const pout = s.zeros(1);
    core.check(core.x.gl_model_create(pout, kind, s.put(Int32Array.from(config)), config.length), 'gl_model_create');
    const model = core.i32[pout >> 2];
    try {
      return fn(model, s);
    } finally {
      core.x.gl_model_free(model);
    }
  });
}

// Engine ids' short names in ratio ids and labels ('simd/torch', 'SIMD/torch').
const SHORT = {
  'wasm-simd': ['simd', 'SIMD'], 'wasm-simd-api': ['simd-api', 'SIMD (JS API)'], 'wasm-scalar': ['scalar', 'scalar'],
  native: ['native', 'native'], 'native-scalar': ['native-scalar', 'native-scalar'],
};
const short = (id, i) => SHORT[id]?.[i] ?? id;

/** The ratio of engine num's rate to engine den's: { id: 'simd/torch', label: 'SIMD/torch', num, den, ...more (op, target, ...) }. */
export function ratio(num, den, more = {}) {
  return { id: `${short(num, 0)}/${short(den, 0)}`, label: `${short(num, 1)}/${short(den, 1)}`, num, den, ...more };
}

/**
 * The ratios of a training section: SIMD/torch (≥ target; more: fields such as the cases it applies
 * to), SIMD (JS API)/torch with api, native/torch with nativeTorch, SIMD/scalar and native/SIMD.
 */
export function trainingRatios(target, { api = false, nativeTorch = true, ...more } = {}) {
  return [
    ratio('wasm-simd', 'torch', { op: '>=', target, ...more }),
    ...(api ? [ratio('wasm-simd-api', 'torch')] : []),
    ...(nativeTorch ? [ratio('native', 'torch')] : []),
    ratio('wasm-simd', 'wasm-scalar'),
    ratio('native', 'wasm-simd'),
  ];
}

/**
 * The check of ratio r ({ op, target }) between rates a and b: check() when its target applies here
 * (targeted), else informational ({ value, target: null, met: null }).
 */
export function ratioCheck(a, b, r, targeted = r.target != null) {
  const value = a != null && b != null ? a / b : null;
  return targeted ? check(value, r.op, r.target) : { value, target: null, met: null };
}

/**
 * The ratios table: a row per ratio of `ratios` ({ id, label, op, target }), a column per `cols`
 * entry ({ key, label, check(r) → the check to show }) and the target (with scope(r), what it
 * applies to, in parentheses).
 */
export function ratioTable(ratios, cols, scope = () => null) {
  return {
    columns: [
      { key: 'ratio', label: 'ratio', align: 'left' },
      ...cols.map((c) => ({ key: c.key, label: c.label })),
      { key: 'target', label: 'target', align: 'left' },
    ],
    rows: ratios.map((r) => ({
      ratio: r.label,
      ...Object.fromEntries(cols.map((c) => [c.key, fmtCheck(c.check(r))])),
      target: r.target != null ? `${r.op === '>=' ? '≥' : '≤'} ${r.target}×${scope(r) ? ` (${scope(r)})` : ''}` : '(info)',
    })),
  };
}

/** 'Targets met: 3 of 5 (1 not measurable).' */
export function targetsNote(checks) {
  const targeted = checks.filter((c) => c.target != null);
  const unknown = targeted.filter((c) => c.met == null).length;
  return `Targets met: ${targeted.filter((c) => c.met === true).length} of ${targeted.length}${unknown ? ` (${unknown} not measurable)` : ''}.`;
}

/** Columns of a rate, its time per call and (spread) its spread: keys key, keyMs, keySpread. */
export function timeColumns(key, label, msLabel, { spread = true } = {}) {
  return [{ key, label }, { key: `${key}Ms`, label: msLabel }, ...(spread ? [{ key: `${key}Spread`, label: 'spread' }] : [])];
}

/** The cells of timeColumns() for measurement m: rate(m) with `digits`, seconds per call × scale with msDigits, spread. */
export function timeCells(key, m, rate, { digits = 1, msDigits = 3, scale = 1e3 } = {}) {
  return { [key]: m ? fmt(rate(m), digits) : '-', [`${key}Ms`]: m ? fmt(m.sec * scale, msDigits) : '-', [`${key}Spread`]: fmtSpread(m) };
}
