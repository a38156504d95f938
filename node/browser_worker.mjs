#!/usr/bin/env node
// Long-lived browser driver: onnxruntime-web (WASM) in a real headless Chromium.
//
//   node node/browser_worker.mjs --chromium /usr/bin/chromium --user-data-dir DIR
//        [--prefix DIR] [--threads N] [--timeout-ms MS]
//
// Serves node/web/ and onnxruntime-web's dist/ (from --prefix's node_modules) on 127.0.0.1 at
// a free port, for this run only, and opens the page in Chromium through playwright-core.
// Speaks the frames of protocol.mjs on stdin/stdout, like worker.mjs:
//   hello                          -> versions (onnxruntime-web, Chromium), threads, origin
//   load {key} + model bytes       -> input/output names
//   run  {key, inputs, label?} + tensors -> output tensors, run_ms (performance.now() in the page)
//   bench {action, ..., timeout_ms?} -> benchOp of bench_core.mjs, run inside the page
//   screenshot                     -> PNG bytes of the page
//   exit
// Bytes move between this process and the page over HTTP (GET /blob/<id>, POST /result/<id>),
// never through the DevTools protocol. A page op that takes longer than --timeout-ms answers
// an error naming the op with the page's console errors; the browser is always closed on the
// way out (stdin end, exit op, signals, fatal errors).

import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackage, installedVersion, option, prefixOption, repoRoot, serve as serveFrames } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageName = 'onnxruntime-web';
// Flags that keep Chromium headless and off the network (FACTS.md, issue 5).
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

const prefix = prefixOption();
const executablePath = option('--chromium', '/usr/bin/chromium');
const userDataDir = option('--user-data-dir', null);
const threads = Number(option('--threads', '1'));
const timeoutMs = Number(option('--timeout-ms', '60000'));

function oneLine(text) {
  return String(text).replace(/\s+/g, ' ').trim();
}

// playwright-core from --prefix (a matrix cell's own node_modules) when it has one, else ours.
function loadPlaywright() {
  for (const base of [prefix, repoRoot]) {
    try {
      return createRequire(path.join(base, 'package.json'))('playwright-core');
    } catch {
      // not installed there
    }
  }
  throw new Error(`playwright-core is not installed under ${prefix}/node_modules nor in this repository`);
}

function findDist() {
  const { root } = findPackage(prefix, packageName);
  return { dist: path.join(root, 'dist'), version: installedVersion(root) };
}

// ---- the loopback server: the page, onnxruntime-web's dist/, and the byte exchange ----------

const blobs = new Map(); // id -> bytes the page will GET once
const results = new Map(); // id -> bytes the page POSTed
let nextBlob = 0;

function putBlob(bytes) {
  const id = String(++nextBlob);
  blobs.set(id, bytes);
  return id;
}

// The page's own files, by URL path (bench_core.mjs is shared with the Node workers).
const PAGE_FILES = {
  '/page.mjs': path.join(here, 'web', 'page.mjs'),
  '/node-fs-stub.mjs': path.join(here, 'web', 'node-fs-stub.mjs'),
  '/bench_core.mjs': path.join(here, 'bench_core.mjs'),
};

function sendFile(res, file) {
  let size;
  try {
    size = statSync(file).size;
  } catch {
    res.writeHead(404).end(`not found: ${path.basename(file)}`);
    return;
  }
  res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
  createReadStream(file).pipe(res);
}

function serve(dist) {
  return http.createServer((req, res) => {
    // Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (WASM threads).
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cache-Control', 'no-store');
    const url = new URL(req.url, 'http://127.0.0.1');
    const [, area, name = ''] = url.pathname.split('/');
    const safe = name && !name.includes('..') && !name.includes('\\');
    if (req.method === 'GET' && url.pathname === '/') return sendFile(res, path.join(here, 'web', 'index.html'));
    if (req.method === 'GET' && Object.hasOwn(PAGE_FILES, url.pathname)) return sendFile(res, PAGE_FILES[url.pathname]);
    if (req.method === 'GET' && area === 'ort' && safe) return sendFile(res, path.join(dist, name));
    if (req.method === 'GET' && area === 'blob' && blobs.has(name)) {
      const bytes = blobs.get(name);
      blobs.delete(name);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.byteLength });
      return res.end(bytes);
    }
    if (req.method === 'POST' && area === 'result' && safe) {
      const parts = [];
      req.on('data', (c) => parts.push(c));
      req.on('end', () => {
        results.set(name, Buffer.concat(parts));
        res.writeHead(204).end();
      });
      return undefined;
    }
    res.writeHead(404).end();
    return undefined;
  });
}

