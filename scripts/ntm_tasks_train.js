// ntm_tasks_train.js: the part of scripts/train_ntm.js that trains the paper's other tasks (repeat
// copy, associative recall, priority sort, dynamic N-grams; Graves et al. 2014 sec. 4.2-4.5) and the
// LSTM baselines, with checkpoints and --resume, and draws the learning curves (docs/ntm-*-curve.png).
// See the header of train_ntm.js for the command line.
import { writeFileSync, mkdirSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// Evaluation seeds. Training data come from the model's own stream (PCG stream 2 of its seed and
// the shards' streams); evaluateTask draws from streams (seed, chunk) of its own, so none of these
// ever feeds training. QUICK during training, CONFIRM for the convergence check, FINAL for the
// report and FLOAT16 the same as FINAL (the float16 copy is judged on the same sequences).
const QUICK_SEED = 1_000_000, CONFIRM_SEED = 2_000_000, FINAL_SEED = 3_000_000;

/**
 * Per task: the model (the paper's Table 3, NTM with an LSTM controller, except sort: Table 2's
 * feed-forward controller with 8 heads, which the paper found best), the training options (the
 * paper's sec. 4 ranges), the optimiser and stopping settings, and the evaluations: quick (during
 * training; its metric picks the best model and drives the schedule), final (the report).
 */
export const TASKS = {
  copy: {
    paper: 'sec. 4.1; the NTM converges to near zero cost and copies sequences of 30-120 (trained on 1-20); LSTM fails past 20',
    model: { controller: 100, heads: 1, memory: [128, 20] },
    train: { minLength: 1, maxLength: 20 },
    lr: 1e-3, schedule: [[1, 3e-4], [0.3, 1e-4]], target: 0.05, maxSequences: 600_000, evalEvery: 3200, batch: 16, polish: 0,
    goal: 'copy keeps 0.005 wrong bits per sequence on lengths 1-20 and none at 30-120',
    quick: (m, seed) => {
      const rows = range(1, 20).map((L) => ({ length: L, ...m.evaluateTask({ minLength: L, maxLength: L, count: 16, seed: seed + L }) }));
      return { metric: mean(rows.map((r) => r.bitErrorsPerSequence)), loss: mean(rows.map((r) => r.loss)) };
    },
    final: (m) => {
      const short = range(1, 20).map((L) => m.evaluateTask({ minLength: L, maxLength: L, count: 500, seed: FINAL_SEED + L }));
      const long = [30, 50, 80, 120].map((L) => ({ length: L, ...m.evaluateTask({ minLength: L, maxLength: L, count: 100, seed: FINAL_SEED + 1000 + L }) }));
      const metric = mean(short.map((r) => r.bitErrorsPerSequence));
      return {
        metric, summary: `${metric.toFixed(4)} wrong bits per sequence on lengths 1-20 (500 each); ` + long.map((r) => `L=${r.length}: ${r.bitErrorsPerSequence.toFixed(2)}`).join(', '),
        wrongBitsPerSequence1to20: metric,
        byLength: Object.fromEntries(short.map((r, i) => [i + 1, r.bitErrorsPerSequence])),
        longer: Object.fromEntries(long.map((r) => [r.length, { wrongBitsPerSequence: r.bitErrorsPerSequence, lossBits: r.loss }])),
        evaluation: '500 fresh sequences per length 1-20, 100 per longer length',
      };
    },
  },
  'repeat-copy': {
    paper: 'sec. 4.2, Figures 6-8: the NTM learns much faster than LSTM and generalises to length 20 x 10 repeats; at length 10 x 20 repeats it fails to predict the end marker (the count is a number on one channel, which does not extend past the training range)',
    model: { controller: 100, heads: 1, memory: [128, 20] },
    train: { minLength: 1, maxLength: 10, minRepeats: 1, maxRepeats: 10 },
    lr: 1e-3, schedule: [[1, 3e-4], [0.3, 1e-4]], target: 0.05, maxSequences: 1_000_000, evalEvery: 8000, batch: 16, polish: 0,
    goal: '< 0.1 wrong bits per sequence over lengths 1-10 x repeats 1-10',
    quick: (m, seed, per = 2) => grid(m, seed, per),
    final: (m) => {
      const g = grid(m, FINAL_SEED, 30);
      const cell = (L, n, count, s) => {
        const r = m.evaluateTask({ minLength: L, maxLength: L, minRepeats: n, maxRepeats: n, count, seed: s, batch: 10 }); // batch 10: the long cases (40 × 10 repeats = 443 steps) stay under the activation limit
        return { length: L, repeats: n, wrongBitsPerSequence: r.bitErrorsPerSequence, lossBits: r.loss, wrongSequences: r.wrongSequences };
      };
      const paperCases = [cell(10, 20, 100, FINAL_SEED + 50_000), cell(20, 10, 100, FINAL_SEED + 50_001)];
      const moreRepeats = [11, 12, 13, 14, 15, 17, 20, 25, 30].map((n) => cell(10, n, 30, FINAL_SEED + 60_000 + n));
      const longer = [11, 12, 14, 16, 20, 25, 30, 40].map((L) => cell(L, 10, 30, FINAL_SEED + 70_000 + L));
      return {
        metric: g.metric,
        summary: `${g.metric.toFixed(4)} wrong bits per sequence over lengths 1-10 x repeats 1-10 (30 each); length 10 x 20 repeats: ${paperCases[0].wrongBitsPerSequence.toFixed(2)}, length 20 x 10 repeats: ${paperCases[1].wrongBitsPerSequence.toFixed(2)}`,
        wrongBitsPerSequence1to10x1to10: g.metric, lossBits1to10x1to10: g.loss, worstCell: g.worst,
        byLength: g.byLength, byRepeats: g.byRepeats, paperCases, moreRepeats, longer,
        evaluation: '30 fresh sequences per (length, repeats) cell of 1-10 x 1-10; 100 for each of the paper\'s cases; 30 per cell past the training range',
      };
    },
  },
  recall: {
    paper: 'sec. 4.3, Figures 9-11: the NTM learns much faster than LSTM (near zero cost after about 30,000 episodes with a feed-forward controller) and generalises to about 12 items (trained on 2-6)',
    model: { controller: 100, heads: 1, memory: [128, 20] },
    train: { minItems: 2, maxItems: 6, itemLength: 3 },
    lr: 1e-3, schedule: [[1, 3e-4], [0.3, 1e-4]], target: 0.05, maxSequences: 1_000_000, evalEvery: 8000, batch: 16, polish: 0,
    goal: '< 0.1 wrong bits per query over 2-6 items',
    quick: (m, seed, per = 32) => items(m, range(2, 6), per, seed),
    final: (m) => {
      const g = items(m, range(2, 6), 500, FINAL_SEED);
      const more = items(m, range(7, 15), 100, FINAL_SEED + 100);
      return {
        metric: g.metric,
        summary: `${g.metric.toFixed(4)} wrong bits per query over 2-6 items (500 each); ` + more.rows.map((r) => `${r.items}: ${r.wrongBitsPerQuery.toFixed(2)}`).join(', '),
        wrongBitsPerQuery2to6: g.metric, byItems: g.rows, moreItems: more.rows,
        evaluation: '500 fresh episodes per item count 2-6, 100 per count 7-15',
      };
    },
  },
  sort: {
    paper: 'sec. 4.5, Figures 16-18: NTMs (8 parallel heads with a feed-forward controller) learn the task with a cost near zero bits per sequence, LSTM does not',
    model: { controllerType: 'feedforward', controller: 512, heads: 8, memory: [128, 20] },
    train: { length: 20, outputLength: 16 },
    lr: 3e-4, schedule: [[4, 1e-4], [1, 3e-5]], target: 0.05, maxSequences: 250_000, evalEvery: 4000, batch: 16, polish: 0,
    goal: 'report wrong bits per sequence against the paper\'s near-zero cost; ship if it learns',
    quick: (m, seed, per = 128) => plain(m, per, seed),
    final: (m) => {
      const r = m.evaluateTask({ count: 2000, seed: FINAL_SEED });
      return {
        metric: r.bitErrorsPerSequence,
        summary: `${r.bitErrorsPerSequence.toFixed(3)} wrong bits per sequence (of 128 output bits), ${(100 * r.wrongSequences).toFixed(1)} % of sequences with a wrong bit, ${r.loss.toFixed(2)} bits of loss (2000 fresh sequences)`,
        wrongBitsPerSequence: r.bitErrorsPerSequence, wrongSequences: r.wrongSequences, lossBits: r.loss,
        evaluation: '2000 fresh sequences of 20 vectors, 16 outputs',
      };
    },
  },
  ngrams: {
    paper: 'sec. 4.4, Figures 12-15: the NTM has a small but significant advantage over LSTM and comes close to, but does not reach, the Bayes-optimal estimator',
    model: { controller: 100, heads: 1, memory: [128, 20] },
    train: { length: 200 },
    lr: 1e-3, schedule: [[0.15, 3e-4], [0.07, 1e-4]], target: 0.03, maxSequences: 300_000, evalEvery: 4000, batch: 16, polish: 0,
    goal: 'bits per sequence within 5 % of the Bayes-optimal estimator on the same sequences',
    // the metric: the loss's excess over the Bayes-optimal predictor's, as a fraction of it
    quick: (m, seed, per = 128) => {
      const r = m.evaluateTask({ count: per, seed });
      return { metric: r.loss / r.bayesLoss - 1, loss: r.loss, bayes: r.bayesLoss };
    },
    final: (m) => {
      const r = m.evaluateTask({ count: 2000, seed: FINAL_SEED });
      const excess = r.loss / r.bayesLoss - 1;
      return {
        metric: excess,
        summary: `${r.loss.toFixed(2)} bits per 200-bit sequence vs ${r.bayesLoss.toFixed(2)} for the Bayes-optimal estimator on the same 2000 fresh sequences: ${(100 * excess).toFixed(2)} % above it`,
        lossBits: r.loss, bayesOptimalBits: r.bayesLoss, excessOverBayes: excess,
        evaluation: '2000 fresh 200-bit sequences, each from its own random 6-gram table',
      };
    },
  },
};

/** Repeat copy over the (length, repeats) grid 1-10 x 1-10, `per` sequences per cell. */
function grid(m, seed, per) {
  const rows = [];
  for (let L = 1; L <= 10; L++) {
    for (let n = 1; n <= 10; n++) {
      const r = m.evaluateTask({ minLength: L, maxLength: L, minRepeats: n, maxRepeats: n, count: per, batch: per, seed: seed + 100 * L + n });
      rows.push({ L, n, e: r.bitErrorsPerSequence, loss: r.loss });
    }
  }
  const by = (k, v) => mean(rows.filter((r) => r[k] === v).map((r) => r.e));
  const worst = rows.reduce((w, r) => (r.e > w.e ? r : w));
  return {
    metric: mean(rows.map((r) => r.e)), loss: mean(rows.map((r) => r.loss)), worst: { length: worst.L, repeats: worst.n, wrongBitsPerSequence: worst.e },
    byLength: Object.fromEntries(range(1, 10).map((L) => [L, by('L', L)])), byRepeats: Object.fromEntries(range(1, 10).map((n) => [n, by('n', n)])),
  };
}

/** Recall for each item count in counts, `per` episodes each. */
function items(m, counts, per, seed) {
  const rows = counts.map((n) => {
    const r = m.evaluateTask({ minItems: n, maxItems: n, count: per, seed: seed + n });
    return { items: n, wrongBitsPerQuery: r.bitErrorsPerSequence, lossBits: r.loss, wrongQueries: r.wrongSequences };
  });
  return { metric: mean(rows.map((r) => r.wrongBitsPerQuery)), loss: mean(rows.map((r) => r.lossBits)), rows };
}

function plain(m, per, seed) {
  const r = m.evaluateTask({ count: per, seed });
  return { metric: r.bitErrorsPerSequence, loss: r.loss };
}

function writeFile(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Options given on the command line win over the task's settings. */
function settingsOf(o) {
  const T = TASKS[o.task];
  const pick = (flag, key, value) => (o.set.has(flag) ? o[key] : value);
  const lstm = o.architecture === 'lstm';
  const model = lstm ? { controller: 120, ...o.model, architecture: 'lstm' } : { ...T.model, ...o.model };
  return {
    task: o.task, architecture: o.architecture, seed: o.set.has('--seed') ? o.seeds[0] : 1,
    model: { task: o.task, ...model },
    train: T.train,
    batch: pick('--batch', 'batch', T.batch), lr: pick('--lr', 'lr', T.lr), clip: pick('--clip', 'clip', 10),
    schedule: pick('--schedule', 'schedule', T.schedule), target: pick('--target', 'target', T.target),
    maxSequences: pick('--max-sequences', 'maxSequences', T.maxSequences), evalEvery: pick('--eval-every', 'evalEvery', T.evalEvery),
    polish: pick('--polish', 'polish', T.polish), polishLr: o.polishLr,
    threads: o.threads, float16: o.float16, save: o.save,
    run: o.run ?? `${ROOT}runs/ntm-${o.task}${lstm ? '-lstm' : ''}`,
    out: o.set.has('--out') ? o.out : `${ROOT}weights/ntm-${o.task}.bin`,
  };
}

const commandOf = () => `node scripts/train_ntm.js ${process.argv.slice(2).filter((a) => a !== '--resume').join(' ')}`.trim();

/** Train (or resume) one task model; writes the run folder, then the report, weights and curve. */
export async function trainTaskModel(g, o) {
  const S = settingsOf(o);
  const T = TASKS[S.task];
  const tag = `${S.task}${S.architecture === 'lstm' ? ' lstm' : ''}`;
  const log = (s) => process.stderr.write(`[${tag}] ${s}\n`);
  const ckpt = `${S.run}/checkpoint.bin`, statePath = `${S.run}/state.json`, bestPath = `${S.run}/best.bin`;
  let m, st;
  if (o.resume && existsSync(ckpt) && existsSync(statePath)) {
    m = g.loadNTM(new Uint8Array(readFileSync(ckpt)));
    st = JSON.parse(readFileSync(statePath, 'utf8'));
    log(`resumed from ${ckpt} at ${st.seen} sequences (${st.curve.length} curve points)`);
    // a resumed run may change its plan: a new learning rate, schedule or budget from the command line
    if (o.set.has('--lr')) {
      m.learningRate = S.lr;
      log(`learning rate → ${S.lr} (--lr)`);
    }
    if (o.set.has('--schedule')) st.schedule = S.schedule;
    (st.changes ??= []).push({ at: st.seen, command: commandOf() });
  } else {
    m = g.createNTM({ ...S.model, seed: S.seed, learningRate: S.lr, clipNorm: S.clip });
    st = {
      settings: S, command: commandOf(), seen: 0, nextEval: S.evalEvery, curve: [], acc: { loss: 0, errors: 0, n: 0 },
      schedule: S.schedule, firstUnder: {}, best: null, converged: null, polishUntil: null, refused: 0, seconds: 0, cpuSeconds: 0,
    };
  }
  log(`model: ${JSON.stringify(m.config)} (${m.parameterCount} parameters); training ${JSON.stringify(S.train)}, batch ${S.batch}, threads ${g.threads}`);
  const wall0 = Date.now() - 1000 * st.seconds, cpu0 = cpuSeconds() - st.cpuSeconds;
  const elapsed = () => ({ seconds: (Date.now() - wall0) / 1000, cpuSeconds: cpuSeconds() - cpu0 });
  while (st.seen < S.maxSequences) {
    try {
      const r = m.trainTask({ batch: S.batch, ...S.train });
      st.acc.loss += r.loss;
      st.acc.errors += r.bitErrors;
      st.acc.n++;
    } catch (e) {
      st.refused++;
      log(`step refused: ${e.message}`);
      if (st.refused > 20) throw e;
    }
    st.seen += S.batch;
    if (st.seen < st.nextEval) continue;
    st.nextEval += S.evalEvery;
    const q = T.quick(m, QUICK_SEED);
    const point = {
      sequences: st.seen, trainLoss: st.acc.loss / Math.max(st.acc.n, 1), trainBitErrors: st.acc.errors / Math.max(st.acc.n, 1),
      evalMetric: q.metric, evalLoss: q.loss, ...(q.bayes !== undefined ? { evalBayes: q.bayes } : {}), learningRate: m.learningRate, ...elapsed(),
    };
    st.curve.push(point);
    st.acc = { loss: 0, errors: 0, n: 0 };
    log(`${st.seen} seqs ${point.seconds.toFixed(0)} s (cpu ${point.cpuSeconds.toFixed(0)} s): train ${point.trainLoss.toFixed(3)} bits, ${point.trainBitErrors.toFixed(3)} wrong; eval metric ${q.metric.toFixed(4)}, loss ${q.loss.toFixed(3)} bits${q.bayes !== undefined ? ` (Bayes ${q.bayes.toFixed(3)})` : ''} (lr ${m.learningRate.toExponential(1)})`);
    for (const t of [1, 0.1]) if (st.firstUnder[t] == null && q.metric < t) st.firstUnder[t] = st.seen;
    const score = q.metric < S.target ? q.loss - 1e9 : q.metric;
    if (!st.best || score < st.best.score) {
      st.best = { score, metric: q.metric, loss: q.loss, seen: st.seen };
      writeFile(bestPath, m.save());
    }
    let stop = false;
    if (st.polishUntil != null) {
      stop = st.seen >= st.polishUntil;
    } else {
      while (st.schedule.length && q.metric < st.schedule[0][0]) {
        m.learningRate = st.schedule[0][1];
        log(`eval metric < ${st.schedule[0][0]}: learning rate → ${st.schedule[0][1]}`);
        st.schedule = st.schedule.slice(1);
      }
      if (q.metric < S.target) {
        const c = T.quick(m, CONFIRM_SEED + st.seen, undefined);
        const c5 = [c, ...[1, 2, 3, 4].map((k) => T.quick(m, CONFIRM_SEED + st.seen + 10_000 * k))];
        const cm = mean(c5.map((x) => x.metric));
        log(`confirmation on five fresh evaluations: metric ${cm.toFixed(4)}`);
        if (cm < S.target) {
          st.converged = { sequences: st.seen, confirmedMetric: cm };
          writeFile(`${S.run}/converged.bin`, m.save());
          if (!(S.polish > 0)) stop = true;
          else {
            st.polishUntil = st.seen + S.polish;
            m.learningRate = S.polishLr;
            st.schedule = [];
            log(`polishing: ${S.polish} more sequences at learning rate ${S.polishLr}`);
          }
        }
      }
    }
    Object.assign(st, elapsed());
    writeFile(ckpt, m.save({ optimizer: true }));
    writeFile(statePath, JSON.stringify(st) + '\n');
    if (stop) break;
  }
  Object.assign(st, elapsed());
  m.free();
  let final = g.loadNTM(new Uint8Array(readFileSync(bestPath)));
  log(`training done after ${st.seen} sequences (${st.seconds.toFixed(0)} s, ${st.cpuSeconds.toFixed(0)} s CPU); best model at ${st.best.seen} sequences (metric ${st.best.metric.toFixed(4)}); final report...`);
  const rep = T.final(final);
  process.stdout.write(`${tag}: ${rep.summary}\n`);
  const lstm = S.architecture === 'lstm';
  const summary = {
    command: st.command,
    task: S.task, architecture: S.architecture, seed: S.seed, goal: T.goal, paper: T.paper,
    settings: { model: S.model, train: S.train, batch: S.batch, learningRate: S.lr, schedule: S.schedule, clipNorm: S.clip, target: S.target, maxSequences: S.maxSequences, evalEvery: S.evalEvery, polish: S.polish, threads: S.threads },
    parameters: final.parameterCount,
    sequencesSeen: st.seen, bestAt: st.best.seen, converged: st.converged, sequencesToUnder1: st.firstUnder[1] ?? null, sequencesToUnder0_1: st.firstUnder[0.1] ?? null,
    seconds: st.seconds, cpuSeconds: st.cpuSeconds, refusedSteps: st.refused, resumedWith: st.changes ?? [],
    result: rep,
  };
  // the curve, for docs/ and the PNG
  const curvePath = `${ROOT}docs/ntm-${S.task}${lstm ? '-lstm' : ''}-curve.json`;
  if (S.save) {
    writeFile(curvePath, JSON.stringify({ task: S.task, architecture: S.architecture, metric: S.task === 'ngrams' ? 'loss / Bayes-optimal loss - 1' : 'wrong bits per sequence', curve: st.curve }, null, 1) + '\n');
    process.stdout.write(`  wrote ${curvePath}\n`);
  }
  if (lstm) {
    if (S.save) {
      const p = `${ROOT}docs/ntm-${S.task}-lstm.json`;
      writeFile(p, JSON.stringify(summary, null, 1) + '\n');
      process.stdout.write(`  wrote ${p}\n`);
      const wj = `${ROOT}weights/ntm-${S.task}.json`;
      if (existsSync(wj)) { // beside the NTM's numbers
        const w = JSON.parse(readFileSync(wj, 'utf8'));
        w.lstmBaseline = { command: summary.command, parameters: summary.parameters, sequencesSeen: summary.sequencesSeen, cpuSeconds: summary.cpuSeconds, config: final.config, result: rep, report: `docs/ntm-${S.task}-lstm.json` };
        writeFile(wj, JSON.stringify(w, null, 1) + '\n');
        process.stdout.write(`  added lstmBaseline to ${wj}\n`);
      }
    }
  } else if (S.save) {
    let bytes = final.save({ float16: S.float16 }), f16 = S.float16;
    if (f16) { // the float16 copy must be as good on the same final evaluation
      const h = g.loadNTM(bytes);
      const hr = T.final(h);
      h.free();
      const ok = hr.metric <= rep.metric + Math.max(0.01, 0.02 * Math.abs(rep.metric));
      process.stdout.write(`  float16 weights: ${hr.summary}${ok ? '' : '; worse, saving float32'}\n`);
      summary.float16Result = hr.summary;
      if (!ok) {
        bytes = final.save();
        f16 = false;
      }
    }
    writeFile(S.out, bytes);
    const wj = S.out.replace(/\.bin$/, '.json');
    const old = existsSync(wj) ? JSON.parse(readFileSync(wj, 'utf8')) : {};
    writeFile(wj, JSON.stringify({ ...summary, dtype: f16 ? 'float16' : 'float32', bytes: bytes.length, config: final.config, ...(old.lstmBaseline ? { lstmBaseline: old.lstmBaseline } : {}) }, null, 1) + '\n');
    process.stdout.write(`  wrote ${S.out} (${bytes.length} bytes) and ${wj}\n`);
  }
  final.free();
  if (S.save) plotAll();
}

// ---- learning curves as PNG --------------------------------------------------------------

// A 5x7 font for the labels (the characters used; lower case drawn as capitals).
const FONT = {
  '0': '01110100011001110101110011000101110', '1': '00100011000010000100001000010001110', '2': '01110100010000100010001000100011111',
  '3': '11111000100010000010000011000101110', '4': '00010001100101010010111110001000010', '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110', '7': '11111000010001000100010000100001000', '8': '01110100011000101110100011000101110',
  '9': '01110100011000101111000010001001100', '.': '00000000000000000000000000110001100', '-': '00000000000000011111000000000000000',
  ' ': '00000000000000000000000000000000000', '%': '11000110010001000100010000100110011', '/': '00000000010001000100010001000000000',
  ',': '00000000000000000000001100010001000', '(': '00010001000100001000010000010000010', ')': '01000001000001000010000100010001000',
  ':': '00000011000110000000011000110000000', '=': '00000000001111100000111110000000000', '+': '00000001000010011111001000010000000',
  x: '00000100010101000100010101000100000', A: '01110100011000111111100011000110001', B: '11110100011000111110100011000111110',
  C: '01110100011000010000100001000101110', D: '11100100101000110001100011001011100', E: '11111100001000011110100001000011111',
  F: '11111100001000011110100001000010000', G: '01110100011000010111100011000101111', H: '10001100011000111111100011000110001',
  I: '01110001000010000100001000010001110', J: '00111000100001000010000101001001100', K: '10001100101010011000101001001010001',
  L: '10000100001000010000100001000011111', M: '10001110111010110101100011000110001', N: '10001100011100110101100111000110001',
  O: '01110100011000110001100011000101110', P: '11110100011000111110100001000010000', Q: '01110100011000110001101011001001101',
  R: '11110100011000111110101001001010001', S: '01111100001000001110000010000111110', T: '11111001000010000100001000010000100',
  U: '10001100011000110001100011000101110', V: '10001100011000110001100010101000100', W: '10001100011000110101101011010101010',
  X: '10001100010101000100010101000110001', Y: '10001100011000101010001000010000100', Z: '11111000010001000100010001000011111',
};

function canvas(w, h) {
  const px = new Uint8Array(w * h * 4).fill(255);
  const set = (x, y, [r, g, b]) => {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const i = 4 * (y * w + x);
    px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = 255;
  };
  const line = (x0, y0, x1, y1, c, width = 1) => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1) * 2;
    for (let k = 0; k <= n; k++) {
      const x = x0 + ((x1 - x0) * k) / n, y = y0 + ((y1 - y0) * k) / n;
      for (let dx = 0; dx < width; dx++) for (let dy = 0; dy < width; dy++) set(x + dx, y + dy, c);
    }
  };
  const text = (x, y, s, c = [0, 0, 0], scale = 2) => {
    let cx = x;
    for (const ch of String(s)) {
      const glyph = FONT[ch] ?? FONT[ch.toUpperCase()] ?? FONT[' '];
      for (let r = 0; r < 7; r++) for (let q = 0; q < 5; q++) {
        if (glyph[r * 5 + q] === '1') for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) set(cx + q * scale + a, y + r * scale + b, c);
      }
      cx += 6 * scale;
    }
    return cx;
  };
  return { w, h, px, line, text, png: () => encodePng(w, h, px) };
}

