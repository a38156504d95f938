// Binary framing shared by the harness's Node workers (the Python side is
// harness/backends/worker_protocol.py).
//
// A frame is: uint32 little-endian header length, the header as UTF-8 JSON, then
// `header.payload_bytes` raw bytes. Tensors travel in the payload; the header lists them as
// {name, dtype, shape, offset, nbytes}. Nothing is base64-encoded.

const TYPED = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
};

export function readFrames(stream, onFrame) {
  let buffered = Buffer.alloc(0);
  let want = null; // {headerLength, header}
  stream.on('data', (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    for (;;) {
      if (want === null) {
        if (buffered.length < 4) return;
        const headerLength = buffered.readUInt32LE(0);
        if (buffered.length < 4 + headerLength) return;
        const header = JSON.parse(buffered.subarray(4, 4 + headerLength).toString('utf8'));
        buffered = buffered.subarray(4 + headerLength);
        want = header;
      }
      const need = want.payload_bytes || 0;
      if (buffered.length < need) return;
      // copy: the payload must outlive the shared chunk buffer and be 8-byte aligned
      const payload = Buffer.alloc(need);
      buffered.copy(payload, 0, 0, need);
      buffered = buffered.subarray(need);
      const header = want;
      want = null;
      onFrame(header, payload);
    }
  });
}

export function writeFrame(stream, header, chunks = []) {
  const payloadBytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  const headerBuf = Buffer.from(JSON.stringify({ ...header, payload_bytes: payloadBytes }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBuf.length, 0);
  stream.write(length);
  stream.write(headerBuf);
  for (const c of chunks) stream.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
}

export function tensorsFromPayload(specs, payload) {
  return specs.map((spec) => {
    const Typed = TYPED[spec.dtype];
    if (!Typed) throw new Error(`unsupported dtype ${spec.dtype} for ${spec.name}`);
    const start = payload.byteOffset + spec.offset;
    const data = new Typed(payload.buffer.slice(start, start + spec.nbytes));
    return { name: spec.name, dtype: spec.dtype, shape: spec.shape, data };
  });
}

export function payloadFromTensors(tensors) {
  let offset = 0;
  const specs = [];
  const chunks = [];
  for (const t of tensors) {
    const view = t.data;
    specs.push({ name: t.name, dtype: t.dtype, shape: t.shape, offset, nbytes: view.byteLength });
    chunks.push(view);
    offset += view.byteLength;
  }
  return { specs, chunks };
}
