#!/usr/bin/env node
// Standalone onnxruntime-node benchmark, as the seed's:
//
//   node node/bench_inference_onnx.mjs                  # every committed model
//   node node/bench_inference_onnx.mjs --model ridge    # one model (repeatable)
//   node node/bench_inference_onnx.mjs --full --out DIR --prefix DIR
//
// Sizes, budgets, thread settings and the timing method come from matrix.toml [bench] (the
// only place they live); the method is node/bench_core.mjs, the same loop the Python harness
// drives through the worker's `bench` op. Writes DIR/bench_onnx_results.json (default
// bench_results/) with the seed's keys (timestamp, benchmarks.<model>.load.{cold_ms, warm_ms},
// benchmarks.<model>.inference[{N, iterations, median_ms, mean_ms, min_ms, max_ms, budget}]),
// extended as harness/bench/results.py describes (backend, threads, p95, IQR, versions, host).
// The cost model, capacities and plots are the Python harness's (`python -m harness.bench`).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { benchPoint, summarize, timeLoads } from './bench_core.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEYS = ['sizes', 'full-sizes', 'budgets-ms', 'threads', 'time-cap-s', 'min-repeats', 'slow-call-s', 'slow-repeats', 'max-repeats',
  'warmup-calls', 'warmup-s', 'load-repeats', 'chunk-rows', 'max-call-s', 'full-max-call-s', 'seed'];
const FEATURES = 4; // harness/registry.py N_FEATURES

function fail(message) {
  process.stderr.write(`bench_inference_onnx: ${message}\n`);
  process.exit(2);
}

function args(argv) {
  const out = { models: [], full: false, out: path.join(root, 'bench_results'), prefix: root };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model') out.models.push(argv[++i]);
    else if (a === '--full') out.full = true;
    else if (a === '--out') out.out = path.resolve(argv[++i]);
    else if (a === '--prefix') out.prefix = path.resolve(argv[++i]);
    else fail(`unknown option ${a}; use --model NAME, --full, --out DIR, --prefix DIR`);
  }
  return out;
}

/** The [bench] table of matrix.toml: the TOML subset it uses (numbers, strings, arrays, inline tables). */
export function benchTable(text, name = 'matrix.toml') {
  const table = {};
  let inBench = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#[^"]*$/, '').trim();
    if (line.startsWith('[')) {
      inBench = line === '[bench]';
      continue;
    }
    if (!inBench || !line || line.startsWith('#')) continue;
    const m = line.match(/^([A-Za-z0-9_-]+)\s*=\s*(.+)$/);
    if (!m) fail(`${name}: cannot read line ${JSON.stringify(raw)} in [bench]`);
    const json = m[2].replace(/(\d)_(?=\d)/g, '$1').replace(/([A-Za-z][\w-]*)\s*=/g, '"$1":');
    try {
      table[m[1]] = JSON.parse(json);
    } catch {
      fail(`${name}: key 'bench.${m[1]}' is not a value this reader understands: ${m[2]}`);
    }
  }
  for (const key of KEYS) if (!(key in table)) fail(`${name}: key 'bench.${key}' missing`);
  for (const key of Object.keys(table)) if (!KEYS.includes(key)) fail(`${name}: unknown key 'bench.${key}'`);
  for (const key of ['sizes', 'full-sizes']) {
    if (!Array.isArray(table[key]) || !table[key].every((n) => Number.isInteger(n) && n > 0)) {
      fail(`${name}: key 'bench.${key}' must be a list of positive integers`);
    }
  }
  const b = table['budgets-ms'];
  if (!(b && b.interactive > 0 && b.batch > b.interactive)) fail(`${name}: key 'bench.budgets-ms' must have 0 < interactive < batch`);
  return table;
}

function loadOrt(prefix) {
  const require = createRequire(path.join(prefix, 'package.json'));
  try {
    const ort = require(require.resolve('onnxruntime-node'));
    return { ort, version: require(require.resolve('onnxruntime-node/package.json')).version };
  } catch (err) {
    return fail(`onnxruntime-node is not installed under ${prefix}/node_modules (${err.code ?? err.message}); ` +
      'run `npm install --ignore-scripts` there');
  }
}

function classify(ms, budgets) {
  if (ms < budgets.interactive) return 'interactive';
  if (ms < budgets.batch) return 'batch';
  return 'too slow';
}