const niceStep = (span, n) => {
  const raw = span / n, p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw);
};
const fmt = (v) => (Math.abs(v) >= 1e6 ? `${Number((v / 1e6).toPrecision(3))}M` : Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}K` : Number(v.toPrecision(3)).toString());
const textWidth = (s, scale = 2) => 6 * scale * String(s).length - scale; // the 5x7 font's advance is 6 columns

/**
 * One plot: series [{ label, colour, points: [[x, y]] }] against sequences seen, linear axes (y from
 * 0), optional horizontal reference lines [{ label, y, colour }].
 */
function plot({ title, ylabel, series, refs = [], ymax }) {
  const W = 900, H = 520, L = 90, R = 20, TOP = 50, B = 70;
  const c = canvas(W, H);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat(refs.map((r) => r.y));
  const xmax = Math.max(...xs, 1);
  const ytop = ymax ?? Math.max(...ys) * 1.05;
  const X = (x) => L + ((W - L - R) * x) / xmax, Y = (y) => H - B - ((H - TOP - B) * Math.min(y, ytop)) / ytop;
  if (textWidth(title) > W - 20) throw new Error(`plot title too long for ${W} px: ${title}`);
  c.text(10, 15, title, [0, 0, 0], 2);
  const xs0 = niceStep(xmax, 8), ys0 = niceStep(ytop, 6);
  for (let x = 0; x <= xmax + 1e-9; x += xs0) {
    c.line(X(x), H - B, X(x), TOP, [230, 230, 230]);
    const w = textWidth(fmt(x)); // centred under its tick, kept inside the canvas
    c.text(Math.min(Math.max(X(x) - w / 2, 2), W - 2 - w), H - B + 10, fmt(x), [60, 60, 60], 2);
  }
  for (let y = 0; y <= ytop + 1e-9; y += ys0) {
    c.line(L, Y(y), W - R, Y(y), [230, 230, 230]);
    c.text(8, Y(y) - 7, fmt(y), [60, 60, 60], 2);
  }
  c.line(L, H - B, W - R, H - B, [0, 0, 0]);
  c.line(L, H - B, L, TOP, [0, 0, 0]);
  c.text(L + (W - L - R) / 2 - 110, H - 28, 'SEQUENCES SEEN', [0, 0, 0], 2);
  c.text(L + 6, TOP + 4, ylabel, [90, 90, 90], 2);
  for (const r of refs) {
    for (let x = L; x < W - R; x += 12) c.line(x, Y(r.y), x + 6, Y(r.y), r.colour, 2);
  }
  for (const s of series) {
    for (let i = 1; i < s.points.length; i++) c.line(X(s.points[i - 1][0]), Y(s.points[i - 1][1]), X(s.points[i][0]), Y(s.points[i][1]), s.colour, 2);
  }
  let ly = TOP + 30;
  for (const s of [...series, ...refs]) {
    c.line(W - R - 330, ly + 7, W - R - 300, ly + 7, s.colour, 3);
    c.text(W - R - 292, ly, s.label, [0, 0, 0], 2);
    ly += 22;
  }
  return c.png();
}

const NTM_COLOUR = [20, 90, 200], LSTM_COLOUR = [220, 80, 30], REF_COLOUR = [40, 160, 60];

/** docs/ntm-<task>-curve.png for every task with a curve (and its LSTM baseline's, when there is one). */
export function plotAll() {
  const read = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null);
  for (const task of Object.keys(TASKS)) {
    let ntm = read(`${ROOT}docs/ntm-${task}-curve.json`);
    if (!ntm && task === 'copy' && existsSync(`${ROOT}docs/ntm-learning-curve.csv`)) { // the copy model's curve (train_ntm.js's CSV)
      const [head, ...lines] = readFileSync(`${ROOT}docs/ntm-learning-curve.csv`, 'utf8').trim().split('\n');
      const k = head.split(',');
      ntm = { curve: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [k[i], Number(v)]))).map((p) => ({ sequences: p.sequences, trainLoss: p.train_loss_bits, evalMetric: p.eval_bit_errors, evalLoss: p.eval_loss_bits })) };
    }
    const lstm = read(`${ROOT}docs/ntm-${task}-lstm-curve.json`);
    if (!ntm && !lstm) continue;
    const series = [];
    const refs = [];
    if (task === 'ngrams') {
      const bayes = ntm ? mean(ntm.curve.map((p) => p.evalBayes)) : 0;
      if (ntm) series.push({ label: 'NTM', colour: NTM_COLOUR, points: ntm.curve.map((p) => [p.sequences, p.evalLoss]) });
      if (lstm) series.push({ label: 'LSTM', colour: LSTM_COLOUR, points: lstm.curve.map((p) => [p.sequences, p.evalLoss]) });
      refs.push({ label: 'BAYES-OPTIMAL', y: bayes, colour: REF_COLOUR }, { label: 'BAYES + 5%', y: 1.05 * bayes, colour: [150, 150, 150] });
      const lo = bayes * 0.95, top = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])));
      // the interesting part is near the optimum: plot the excess above 95 % of it
      const shift = (pts) => pts.map(([x, y]) => [x, y - lo]);
      series.forEach((s) => { s.points = shift(s.points); });
      refs.forEach((r) => { r.y -= lo; });
      writeFile(`${ROOT}docs/ntm-${task}-curve.png`, plot({ title: `SEC. 4.4 N-GRAMS: HELD-OUT BITS PER SEQUENCE - ${lo.toFixed(0)}`, ylabel: 'BITS - ' + lo.toFixed(0), series, refs, ymax: Math.min(top - lo, 3 * (bayes * 0.1)) }));
    } else {
      if (ntm) series.push({ label: 'NTM', colour: NTM_COLOUR, points: ntm.curve.map((p) => [p.sequences, p.evalLoss]) });
      if (lstm) series.push({ label: 'LSTM', colour: LSTM_COLOUR, points: lstm.curve.map((p) => [p.sequences, p.evalLoss]) });
      const name = { copy: '4.1 COPY', 'repeat-copy': '4.2 REPEAT COPY', recall: '4.3 RECALL', sort: '4.5 PRIORITY SORT' }[task];
      const unit = task === 'recall' ? 'QUERY' : 'SEQUENCE';
      writeFile(`${ROOT}docs/ntm-${task}-curve.png`, plot({ title: `SEC. ${name}: HELD-OUT LOSS, BITS PER ${unit}`, ylabel: 'BITS', series, refs }));
    }
    process.stdout.write(`  drew docs/ntm-${task}-curve.png\n`);
  }
}
