// ntm-tasks.js: what the NTM panel needs to know about each task of the paper (Graves et al. 2014,
// sec. 4.1-4.5) to draw and edit its examples: the input channels, which cells a visitor may edit
// within the task's rules, the size controls and how to say what an example is. The layouts are
// the library's (src/ntm_tasks.c); the library also checks every edited input, so a rule broken
// here still ends as its message on the page, not as a wrong picture.

/** The repeat count's encoding on its channel: (n − 5.5) / sqrt(99/12), as GL_TASK_REPEAT_MEAN/STD in src/ntm_tasks.h. */
export const repeatCode = (n) => (n - 5.5) / Math.sqrt(99 / 12);

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const range = (lo, hi) => (lo === hi ? `${lo}` : `${lo}–${hi}`);

/**
 * Per task:
 *   label, section, desc        the selector's text and what the task is
 *   sizes(info)                 the size sliders: { key, label, min, max, value, ticks, unit }
 *   channels(tr)                the input rows: { kind: 'bit' | 'marker' | 'count' | 'priority', label }
 *   outputs(tr)                 the output rows' labels
 *   editable(tr, t)             the channels of input step t a click or Space may flip
 *   where(tr, t)                step t in the task's words (for the keyboard's announcements)
 *   title(tr)                   the example's sizes in words ("Length 12", "4 items", …)
 *   beyond(tr, range)           '' or why these sizes are outside the training range
 *   trained(range)              the training range in words
 */
export const TASK_UI = {
  copy: {
    label: 'Copy',
    section: '§4.1',
    desc: 'A sequence of random 8-bit vectors, then a delimiter: the NTM has to write the whole sequence out again after it, from memory.',
    sizes: (info) => [{ key: 'length', label: 'length', min: 1, max: info.R + Math.max(8, info.R >> 2), value: 8, ticks: [info.trainRange.maxLength, info.R], unit: 'vectors' }],
    channels: (tr) => [...bitRows(tr.bits), { kind: 'marker', label: 'delimiter' }],
    outputs: (tr) => bitLabels(tr.bits),
    editable: (tr, t) => (t < tr.sizes.length ? allBits(tr.bits) : []),
    where: (tr, t) => `vector ${t + 1} of ${tr.sizes.length}`,
    title: (tr) => `Length ${tr.sizes.length}`,
    beyond: (tr, r) => (tr.sizes.length > r.maxLength ? `longer than any training sequence: ${range(r.minLength, r.maxLength)}` : ''),
    trained: (r) => `copy sequences of length ${range(r.minLength, r.maxLength)}`,
  },
  'repeat-copy': {
    label: 'Repeat copy',
    section: '§4.2',
    desc: 'A sequence, a delimiter, then the number of copies wanted on its own channel (normalised to mean 0, variance 1 over the training counts): the target is the sequence that many times, then an end marker.',
    sizes: (info) => [
      { key: 'length', label: 'length', min: 1, max: 30, value: Math.min(5, info.trainRange.maxLength), ticks: [info.trainRange.maxLength, 20], unit: 'vectors' },
      { key: 'repeats', label: 'repeats', min: 1, max: 25, value: 3, ticks: [info.trainRange.maxRepeats, 20], unit: 'copies' },
    ],
    channels: (tr) => [...bitRows(tr.bits), { kind: 'marker', label: 'delimiter' }, { kind: 'count', label: 'repeat count' }],
    outputs: (tr) => [...bitLabels(tr.bits), 'end marker'],
    editable: (tr, t) => (t < tr.sizes.length ? allBits(tr.bits) : []),
    where: (tr, t) => `vector ${t + 1} of ${tr.sizes.length}`,
    title: (tr) => `Length ${tr.sizes.length} × ${plural(tr.sizes.repeats, 'repeat')}`,
    beyond: (tr, r) => {
      const why = [];
      if (tr.sizes.length > r.maxLength) why.push(`length past ${r.maxLength}`);
      if (tr.sizes.repeats > r.maxRepeats) why.push(`repeats past ${r.maxRepeats}`);
      return why.length ? `outside the training range: ${why.join(', ')}` : '';
    },
    trained: (r) => `lengths ${range(r.minLength, r.maxLength)} × repeats ${range(r.minRepeats, r.maxRepeats)}`,
  },
  recall: {
    label: 'Associative recall',
    section: '§4.3',
    desc: 'Items of three 6-bit vectors between delimiters, then a query item between two query delimiters: the answer is the item that followed the query in the list. Pick the query below, or flip its bits to ask for something not in the list.',
    sizes: (info) => [{ key: 'items', label: 'items', min: 2, max: 16, value: Math.min(4, info.trainRange.maxItems), ticks: [info.trainRange.maxItems, 12], unit: 'items' }],
    channels: (tr) => [...bitRows(tr.bits), { kind: 'marker', label: 'item delimiter' }, { kind: 'marker', label: 'query delimiter' }],
    outputs: (tr) => bitLabels(tr.bits),
    editable: (tr, t) => {
      const { items: n, itemLength: K } = tr.sizes;
      const item = t < n * (K + 1) && t % (K + 1) !== 0;
      const query = t > n * (K + 1) && t <= n * (K + 1) + K;
      return item || query ? allBits(tr.bits) : [];
    },
    where: (tr, t) => {
      const { items: n, itemLength: K } = tr.sizes;
      if (t < n * (K + 1)) return `item ${Math.floor(t / (K + 1)) + 1} of ${n}, vector ${t % (K + 1)}`;
      return `query vector ${t - n * (K + 1)}`;
    },
    title: (tr) => `${plural(tr.sizes.items, 'item')}`,
    beyond: (tr, r) => (tr.sizes.items > r.maxItems ? `more items than in training: ${range(r.minItems, r.maxItems)}` : ''),
    trained: (r) => `${range(r.minItems, r.maxItems)} items of ${r.itemLength} vectors`,
  },
  ngrams: {
    label: 'Dynamic N-grams',
    section: '§4.4',
    desc: 'Bits from a random 6-gram table (the chance of a 1 after each 5-bit context drawn from Beta(½, ½)): the network predicts every next bit. No predictor can beat the Bayes-optimal estimator (N₁ + ½)/(N₀ + N₁ + 1) on average; the chart compares the two step by step.',
    sizes: (info) => [{ key: 'length', label: 'bits', min: 10, max: 400, value: info.trainRange.length, ticks: [info.trainRange.length], unit: 'bits' }],
    channels: () => [{ kind: 'bit', label: 'bit' }],
    outputs: () => ['next bit'],
    editable: () => [0],
    where: (tr, t) => `bit ${t + 1} of ${tr.steps}`,
    title: (tr) => `${tr.steps} bits`,
    beyond: (tr, r) => (tr.steps !== r.length ? `trained on ${r.length}-bit sequences` : ''),
    trained: (r) => `${r.length}-bit sequences`,
  },
  sort: {
    label: 'Priority sort',
    section: '§4.5',
    desc: 'Random 8-bit vectors, each with a priority in [−1, 1] (the bar under it): the target is the highest-priority vectors, highest first. The paper’s network is a feed-forward controller with 8 read and 8 write heads: pick a head below, or see all of them stacked. Change a priority with the slider, or focus the bits and press + or −.',
    sizes: (info) => [
      { key: 'length', label: 'vectors', min: 2, max: 40, value: info.trainRange.length, ticks: [info.trainRange.length], unit: 'vectors' },
      { key: 'outputLength', label: 'outputs', min: 1, max: 40, value: info.trainRange.outputLength, ticks: [info.trainRange.outputLength], unit: 'vectors' },
    ],
    channels: (tr) => [...bitRows(tr.bits), { kind: 'priority', label: 'priority' }, { kind: 'marker', label: 'delimiter' }],
    outputs: (tr) => bitLabels(tr.bits),
    editable: (tr, t) => (t < tr.sizes.length ? allBits(tr.bits) : []),
    where: (tr, t) => `vector ${t + 1} of ${tr.sizes.length}`,
    title: (tr) => `${tr.sizes.length} vectors → ${tr.sizes.outputLength} outputs`,
    beyond: (tr, r) => (tr.sizes.length !== r.length || tr.sizes.outputLength !== r.outputLength ? `trained on ${r.length} → ${r.outputLength}` : ''),
    trained: (r) => `${r.length} vectors → the ${r.outputLength} highest`,
  },
};

