#!/usr/bin/env node
// Long-lived onnxruntime worker: one process per test run serves every model and input set.
//
//   node node/worker.mjs [--prefix DIR] [--backend node]
//
// --prefix: the folder whose node_modules holds onnxruntime-node (a matrix cell's own prefix;
// default: this repository). Requests and answers are binary frames on stdin/stdout
// (see protocol.mjs). Operations:
//   hello                          -> versions (ort.env.versions, node, package version)
//   load {key, threads} + model    -> input/output names (model bytes in the payload, as a
//                                     browser client would pass them)
//   run  {key, inputs} + tensors   -> output tensors, run_ms (time inside session.run only)
//   bench {action, ...}            -> timing loops run inside Node (see bench_core.mjs)
//   exit
// Errors answer {ok: false, error} and the worker keeps serving.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFrames, writeFrame, tensorsFromPayload, payloadFromTensors } from './protocol.mjs';
import { benchOp } from './bench_core.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const prefix = path.resolve(option('--prefix', path.join(here, '..')));
const packageName = 'onnxruntime-node';

function loadOrt() {
  const require = createRequire(path.join(prefix, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(packageName);
  } catch {
    throw new Error(
      `${packageName} is not installed under ${prefix}/node_modules; install it with ` +
        `\`npm install --ignore-scripts\` in ${prefix} (or run \`nox -s invariance\`)`,
    );
  }
  const ort = require(resolved);
  const pkgJson = require(path.join(resolved.split(`node_modules${path.sep}${packageName}`)[0],
    'node_modules', packageName, 'package.json'));
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
      };
    case 'load': {
      const threads = header.threads ?? 1;
      const session = await ort.InferenceSession.create(new Uint8Array(payload), {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: header.graph_optimization ?? 'all',
      });
      sessions.set(header.key, session);
      return { input_names: session.inputNames, output_names: session.outputNames };
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
    case 'bench':
      return benchOp(ort, sessions, header, payload, benchInputs);
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
} catch (err) {
  process.stderr.write(`worker: ${err.message}\n`);
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
