// The Node half of the benchmark methodology (the Python half is harness/bench/methodology.py;
// both implement the same steps, so every backend is measured the same way).
//
// Used by node/worker.mjs (op `bench`), by the standalone node/bench_inference_onnx.mjs, and
// meant for any other JavaScript backend (onnxruntime-web under Node or in a browser page):
// it needs only an `ort` module with `InferenceSession` and `Tensor`, and `performance.now()`.
//
// One point (model, rows, threads):
//   1. inputs are built before timing (makeInputs: the same counter hash as Python, so every
//      backend sees the same rows); rows above chunkRows are split into chunk tensors, built
//      before timing too;
//   2. the first call is timed alone (first_call_ms), then `warmupCalls` more calls and more
//      until `warmupS` seconds have passed;
//   3. repeats = clamp(ceil(timeCapS / median warm-up call), minRepeats, maxRepeats); a first
//      call slower than slowCallS is the whole warm-up and slowRepeats calls are timed;
//   4. each repeat is timed on its own: the timed region holds only session.run (all chunks);
//   5. a copy of the outputs into fresh arrays is timed separately (copy_ms), never included;
//   6. peak resident memory over the point (Linux: VmHWM after resetting it via clear_refs).
// The raw samples go back to the caller; statistics are computed by summarize() here and by
// harness/bench/methodology.py:summarize in Python, with the same definitions.

import fs from 'node:fs';

const clock = () => performance.now();

/** lowbias32 (Chris Wellons): a 32-bit integer hash; harness/bench/methodology.py has the same. */
export function hash32(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** rows x features float32 values in [0, 1): value k is hash32(k + seed) / 2^32 rounded to 24 bits. */
export function makeInputs(rows, features, seed) {
  const n = rows * features;
  const out = new Float32Array(n);
  const scale = 2 ** -24;
  for (let k = 0; k < n; k++) out[k] = (hash32((k + seed) >>> 0) >>> 8) * scale;
  return out;
}

/** Linear-interpolation percentile of a sorted array (numpy's default method). */
export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q25 = percentile(s, 0.25);
  const q75 = percentile(s, 0.75);
  return {
    iterations: s.length,
    median_ms: percentile(s, 0.5),
    mean_ms: s.reduce((a, b) => a + b, 0) / s.length,
    min_ms: s[0],
    max_ms: s[s.length - 1],
    p95_ms: percentile(s, 0.95),
    q25_ms: q25,
    q75_ms: q75,
    iqr_ms: q75 - q25,
  };
}

export function repeatsFor(estimateMs, method) {
  const wanted = Math.ceil((method.timeCapS * 1000) / Math.max(estimateMs, 1e-6));
  return Math.min(method.maxRepeats, Math.max(method.minRepeats, wanted));
}