function bitRows(bits) {
  return Array.from({ length: bits }, (_, b) => ({ kind: 'bit', label: `bit ${b + 1}` }));
}
function bitLabels(bits) {
  return Array.from({ length: bits }, (_, b) => `bit ${b + 1}`);
}
function allBits(bits) {
  return Array.from({ length: bits }, (_, b) => b);
}

/** The input with bit (t, c) flipped; in recall a bit of the queried item is flipped in the query too, so the query stays a copy of it. */
export function flipBit(tr, input, t, c) {
  const Ix = tr.inputWidth;
  const out = input.slice();
  out[t * Ix + c] = 1 - out[t * Ix + c];
  if (tr.task === 'recall') {
    const { items: n, itemLength: K } = tr.sizes;
    const q = queryIndex(tr, input);
    if (q >= 0 && t > q * (K + 1) && t <= q * (K + 1) + K) {
      const tq = n * (K + 1) + (t - q * (K + 1));
      out[tq * Ix + c] = out[t * Ix + c];
    }
  }
  return out;
}

/** Recall: the item the query copies in `input` (−1 when it copies none), as the library finds it: the first equal item with a successor. */
export function queryIndex(tr, input) {
  const { items: n, itemLength: K } = tr.sizes;
  const Ix = tr.inputWidth, at = n * (K + 1);
  for (let i = 0; i + 1 < n; i++) {
    let same = true;
    for (let k = 1; k <= K && same; k++) {
      for (let c = 0; c < tr.bits && same; c++) same = input[(i * (K + 1) + k) * Ix + c] === input[(at + k) * Ix + c];
    }
    if (same) return i;
  }
  return -1;
}

/** Recall: the input with the query made a copy of item q (0-based; an item with a successor). */
export function setQuery(tr, input, q) {
  const { items: n, itemLength: K } = tr.sizes;
  const Ix = tr.inputWidth, at = n * (K + 1);
  const out = input.slice();
  for (let k = 1; k <= K; k++) for (let c = 0; c < tr.bits; c++) out[(at + k) * Ix + c] = input[(q * (K + 1) + k) * Ix + c];
  return out;
}

/** Sort: the input with vector t's priority set to p (clamped to [−1, 1], 2 decimals). */
export function setPriority(tr, input, t, p) {
  const out = input.slice();
  out[t * tr.inputWidth + tr.bits] = Math.round(Math.max(-1, Math.min(1, p)) * 100) / 100;
  return out;
}

/** The first step scored (the output phase starts there; 0 for N-grams). */
export function firstScored(tr) {
  for (let t = 0; t < tr.steps; t++) if (tr.mask[t] > 0) return t;
  return tr.steps;
}
