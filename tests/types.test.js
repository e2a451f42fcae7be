// The shipped TypeScript declarations type-check against a file that uses every public name
// (tests/types/usage.ts), resolved through the package's own "exports"/"types" entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { ROOT } from './util.js';

test('TypeScript declarations type-check (tsc --strict)', { timeout: 120_000 }, (t) => {
  const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
  assert.ok(existsSync(tsc), 'typescript is a devDependency: run npm ci');
  // Resolve 'glimpse-wasm' to this checkout, as an installed package would be.
  const nm = `${ROOT}tests/types/node_modules`;
  rmSync(nm, { recursive: true, force: true });
  mkdirSync(nm);
  symlinkSync(ROOT, `${nm}/glimpse-wasm`, 'dir');
  try {
    // usage.ts with the DOM lib (a web app); usage-nodom.ts with es2022 only (no DOM, no @types/node)
    for (const config of ['tsconfig.json', 'tsconfig.nodom.json']) {
      const r = spawnSync(process.execPath, [tsc, '-p', `${ROOT}tests/types/${config}`], { encoding: 'utf8' });
      t.diagnostic(`${config}: ${(r.stdout + r.stderr).trim() || 'no type errors'}`);
      assert.equal(r.status, 0, `tsc -p ${config} found errors:\n${r.stdout}${r.stderr}`);
    }
  } finally {
    rmSync(nm, { recursive: true, force: true });
  }
});

test('the options and config declarations are what the C schema generates (scripts/gen_types.js --check)', () => {
  const r = spawnSync(process.execPath, [`${ROOT}scripts/gen_types.js`, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr || r.stdout);
});
