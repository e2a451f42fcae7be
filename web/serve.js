#!/usr/bin/env node
// serve.js: the `npm start` server. A tiny dependency-free static file server for the repository
// root, so the page (web/) can import the binding (src/js/) and fetch the wasm (dist/) and data.
//   GET /            → redirect to /web/ (web/index.html). The page's own URLs are relative, so it
//                      also works from any static server rooted at the repository root, at /web/.
//   PORT=8080        → listen port (0 picks a free one); HOST (default 127.0.0.1)
//   dist/*.wasm missing → runs ./build.sh --wasm-only first (they are committed, so normally not)
//   Every response carries Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
//   require-corp and Cross-Origin-Resource-Policy: same-origin, so the page is cross-origin
//   isolated and its worker can use threads (SharedArrayBuffer). ISOLATE=0 serves without them, as a
//   plain static host would: the page then runs single-threaded and says why.
// Prints "glimpse-wasm page at http://HOST:PORT/" once listening (tests wait for that line).
import { createServer } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  // Served as the bytes they are: the page decompresses them itself (DecompressionStream), so no
  // Content-Encoding header, which would make the browser inflate them behind the page's back.
  '.gz': 'application/gzip',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The headers that make the page cross-origin isolated (and its files embeddable by it). */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

function send(res, code, text) {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Map a request path to a file under ROOT, or null when it escapes ROOT or is malformed. */
export function resolvePath(urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  const file = path.resolve(ROOT, '.' + path.posix.normalize('/' + p));
  if (file !== ROOT && !file.startsWith(ROOT + path.sep)) return null;
  // Nothing under .git or the build lock is the page's business.
  const rel = path.relative(ROOT, file).split(path.sep);
  if (rel[0] === '.git' || rel.some((s) => s.startsWith('.') && s.length > 1)) return null;
  return file;
}

/** The server; isolate: false leaves out the cross-origin isolation headers. */
export function createStaticServer({ isolate = true } = {}) {
  return createServer(async (req, res) => {
    if (isolate) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n');
    }
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/') {
      // The page lives at /web/ and uses relative URLs (so any static server at the repo root works).
      res.writeHead(302, { Location: '/web/' + url.search });
      return res.end();
    }
    let file = resolvePath(url.pathname);
    if (!file) return send(res, 403, 'forbidden\n');
    let st;
    try {
      st = await stat(file);
      if (st.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { Location: url.pathname + '/' + url.search });
          return res.end();
        }
        file = path.join(file, 'index.html');
        st = await stat(file);
      }
    } catch {
      return send(res, 404, 'not found\n');
    }
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  // The wasm is committed, so this only happens in a tree where someone deleted it: build it.
  const missing = ['simd', 'scalar', 'simd-threads'].filter((b) => !existsSync(path.join(ROOT, 'dist', `glimpse-${b}.wasm`)));
  if (missing.length) {
    console.log(`serve.js: dist/glimpse-{${missing.join(',')}}.wasm missing, running ./build.sh --wasm-only`);
    const r = spawnSync(path.join(ROOT, 'build.sh'), ['--wasm-only'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) console.error('serve.js: the build failed; serving anyway (the page will say the wasm did not load)');
  }
  const isolate = process.env.ISOLATE !== '0';
  const server = createStaticServer({ isolate });
  server.on('error', (e) => {
    console.error(`serve.js: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const { port: p } = server.address();
    console.log(`glimpse-wasm page at http://${host === '0.0.0.0' ? 'localhost' : host}:${p}/${isolate ? '' : ' (not cross-origin isolated: single-threaded)'}`);
  });
}