function median(values) {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

function procStatusMb(field) {
  try {
    const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Reset the peak-RSS counter (Linux >= 4.0); returns the resident MB now, or null elsewhere. */
export function resetPeakMemory() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return null;
  }
  return procStatusMb('VmRSS');
}

export function peakMemory() {
  return procStatusMb('VmHWM');
}

/**
 * Time `call` (an async function doing only the inference) with the calibrated loop.
 * `copy` (optional, async or not) copies the last outputs; it is timed separately.
 */
export async function timePoint(call, method, copy = null) {
  let t = clock();
  let last = await call();
  const firstCallMs = clock() - t;
  const slow = firstCallMs >= method.slowCallS * 1000;
  const warm = [];
  const warmStart = clock();
  while (!slow && (warm.length < method.warmupCalls || (clock() - warmStart) / 1000 < method.warmupS)) {
    t = clock();
    last = await call();
    warm.push(clock() - t);
    if (warm.length >= method.maxRepeats) break;
  }
  const estimate = warm.length ? median(warm) : firstCallMs;
  const repeats = slow ? method.slowRepeats : repeatsFor(estimate, method);
  const samples = new Array(repeats);
  for (let i = 0; i < repeats; i++) {
    t = clock();
    last = await call();
    samples[i] = clock() - t;
  }
  let copyMs = null;
  if (copy) {
    const copies = [];
    for (let i = 0; i < 3; i++) {
      t = clock();
      await copy(last);
      copies.push(clock() - t);
    }
    copyMs = median(copies);
  }
  return { first_call_ms: firstCallMs, warmup_calls: warm.length, samples_ms: samples, copy_ms: copyMs };
}

/** Cold load (first session of these bytes in this process) and warm loads (the next ones). */
export async function timeLoads(ort, modelBytes, options, warmRepeats) {
  let t = clock();
  let session = await ort.InferenceSession.create(modelBytes, options);
  const coldMs = clock() - t;
  const warm = [];
  for (let i = 0; i < warmRepeats; i++) {
    if (session.release) await session.release();
    t = clock();
    session = await ort.InferenceSession.create(modelBytes, options);
    warm.push(clock() - t);
  }
  return { session, cold_ms: coldMs, warm_ms: warm.length ? median(warm) : null, warm_samples_ms: warm };
}

/** The feeds of one call: one tensor per chunk of at most chunkRows rows (views, no copies). */
export function chunkFeeds(ort, inputName, data, rows, features, chunkRows) {
  const feeds = [];
  const step = Math.max(1, chunkRows || rows);
  for (let start = 0; start < rows; start += step) {
    const n = Math.min(step, rows - start);
    const view = data.subarray(start * features, (start + n) * features);
    feeds.push({ [inputName]: new ort.Tensor('float32', view, [n, features]) });
  }
  return feeds;
}

/** One benchmark point on a loaded session: inputs built here, then timePoint. */
export async function benchPoint(ort, session, spec, inputCache = null) {
  const { rows, features, seed, chunkRows, method } = spec;
  const tInputs = clock();
  let data = inputCache?.get?.(seed);
  if (!data || data.length < rows * features) {
    data = makeInputs(rows, features, seed);
    inputCache?.set?.(seed, data);
  }
  const feeds = chunkFeeds(ort, session.inputNames[0], data, rows, features, chunkRows);
  const inputsMs = clock() - tInputs;
  const rssBefore = resetPeakMemory();
  const call = async () => {
    let out;
    for (const f of feeds) out = await session.run(f);
    return out;
  };
  const copy = (out) => session.outputNames.map((name) => out[name].data.slice());
  const timed = await timePoint(call, method, copy);
  return { ...timed, rows, chunks: feeds.length, inputs_ms: inputsMs, rss_before_mb: rssBefore, peak_rss_mb: peakMemory() };
}

/** Dependent-load latency of an L1-resident pointer chase, ns per step (a tree-visit floor). */
export function chaseLatencyNs(steps = 20_000_000, size = 1024) {
  const next = new Int32Array(size);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = hash32(i) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < size; i++) next[order[i]] = order[(i + 1) % size];
  let p = 0;
  for (let i = 0; i < steps / 10; i++) p = next[p]; // JIT warm-up
  const t = clock();
  for (let i = 0; i < steps; i++) p = next[p];
  const ns = ((clock() - t) * 1e6) / steps;
  return p >= 0 ? ns : ns; // keep `p` alive
}

/**
 * The worker's `bench` op (node/worker.mjs; any JS worker may reuse it):
 *   {action: 'load', key, options, load_repeats, release_others} + model bytes
 *                                                        -> {cold_ms, warm_ms, warm_samples_ms}
 *   {action: 'point', key, rows, features, seed, chunk_rows, method}  -> timePoint result + memory
 *   {action: 'probe'}                                               -> {chase_ns}
 * `sessions` is the worker's map of loaded sessions (load stores the session under `key`).
 */
export async function benchOp(ort, sessions, header, payload, inputCache) {
  switch (header.action) {
    case 'load': {
      const { session, ...times } = await timeLoads(ort, new Uint8Array(payload), header.options, header.load_repeats ?? 3);
      for (const [key, old] of sessions) {
        // the key's previous session, and with release_others every other one: a sweep holds
        // one session at a time, so peak memory is the point's, not the run's
        if (key === header.key || header.release_others) {
          if (old?.release) await old.release();
          sessions.delete(key);
        }
      }
      sessions.set(header.key, session);
      return times;
    }
    case 'point': {
      const session = sessions.get(header.key);
      if (!session) throw new Error(`bench: no session loaded under key ${header.key}`);
      return benchPoint(ort, session, {
        rows: header.rows,
        features: header.features,
        seed: header.seed,
        chunkRows: header.chunk_rows,
        method: header.method,
      }, inputCache);
    }
    case 'probe':
      return { chase_ns: chaseLatencyNs() };
    default:
      throw new Error(`bench: unknown action ${JSON.stringify(header.action)}`);
  }
}
