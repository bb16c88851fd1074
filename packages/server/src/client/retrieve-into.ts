import { InvalidArgumentError, ProtocolError, type MemoryLayout } from '@tierkv/core';

/**
 * The `into` buffers of a retrieve: one per chunk, each exactly the layout's byte size. Over
 * `tierkv+tcp://` the kernel writes each chunk straight into them (no allocation, no copy); over
 * ZeroMQ the received chunks are copied in.
 */
export function checkInto(into: unknown, layout: MemoryLayout, keyCount: number | undefined): readonly Uint8Array[] {
  if (!Array.isArray(into) || into.length === 0) throw new InvalidArgumentError('options.into', 'expected a non-empty array of Uint8Array, one per chunk');
  if (keyCount !== undefined && into.length < keyCount) {
    throw new InvalidArgumentError('options.into', `${into.length} buffers for ${keyCount} keys; give one buffer per key`);
  }
  const size = layout.byteSize;
  for (let i = 0; i < into.length; i++) {
    const b: unknown = into[i];
    if (!(b instanceof Uint8Array)) throw new InvalidArgumentError(`options.into[${i}]`, 'expected a Uint8Array');
    if (b.byteLength !== size) throw new InvalidArgumentError(`options.into[${i}]`, `has ${b.byteLength} bytes; layout ${layout.toString()} needs exactly ${size}`);
  }
  checkNoOverlap(into as Uint8Array[]);
  return into as readonly Uint8Array[];
}

/** Two chunks read into shared memory would overwrite each other: refuse it (sorting views per buffer). */
function checkNoOverlap(into: readonly Uint8Array[]): void {
  const byBuffer = new Map<ArrayBufferLike, number[]>();
  for (let i = 0; i < into.length; i++) {
    const list = byBuffer.get(into[i]!.buffer);
    if (list) list.push(i);
    else byBuffer.set(into[i]!.buffer, [i]);
  }
  for (const list of byBuffer.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => into[a]!.byteOffset - into[b]!.byteOffset);
    for (let k = 1; k < list.length; k++) {
      const prev = into[list[k - 1]!]!;
      if (into[list[k]!]!.byteOffset < prev.byteOffset + prev.byteLength) {
        throw new InvalidArgumentError(`options.into[${list[k]}]`, `shares memory with options.into[${list[k - 1]}]; each chunk needs a buffer of its own`);
      }
    }
  }
}

/** The retrieve's result chunks: the first `chunks.length` of `into`, holding the received bytes. */
export function fillInto(into: readonly Uint8Array[], chunks: readonly Uint8Array[]): Uint8Array[] {
  if (chunks.length > into.length) throw new ProtocolError(`the server returned ${chunks.length} chunks but options.into has ${into.length} buffers; give one buffer per chunk of the tokens`);
  const out = new Array<Uint8Array>(chunks.length);
  for (let i = 0; i < chunks.length; i++) {
    const target = into[i]!;
    const c = chunks[i]!;
    // Read in place already (the TCP transport), or copied here (ZeroMQ, or a reply the reader could not place).
    if (c.buffer !== target.buffer || c.byteOffset !== target.byteOffset) target.set(c);
    out[i] = target;
  }
  return out;
}
