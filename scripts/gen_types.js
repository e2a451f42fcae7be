#!/usr/bin/env node
// gen_types.js: writes the options and config interfaces of the TypeScript declarations
// (src/js/{stn,draw,ntm}_model.d.ts, between the "generated" markers) from the C core's schema,
// so a model option is declared once, in C (the gl_field table of src/<model>_model.c).
//
//   node scripts/gen_types.js          rewrite the declarations
//   node scripts/gen_types.js --check  exit 1 (and say which) if they are out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from '../src/js/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FILES = { STN: 'src/js/stn_model.d.ts', DRAW: 'src/js/draw_model.d.ts', NTM: 'src/js/ntm_model.d.ts' };
// Options that accept a shorthand beyond what the schema describes.
const SHORTHAND = { NTM: { heads: 'number' } };

const range = (f) => (f.type === 'int' || f.type === 'float' ? `${f.min}..${f.max}` : '');
const scalarType = (f) => {
  if (f.type === 'bool') return 'boolean';
  if (f.type === 'enum') return f.choices.map((c) => `'${c}'`).join(' | ');
  return f.auto ? "number | 'auto'" : 'number';
};
const defaultText = (f) => (f.default === undefined ? '' : typeof f.default === 'string' ? `'${f.default}'` : String(f.default));

function fieldDoc(f) {
  const parts = [];
  const d = defaultText(f);
  if (d) parts.push(`default ${d}`);
  if (range(f)) parts.push(range(f));
  return `${f.doc}${parts.length ? ` (${parts.join('; ')})` : ''}.`;
}

function optionLines(label, schema) {
  const out = [`/** Options of g.create${label}; every one is optional. Declared in the C core's schema (g.schema.${label}). */`, `export interface ${label}Options {`];
  for (const o of schema) {
    let type;
    if (o.shape === 'scalar') type = scalarType(o.fields[0]);
    else if (o.shape === 'pair') type = `[number, number] | number[]`;
    else type = `{ ${o.fields.map((f) => `${f.key.split('.')[1]}?: number`).join('; ')} }`;
    const extra = SHORTHAND[label]?.[o.name];
    if (extra) type = `${extra} | ${type}`;
    const doc = o.shape === 'scalar' ? fieldDoc(o.fields[0]) : o.fields.map((f) => `\`${f.key}\`: ${fieldDoc(f)}`).join(' ');
    out.push(`  /** ${doc} */`, `  ${o.name}?: ${type};`);
  }
  out.push('}', '', `/** The full configuration of a model (its options with defaults and derived values filled in). */`, `export interface ${label}Config {`);
  for (const o of schema) {
    let type;
    if (o.shape === 'scalar') type = o.fields[0].type === 'enum' || o.fields[0].type === 'bool' ? scalarType(o.fields[0]) : 'number';
    else if (o.shape === 'pair') type = 'readonly [number, number]';
    else type = `{ readonly ${o.fields.map((f) => `${f.key.split('.')[1]}: number`).join('; readonly ')} }`;
    out.push(`  readonly ${o.name}: ${type};`);
  }
  out.push('}');
  return out;
}

const BEGIN = '// <generated from the C schema by scripts/gen_types.js: do not edit by hand>';
const END = '// </generated>';

const check = process.argv.includes('--check');
const g = await load();
let stale = [];
for (const [label, file] of Object.entries(FILES)) {
  const path = `${ROOT}${file}`;
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(BEGIN), j = text.indexOf(END);
  if (i < 0 || j < i) throw new Error(`${file}: the generated-section markers are missing`);
  const next = `${text.slice(0, i)}${BEGIN}\n${optionLines(label, g.schema[label]).join('\n')}\n${text.slice(j)}`;
  if (next === text) continue;
  if (check) stale.push(file);
  else writeFileSync(path, next);
}
if (check && stale.length) {
  console.error(`out of date (run node scripts/gen_types.js): ${stale.join(', ')}`);
  process.exit(1);
}