function host() {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    load_average: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

async function main() {
  const opts = args(process.argv.slice(2));
  const cfg = benchTable(fs.readFileSync(path.join(root, 'matrix.toml'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'reference_data', 'manifest.json'), 'utf8'));
  const models = opts.models.length ? opts.models : Object.keys(manifest.models);
  for (const m of models) if (!manifest.models[m]) fail(`--model ${m}: unknown; known: ${Object.keys(manifest.models).join(', ')}`);
  const { ort, version } = loadOrt(opts.prefix);
  const sizes = [...new Set([...cfg.sizes, ...(opts.full ? cfg['full-sizes'] : [])])].sort((a, b) => a - b);
  const threads = [...new Set(cfg.threads.map((t) => (t === 'all' ? os.cpus().length : t)))];
  const method = {
    timeCapS: cfg['time-cap-s'], minRepeats: cfg['min-repeats'], maxRepeats: cfg['max-repeats'],
    warmupCalls: cfg['warmup-calls'], warmupS: cfg['warmup-s'], slowCallS: cfg['slow-call-s'], slowRepeats: cfg['slow-repeats'],
  };
  const maxCallMs = 1000 * (opts.full ? cfg['full-max-call-s'] : cfg['max-call-s']);
  const started = performance.now();
  const inputCache = new Map();
  const benchmarks = {};
  for (const name of models) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(root, manifest.models[name].file)));
    const byBackend = [];
    const inference = [];
    const notRun = [];
    for (const t of threads) {
      const options = { intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
      const { session, cold_ms, warm_ms } = await timeLoads(ort, bytes, options, cfg['load-repeats']);
      byBackend.push({ backend: 'ort-node', threads: t, cold_ms, warm_ms, what: 'InferenceSession.create(model bytes)' });
      const done = [];
      for (const N of sizes) {
        // marginal cost per row between the last two sizes (harness/bench/run.py predict_ms)
        const [p, q] = done.slice(-2);
        const predicted = q ? q.median_ms + Math.max(0, (q.median_ms - p.median_ms) / (q.N - p.N)) * (N - q.N) : 0;
        if (predicted > maxCallMs) {
          const reason = `predicted ${(predicted / 1000).toFixed(1)} s a call > max-call-s ${maxCallMs / 1000} s`;
          notRun.push({ N, backend: 'ort-node', threads: t, predicted_ms: predicted, budget: 'too slow', reason });
          console.log(`${name.padEnd(14)} t=${t} N=${String(N).padStart(8)}: not run, ${reason}`);
          continue;
        }
        const point = await benchPoint(ort, session, {
          rows: N, features: FEATURES, seed: cfg.seed, chunkRows: cfg['chunk-rows'], method,
        }, inputCache);
        const s = summarize(point.samples_ms);
        const entry = {
          N, iterations: s.iterations, median_ms: s.median_ms, mean_ms: s.mean_ms, min_ms: s.min_ms, max_ms: s.max_ms,
          budget: classify(s.median_ms, cfg['budgets-ms']), backend: 'ort-node', threads: t,
          p95_ms: s.p95_ms, q25_ms: s.q25_ms, q75_ms: s.q75_ms, iqr_ms: s.iqr_ms,
          first_call_ms: point.first_call_ms, warmup_calls: point.warmup_calls, copy_ms: point.copy_ms,
          chunks: point.chunks, rss_before_mb: point.rss_before_mb, peak_rss_mb: point.peak_rss_mb,
          ns_per_row: (s.median_ms * 1e6) / N,
        };
        inference.push(entry);
        done.push(entry);
        console.log(`${name.padEnd(14)} t=${t} N=${String(N).padStart(8)}: median ${s.median_ms.toFixed(4).padStart(10)} ms` +
          `  IQR ${s.iqr_ms.toFixed(4)}  x${s.iterations}  ${entry.budget}`);
      }
      if (session.release) await session.release();
    }
    const seed = byBackend[0];
    benchmarks[name] = { load: { cold_ms: seed.cold_ms, warm_ms: seed.warm_ms, backend: 'ort-node', threads: seed.threads, by_backend: byBackend }, inference, not_run: notRun };
  }
  const results = {
    schema: 1,
    timestamp: new Date().toISOString(),
    tool: 'node node/bench_inference_onnx.mjs',
    command: process.argv.slice(1),
    wall_s: Math.round((performance.now() - started) / 100) / 10,
    sizes,
    budgets_ms: cfg['budgets-ms'],
    threads,
    method,
    host: host(),
    backends: { 'ort-node': { status: 'ran', reason: null, versions: { node: process.version, 'onnxruntime-node': version, 'onnxruntime-common': ort.env.versions?.common ?? 'unknown' }, init_ms: null } },
    benchmarks,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'bench_onnx_results.json');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(results, null, 1)}\n`);
  fs.renameSync(tmp, file); // atomic: readers see the old file or the new one
  console.log(`Results saved to ${path.relative(process.cwd(), file) || file}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => fail(err?.stack ?? String(err)));
}
