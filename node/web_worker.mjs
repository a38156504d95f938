#!/usr/bin/env node
// Long-lived onnxruntime-web worker: the WASM backend of onnxruntime-web, run under Node.
//
//   node node/web_worker.mjs [--prefix DIR] [--threads N]
//
// --prefix: the folder whose node_modules holds onnxruntime-web (a matrix cell's own prefix;
// default: this repository). --threads: WASM threads (ort.env.wasm.numThreads), fixed for
// the life of the process because onnxruntime-web initialises its WASM module once.
// Frames and operations are those of worker.mjs (see protocol.mjs):
//   hello                          -> versions, threads asked for and threads in effect
//   load {key} + model bytes       -> input/output names
//   run  {key, inputs} + tensors   -> output tensors, run_ms (time inside session.run only)
//   bench {action, ...}            -> timing loops run inside Node (benchOp of bench_core.mjs)
//   exit
// Errors answer {ok: false, error} and the worker keeps serving.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFrames, writeFrame, tensorsFromPayload, payloadFromTensors } from './protocol.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageName = 'onnxruntime-web';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const prefix = path.resolve(option('--prefix', path.join(here, '..')));
const threads = Number(option('--threads', '1'));

function loadOrt() {
  const require = createRequire(path.join(prefix, 'package.json'));
  let resolved;
  try {
    // The package's own Node entry (exports["."].node.require, or main in old versions).
    resolved = require.resolve(packageName);
  } catch {
    throw new Error(
      `${packageName} is not installed under ${prefix}/node_modules; install it with ` +
        `\`npm install --ignore-scripts\` in ${prefix} (or run \`nox -s invariance\`)`,
    );
  }
  const ort = require(resolved);
  const root = resolved.split(`node_modules${path.sep}${packageName}${path.sep}`)[0];
  const pkgJson = require(path.join(root, 'node_modules', packageName, 'package.json'));
  return { ort, packageVersion: pkgJson.version };
}

let ort;
let packageVersion;
const sessions = new Map();
const benchInputs = new Map();

async function handle(header, payload) {
  switch (header.op) {
    case 'hello':
      return {
        versions: ort.env.versions ?? null,
        package_version: packageVersion,
        node: process.version,
        pid: process.pid,
        prefix,
        threads_requested: threads,
        threads: ort.env.wasm.numThreads,
        simd: ort.env.wasm.simd ?? null,
      };
    case 'load': {
      const session = await ort.InferenceSession.create(new Uint8Array(payload), {
        executionProviders: ['wasm'],
        executionMode: 'sequential',
        graphOptimizationLevel: header.graph_optimization ?? 'all',
      });
      sessions.set(header.key, session);
      // numThreads is settled once the WASM module is up: report what is in effect.
      return {
        input_names: session.inputNames,
        output_names: session.outputNames,
        threads: ort.env.wasm.numThreads,
      };
    }
    case 'run': {
      const session = sessions.get(header.key);
      if (!session) throw new Error(`no session loaded under key ${header.key}`);
      const feeds = {};
      for (const t of tensorsFromPayload(header.inputs, payload)) {
        feeds[t.name] = new ort.Tensor(t.dtype, t.data, t.shape);
      }
      const t0 = process.hrtime.bigint();
      const result = await session.run(feeds);
      const runMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const tensors = session.outputNames.map((name) => ({
        name,
        dtype: result[name].type,
        shape: result[name].dims.map(Number),
        data: result[name].data,
      }));
      const { specs, chunks } = payloadFromTensors(tensors);
      return { outputs: specs, run_ms: runMs, _chunks: chunks };
    }
    case 'bench': {
      // imported on first use: the invariance ops need nothing from the benchmark code
      const { benchOp } = await import('./bench_core.mjs');
      return benchOp(ort, sessions, header, payload, benchInputs);
    }
    case 'exit':
      process.exit(0);
      break;
    default:
      throw new Error(`unknown op ${JSON.stringify(header.op)}`);
  }
}

function answer(id, body) {
  const { _chunks: chunks = [], ...rest } = body;
  writeFrame(process.stdout, { id, ok: true, ...rest }, chunks);
}

try {
  ({ ort, packageVersion } = loadOrt());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be >= 1, got ${threads}`);
  ort.env.wasm.numThreads = threads;
} catch (err) {
  process.stderr.write(`web worker: ${err.message}\n`);
  process.exit(3);
}

// Requests are served one at a time, in order: the harness waits for each answer.
let queue = Promise.resolve();
readFrames(process.stdin, (header, payload) => {
  queue = queue.then(async () => {
    try {
      answer(header.id, await handle(header, payload));
    } catch (err) {
      writeFrame(process.stdout, { id: header.id, ok: false, error: String(err?.message ?? err) });
    }
  });
});
process.stdin.on('end', () => queue.then(() => process.exit(0)));
