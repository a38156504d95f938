// What the harness's long-lived Node workers share (worker.mjs, web_worker.mjs,
// browser_worker.mjs): their command-line options, finding and loading an npm package from a
// --prefix folder, the serve loop that answers the frames of protocol.mjs one at a time, and the
// `hello` and `run` ops of the workers that hold onnxruntime sessions in this process.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFrames, writeFrame, tensorsFromPayload, payloadFromTensors } from './protocol.mjs';

/** This repository: the default --prefix. */
export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The value after `name` on the command line, else `fallback`. */
export function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** --prefix, absolute: the folder whose node_modules holds the runtime (default: this repository). */
export function prefixOption() {
  return path.resolve(option('--prefix', repoRoot));
}

/**
 * Where package `name` is installed under `prefix`: a require() rooted there, the package's own
 * Node entry (exports["."].node.require, or main in old versions) and its folder. Throws one
 * line saying how to install it when it is not there.
 */
export function findPackage(prefix, name) {
  const require = createRequire(path.join(prefix, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(name);
  } catch {
    throw new Error(
      `${name} is not installed under ${prefix}/node_modules; install it with ` +
        `\`npm install --ignore-scripts\` in ${prefix} (or run \`nox -s invariance\`)`,
    );
  }
  const root = path.join(resolved.split(`node_modules${path.sep}${name}${path.sep}`)[0], 'node_modules', name);
  return { require, resolved, root };
}

/** The version in the package.json of the package folder `root`. */
export function installedVersion(root) {
  return JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
}

/** Package `name` from `prefix`'s node_modules: the module and its version. */
export function loadPackage(prefix, name) {
  const { require, resolved, root } = findPackage(prefix, name);
  const module = require(resolved);
  return { module, version: installedVersion(root) };
}

function answer(id, body) {
  const { _chunks: chunks = [], ...rest } = body;
  writeFrame(process.stdout, { id, ok: true, ...rest }, chunks);
}

/**
 * Serve the frames on stdin with `handle(header, payload)`, which returns the answer's body (its
 * `_chunks`, if any, become the answer's payload). Requests are served one at a time, in order:
 * the harness waits for each answer. A throw answers {ok: false, error: errorText(err)} and the
 * worker keeps serving. When stdin ends, `onEnd()` runs after the last answer.
 */
export function serve(handle, { errorText = (err) => String(err?.message ?? err), onEnd = () => process.exit(0) } = {}) {
  let queue = Promise.resolve();
  readFrames(process.stdin, (header, payload) => {
    queue = queue.then(async () => {
      try {
        answer(header.id, await handle(header, payload));
      } catch (err) {
        writeFrame(process.stdout, { id: header.id, ok: false, error: errorText(err) });
      }
    });
  });
  process.stdin.on('end', () => queue.then(onEnd));
}

/** The `hello` of a worker holding `ort` in this process: its versions, Node's, pid and prefix. */
export function helloFields(ort, packageVersion, prefix) {
  return {
    versions: ort.env.versions ?? null,
    package_version: packageVersion,
    node: process.version,
    pid: process.pid,
    prefix,
  };
}

/**
 * The `run` op of a worker holding `ort` sessions by key: the input tensors come in the payload,
 * the output tensors go back in it, and run_ms is the time inside session.run only.
 */
export async function runSession(ort, sessions, header, payload) {
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
