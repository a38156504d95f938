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

import { benchOp } from './bench_core.mjs';
import { helloFields, loadPackage, prefixOption, runSession, serve } from './serve.mjs';

const prefix = prefixOption();
const packageName = 'onnxruntime-node';

let ort;
let packageVersion;
const sessions = new Map();
const benchInputs = new Map();

async function handle(header, payload) {
  switch (header.op) {
    case 'hello':
      return helloFields(ort, packageVersion, prefix);
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
    case 'run':
      return runSession(ort, sessions, header, payload);
    case 'bench':
      return benchOp(ort, sessions, header, payload, benchInputs);
    case 'exit':
      process.exit(0);
      break;
    default:
      throw new Error(`unknown op ${JSON.stringify(header.op)}`);
  }
}

try {
  ({ module: ort, version: packageVersion } = loadPackage(prefix, packageName));
} catch (err) {
  process.stderr.write(`worker: ${err.message}\n`);
  process.exit(3);
}

serve(handle);
