// The npm package as users get it: `npm pack`, install the tarball into an empty folder,
// import('glimpse-wasm') there and run a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './util.js';

test('npm pack → install into an empty folder → import works', { timeout: 180_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const info = JSON.parse(out)[0];
    const files = info.files.map((f) => f.path);
    t.diagnostic(`tarball ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(0)} KiB`);
    for (const f of ['package.json', 'src/js/index.js', 'src/js/index.d.ts', 'dist/glimpse-simd.wasm', 'dist/glimpse-scalar.wasm', 'src/js/tfjs.js', 'src/js/tfjs.d.ts']) {
      assert.ok(files.includes(f), `tarball lacks ${f}`);
    }
    assert.ok(!files.some((f) => f.startsWith('tests/') || f.startsWith('node_modules/')), 'tarball ships tests or node_modules');
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, info.filename)], { cwd: app, encoding: 'utf8' });
    const script = `
      import { load } from 'glimpse-wasm';
      const g = await load();
      const s = await load({ simd: false });
      const theta = new Float32Array([0, -1, 0, 1, 0, 0]); // 90° rotation
      const img = new Float32Array(16).map((_, i) => i);
      const grid = g.stn.affineGrid(theta, [1, 1, 4, 4], { alignCorners: true });
      const a = g.stn.gridSample(img, [1, 1, 4, 4], grid, [4, 4], { alignCorners: true });
      const b = s.stn.gridSample(img, [1, 1, 4, 4], grid, [4, 4], { alignCorners: true });
      console.log(JSON.stringify({ simd: g.simd, scalar: s.simd, a: Array.from(a), b: Array.from(b) }));
    `;
    const res = JSON.parse(execFileSync('node', ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' }));
    assert.equal(res.simd, true);
    assert.equal(res.scalar, false);
    // A 90° rotation of a 4×4 ramp with aligned corners maps pixels exactly.
    const expected = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expected.push(x * 4 + (3 - y));
    assert.deepEqual(res.a.map((v) => Math.round(v * 1e4) / 1e4), expected);
    assert.deepEqual(res.b, res.a);
    assert.ok(readdirSync(join(app, 'node_modules', 'glimpse-wasm', 'dist')).includes('glimpse-simd.wasm'));
    // glimpse-wasm/tfjs resolves without TF.js installed (an optional peer, never installed with the
    // package) and says what it needs when called without it.
    assert.ok(!readdirSync(join(app, 'node_modules')).includes('@tensorflow'), 'TF.js came with the package');
    const tfjsScript = `
      import { load } from 'glimpse-wasm';
      import { tfjsOps } from 'glimpse-wasm/tfjs';
      const g = await load();
      try { tfjsOps(g, undefined); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }
    `;
    const said = execFileSync('node', ['--input-type=module', '-e', tfjsScript], { cwd: app, encoding: 'utf8' });
    assert.match(said, /^TypeError: tfjsOps: tf must be the @tensorflow\/tfjs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
