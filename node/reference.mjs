// Read the committed reference data with nothing but node:fs: the manifest gives each array's
// dtype, shape and sha256; the bytes are raw little-endian C order. Every read is verified.
//
//   import { loadManifest, readArray } from './reference.mjs';
//   const m = loadManifest();                       // reference_data/manifest.json
//   const x = readArray(m, m.input_sets.nominal.inputs);  // {dtype, shape, data: Float32Array}

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const TYPED = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, uint8: Uint8Array };

export function loadManifest(root = ROOT) {
  const file = path.join(root, 'reference_data', 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.root = root;
  return manifest;
}

function verified(root, rel, sha256) {
  const bytes = readFileSync(path.join(root, rel));
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== sha256) throw new Error(`${rel}: expected sha256 ${sha256}, found ${found}`);
  return bytes;
}

export function readArray(manifest, rel) {
  const entry = manifest.arrays[rel];
  if (!entry) throw new Error(`${rel}: not listed in reference_data/manifest.json`);
  const bytes = verified(manifest.root, rel, entry.sha256);
  const Typed = TYPED[entry.dtype];
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { dtype: entry.dtype, shape: entry.shape, data: new Typed(copy) };
}

export function readModel(manifest, name) {
  const entry = manifest.models[name];
  if (!entry) throw new Error(`model ${name}: not listed in reference_data/manifest.json`);
  return new Uint8Array(verified(manifest.root, entry.file, entry.sha256));
}

// `node node/reference.mjs <array>` prints the array's dtype, shape and float sum (for tests).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = loadManifest(process.env.ONNX_INV_ROOT || ROOT);
  const a = readArray(m, process.argv[2]);
  let sum = 0;
  for (const v of a.data) sum += Number(v);
  process.stdout.write(JSON.stringify({ dtype: a.dtype, shape: a.shape, sum }) + '\n');
}
