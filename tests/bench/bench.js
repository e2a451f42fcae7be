#!/usr/bin/env node
// bench.js: the benchmark harness (`npm run bench`).
//
//   node tests/bench/bench.js [--quick] [--json] [--only name[,name...]] [--runs R] [--min-time S] [--clock cpu|wall] [--list]
//
// Each section is one module under tests/bench/ exporting `name`, `title` and
// `async run({ profile, quick })` → { title, notes: string[], rows: object[], checks: object[],
// tables: [{ title?, columns, rows }] } (see stn_sampler.js), built with the shared harness of
// common.js (measure(), Engines). `rows` and `checks` are the
// machine-readable results (--json); `tables` are what the terminal shows. To add a section,
// write the module and add one line to SECTIONS below.
// Progress goes to stderr; stdout carries only the tables (or the JSON with --json).
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROFILES, printTable } from './common.js';

const SECTIONS = [
  { name: 'stn-sampler', file: './stn_sampler.js' },
  { name: 'stn-train', file: './stn_train.js' },
  { name: 'layers', file: './layers.js' },
  { name: 'ntm-train', file: './ntm_train.js' },
  { name: 'draw-kernels', file: './draw_kernels.js' },
  { name: 'draw-train', file: './draw_train.js' },
  { name: 'threads', file: './threads.js' },
];

const USAGE = `usage: node tests/bench/bench.js [options]
  --quick           short runs (3 timed runs of ≥ 20 ms each instead of 7 of ≥ 100 ms)
  --json            print one JSON object with every measurement instead of tables
  --only a,b        run only these sections (${SECTIONS.map((s) => s.name).join(', ')})
  --runs R          timed runs per measurement (median is reported)
  --min-time S      minimum seconds per timed run
  --clock C         cpu (default): process CPU time; wall: wall-clock time (for multi-threaded code;
                    the threads section always times wall-clock)
  --list            list the sections and exit`;

function parseArgs(argv) {
  const o = { quick: false, json: false, only: null, runs: null, minTime: null, clock: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const [flag, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, null];
    const val = () => (inline != null ? inline : value());
    if (flag === '--quick') o.quick = true;
    else if (flag === '--json') o.json = true;
    else if (flag === '--list') o.list = true;
    else if (flag === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--runs') o.runs = Number(val());
    else if (flag === '--min-time') o.minTime = Number(val());
    else if (flag === '--clock') o.clock = val();
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`unknown option '${a}'`);
  }
  if (o.runs != null && !(Number.isInteger(o.runs) && o.runs >= 1 && o.runs <= 64)) throw new Error('--runs must be an integer in [1, 64]');
  if (o.minTime != null && !(o.minTime > 0)) throw new Error('--min-time must be a positive number of seconds');
  if (o.clock != null && !['cpu', 'wall'].includes(o.clock)) throw new Error('--clock must be cpu or wall');
  if (o.only) {
    const unknown = o.only.filter((n) => !SECTIONS.some((s) => s.name === n));
    if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  }
  return o;
}

/** Commit of the checkout, with '-dirty' when src/ or dist/ has uncommitted changes (what was measured). */
function sourceVersion() {
  const cwd = fileURLToPath(new URL('../../', import.meta.url));
  const git = (...args) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src', 'dist').stdout.trim() !== '';
  return head.stdout.trim() + (dirty ? '-dirty' : '');
}

/** The options, or exit 2 with the usage when they are wrong. */
function options(argv) {
  try {
    return parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench.js: ${e.message}\n${USAGE}\n`);
    return process.exit(2);
  }
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (o.list) {
    for (const s of SECTIONS) process.stdout.write(`${s.name}\n`);
    return;
  }
  const profile = { ...(o.quick ? PROFILES.quick : PROFILES.default) };
  if (o.runs != null) profile.runs = o.runs;
  if (o.minTime != null) profile.minTime = o.minTime;
  if (o.clock != null) profile.clock = o.clock;

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.arch()}`,
    source: sourceVersion(),
  };
  if (!o.json) {
    process.stdout.write(`glimpse-wasm benchmarks — ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavg.join(' ')}, Node ${machine.node}, source ${machine.source}` +
      `${o.quick ? ' — QUICK run (indicative only)' : ''}${profile.clock === 'wall' ? ' — wall-clock times' : ''}\n\n`);
  }

  const results = [];
  let failed = false;
  const t0 = Date.now();
  for (const s of SECTIONS) {
    if (o.only && !o.only.includes(s.name)) continue;
    const started = Date.now();
    process.stderr.write(`[${s.name}]\n`);
    try {
      const mod = await import(new URL(s.file, import.meta.url));
      const r = await mod.run({ profile, quick: o.quick });
      const seconds = (Date.now() - started) / 1000;
      results.push({ name: s.name, title: r.title ?? mod.title, seconds, notes: r.notes ?? [], rows: r.rows ?? [], checks: r.checks ?? [] });
      if (!o.json) {
        process.stdout.write(`== ${s.name}: ${r.title ?? mod.title} ==\n\n`);
        for (const t of r.tables ?? []) printTable(t);
        for (const n of r.notes ?? []) process.stdout.write(`${n}\n`);
        process.stdout.write(`(${s.name} took ${seconds.toFixed(1)} s)\n\n`);
      }
    } catch (e) {
      failed = true;
      results.push({ name: s.name, error: String(e?.stack ?? e) });
      process.stderr.write(`bench.js: section ${s.name} failed: ${e?.stack ?? e}\n`);
    }
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), machine, profile, quick: o.quick, seconds: (Date.now() - t0) / 1000, sections: results }, null, 1) + '\n');
  }
  // A missed performance target is reported, not an error; a section that crashed is.
  if (failed) process.exitCode = 1;
}

main();
