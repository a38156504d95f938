// The page half of the browser backend (node/browser_worker.mjs drives it).
//
// The driver calls window.harness.* through the DevTools protocol with small arguments only
// (keys, blob ids, tensor specs). Bytes never travel that way: the page fetches model bytes and
// input tensors from the harness's loopback server (GET /blob/<id>) and sends the output
// tensors back as one raw body (POST /result/<id>). Times are performance.now() around
// session.run only, so they exclude every transfer.
/* global ort */

const params = new URLSearchParams(location.search);
const threads = Number(params.get('threads') ?? '1');
const sessions = new Map();
const benchInputs = new Map();
const TYPED = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array };
let rowsShown = 0;

function fact(name, value) {
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = name;
  dd.textContent = value;
  document.getElementById('facts').append(dt, dd);
}

function status(text, isError = false) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
}

function logRow(model, op, label, rows, outputs, ms) {
  const tr = document.createElement('tr');
  const cells = [String(++rowsShown), model, op, label, rows, outputs, ms];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (i === 0 || i === 4 || i === 6) td.className = 'num';
    tr.append(td);
  });
  document.getElementById('log').append(tr);
}

async function fetchBytes(id) {
  const response = await fetch(`/blob/${id}`);
  if (!response.ok) throw new Error(`GET /blob/${id}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function feedsFrom(specs, bytes) {
  const feeds = {};
  for (const spec of specs) {
    const Typed = TYPED[spec.dtype];
    if (!Typed) throw new Error(`unsupported input dtype ${spec.dtype} for ${spec.name}`);
    const own = bytes.slice(spec.offset, spec.offset + spec.nbytes).buffer; // aligned copy
    feeds[spec.name] = new ort.Tensor(spec.dtype, new Typed(own), spec.shape);
  }
  return feeds;
}

async function init() {
  if (typeof ort === 'undefined') {
    throw new Error('onnxruntime-web did not load: window.ort is undefined after /ort/ort.min.js');
  }
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.wasm.numThreads = threads;
  const versions = ort.env.versions ?? {};
  const brands = (await navigator.userAgentData?.getHighEntropyValues(['fullVersionList']))?.fullVersionList ?? [];
  const browser = brands.find((b) => /Chrom/.test(b.brand));
  const browserVersion = browser ? `${browser.brand} ${browser.version}` : navigator.userAgent;
  fact('onnxruntime-web', versions.web ?? 'unknown');
  fact('onnxruntime-common', versions.common ?? 'unknown');
  fact('browser', browserVersion);
  fact('WASM threads asked', String(threads));
  fact('cross-origin isolated', String(crossOriginIsolated));
  fact('served from', location.origin);
  status('ready');
  return { versions, browser: browserVersion, user_agent: navigator.userAgent, cross_origin_isolated: crossOriginIsolated };
}

window.harness = {
  ready: init().catch((err) => {
    status(`error: ${err.message}`, true);
    throw err;
  }),

  async load(key, blobId) {
    const bytes = await fetchBytes(blobId);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    sessions.set(key, session);
    if (sessions.size === 1) fact('WASM threads in effect', String(ort.env.wasm.numThreads));
    logRow(key, 'load', '', '', `${bytes.byteLength.toLocaleString()} bytes`, '');
    status(`loaded ${key}`);
    return { input_names: session.inputNames, output_names: session.outputNames, threads: ort.env.wasm.numThreads };
  },

  async run(key, blobId, specs, resultId, label = '') {
    const session = sessions.get(key);
    if (!session) throw new Error(`no session loaded under key ${key}`);
    const feeds = feedsFrom(specs, await fetchBytes(blobId));
    const t0 = performance.now();
    const result = await session.run(feeds);
    const runMs = performance.now() - t0;
    const outputs = [];
    const parts = [];
    let offset = 0;
    for (const name of session.outputNames) {
      const t = result[name];
      outputs.push({ name, dtype: t.type, shape: t.dims.map(Number), offset, nbytes: t.data.byteLength });
      parts.push(t.data);
      offset += t.data.byteLength;
    }
    const response = await fetch(`/result/${resultId}`, { method: 'POST', body: new Blob(parts) });
    if (!response.ok) throw new Error(`POST /result/${resultId}: HTTP ${response.status}`);
    const rows = specs[0]?.shape?.[0] ?? 0;
    const shapes = outputs.map((o) => `${o.name} ${o.dtype}[${o.shape.join('×')}]`).join(', ');
    logRow(key, 'run', label, rows.toLocaleString(), shapes, runMs.toFixed(2));
    status(`ran ${key} on ${rows.toLocaleString()} rows`);
    return { outputs, run_ms: runMs };
  },

  // The benchmark loop of node/bench_core.mjs, run here: performance.now() around session.run
  // only (the page is cross-origin isolated, so the clock's resolution is 5 µs, not 100 µs).
  async bench(header, blobId) {
    const { benchOp } = await import('/bench_core.mjs');
    const payload = blobId ? await fetchBytes(blobId) : new Uint8Array(0);
    const options = { executionProviders: ['wasm'], executionMode: 'sequential', graphOptimizationLevel: 'all' };
    const answer = await benchOp(ort, sessions, { ...header, options }, payload, benchInputs);
    if (header.action === 'load') {
      logRow(header.key, 'bench load', '', '', `cold ${answer.cold_ms.toFixed(1)} ms`, '');
    } else if (header.action === 'point') {
      const sorted = [...answer.samples_ms].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      logRow(header.key, 'bench', `×${sorted.length}`, answer.rows.toLocaleString(), 'median of the timed calls', median.toFixed(2));
    }
    return answer;
  },
};