// ---- the browser ------------------------------------------------------------------------

let server;
let context;
let page;
let origin;
let packageVersion;
let ready;
const consoleErrors = [];

function pageTrouble() {
  const recent = consoleErrors.slice(-3).map(oneLine);
  return recent.length ? `; browser console: ${recent.join(' | ')}` : '';
}

async function withDeadline(what, promise, ms = timeoutMs) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`page did not finish ${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } catch (err) {
    // playwright prefixes evaluate errors with its own call log: keep the page's message.
    const message = oneLine(String(err?.message ?? err).replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0]);
    throw new Error(`${what}: ${message}${pageTrouble()}`);
  } finally {
    clearTimeout(timer);
  }
}

async function start() {
  if (!userDataDir) throw new Error('--user-data-dir is required (a fresh, empty folder)');
  const { dist, version } = findDist();
  packageVersion = version;
  server = serve(dist);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${server.address().port}`;
  const { chromium } = loadPlaywright();
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: timeoutMs,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`${err.name}: ${err.message}`));
  page.on('crash', () => consoleErrors.push('the page crashed'));
  await withDeadline('opening the page', page.goto(`${origin}/?threads=${threads}`, { timeout: timeoutMs }));
  ready = await withDeadline('loading onnxruntime-web', page.evaluate(() => window.harness.ready));
}

async function handle(header, payload) {
  switch (header.op) {
    case 'hello':
      return {
        versions: ready.versions,
        package_version: packageVersion,
        browser: ready.browser,
        user_agent: ready.user_agent,
        cross_origin_isolated: ready.cross_origin_isolated,
        threads_requested: threads,
        node: process.version,
        pid: process.pid,
        origin,
        prefix,
      };
    case 'load': {
      const blob = putBlob(payload);
      const answer = await withDeadline(
        `loading model ${header.key}`,
        page.evaluate(([key, id]) => window.harness.load(key, id), [header.key, blob]),
      );
      blobs.delete(blob);
      return answer;
    }
    case 'run': {
      const blob = putBlob(payload);
      const resultId = `r${blob}`;
      try {
        const answer = await withDeadline(
          `running ${header.key}`,
          page.evaluate(([key, id, specs, rid, label]) => window.harness.run(key, id, specs, rid, label), [
            header.key,
            blob,
            header.inputs,
            resultId,
            header.label ?? '',
          ]),
        );
        const body = results.get(resultId);
        if (!body) throw new Error(`running ${header.key}: the page posted no result`);
        return { ...answer, _chunks: [body] };
      } finally {
        blobs.delete(blob);
        results.delete(resultId);
      }
    }
    case 'bench': {
      // bench_core.mjs's benchOp, run inside the page; only timings come back (small JSON)
      const { timeout_ms: ms, payload_bytes: _bytes, id: _id, op: _op, ...bench } = header;
      const blob = payload.length ? putBlob(payload) : null;
      try {
        return await withDeadline(
          `bench ${bench.action} ${bench.key ?? ''}`.trim(),
          page.evaluate(([h, id]) => window.harness.bench(h, id), [bench, blob]),
          ms ?? timeoutMs,
        );
      } finally {
        if (blob) blobs.delete(blob);
      }
    }
    case 'screenshot': {
      const png = await withDeadline('taking a screenshot', page.screenshot({ fullPage: true }));
      return { _chunks: [png] };
    }
    case 'exit':
      await shutdown(0);
      break;
    default:
      throw new Error(`unknown op ${JSON.stringify(header.op)}`);
  }
  return {};
}

let closing = null;
function shutdown(code) {
  if (!closing) {
    closing = (async () => {
      try {
        await context?.close();
      } catch {
        // the browser is already gone
      }
      server?.close();
      process.exit(code);
    })();
  }
  return closing;
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => shutdown(1));

try {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be >= 1, got ${threads}`);
  await start();
} catch (err) {
  process.stderr.write(`browser worker: ${oneLine(err?.message ?? err)}\n`);
  await shutdown(3);
}

serveFrames(handle, { errorText: (err) => oneLine(err?.message ?? err), onEnd: () => shutdown(0) });
