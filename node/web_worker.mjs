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

import { helloFields, loadPackage, option, prefixOption, runSession, serve } from './serve.mjs';

const packageName = 'onnxruntime-web';
const prefix = prefixOption();
const threads = Number(option('--threads', '1'));

let ort;
let packageVersion;
const sessions = new Map();
const benchInputs = new Map();

async function handle(header, payload) {
  switch (header.op) {
    case 'hello':
      return {
        ...helloFields(ort, packageVersion, prefix),
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
    case 'run':
      return runSession(ort, sessions, header, payload);
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

try {
  ({ module: ort, version: packageVersion } = loadPackage(prefix, packageName));
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be >= 1, got ${threads}`);
  ort.env.wasm.numThreads = threads;
} catch (err) {
  process.stderr.write(`web worker: ${err.message}\n`);
  process.exit(3);
}

serve(handle);
