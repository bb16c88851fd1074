/**
 * The tierkv protocol over a plain TCP byte stream (the `tierkv+tcp://` transport). The messages
 * are the very frames of the ZeroMQ transport (prelude, msgpack header, chunk frames); only the
 * envelope differs:
 *
 *   hello    (client → server, once, first bytes of a connection)
 *            'T' 'K' 'T' 'C', version (u8 = 1), id length (u8, 1-255), client id (UTF-8)
 *   message  frame count (u32 LE), one length per frame (u32 LE each), then the frames back to back
 *
 * The length table comes first so a receiver checks every cap before it buffers a byte of payload,
 * and a sender can hand chunk bytes to the socket as they are (one writev, no copy).
 */
export const HELLO_MAGIC = Buffer.from('TKTC', 'latin1');
export const STREAM_VERSION = 1;
/** Magic, version, id length. */
export const HELLO_FIXED_BYTES = 6;
const MAX_CLIENT_ID_BYTES = 255;

/** The hello a client sends first: it names the session (what ZeroMQ's routing id names). */
export function encodeHello(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  if (id.byteLength === 0 || id.byteLength > MAX_CLIENT_ID_BYTES) throw new RangeError(`a client id has 1-${MAX_CLIENT_ID_BYTES} bytes, got ${id.byteLength}`);
  const b = Buffer.allocUnsafe(HELLO_FIXED_BYTES + id.byteLength);
  HELLO_MAGIC.copy(b, 0);
  b[4] = STREAM_VERSION;
  b[5] = id.byteLength;
  id.copy(b, HELLO_FIXED_BYTES);
  return b;
}

/** The envelope of one message: its frame count and lengths, to write before the frames. */
export function encodeFrameTable(frames: readonly Uint8Array[]): Buffer {
  const b = Buffer.allocUnsafe(4 + 4 * frames.length);
  b.writeUInt32LE(frames.length, 0);
  for (let i = 0; i < frames.length; i++) b.writeUInt32LE(frames[i]!.byteLength, 4 + 4 * i);
  return b;
}

/**
 * Leading frames are copied into a message's head while it stays this small. Copying a few
 * hundred bytes beats a separate iovec; copying 16 chunks of 4 KiB into a fresh 64 KiB head did
 * not (a new external buffer per message, and its garbage: a quarter of a 4 KiB store round).
 */
const HEAD_MAX_BYTES = 4 * 1024;

/**
 * A message as the buffers to write: the length table with the leading small frames (prelude,
 * header, while the head stays within 4 KiB) copied behind it in one buffer, then the remaining
 * frames as they are (chunk bytes, L1 views: never copied). One stream write for a small message
 * instead of three.
 */
export function messageBuffers(frames: readonly Uint8Array[]): Uint8Array[] {
  let headBytes = 4 + 4 * frames.length;
  let k = 0;
  while (k < frames.length && headBytes + frames[k]!.byteLength <= HEAD_MAX_BYTES) headBytes += frames[k++]!.byteLength;
  const head = Buffer.allocUnsafe(headBytes);
  head.writeUInt32LE(frames.length, 0);
  for (let i = 0; i < frames.length; i++) head.writeUInt32LE(frames[i]!.byteLength, 4 + 4 * i);
  let at = 4 + 4 * frames.length;
  for (let i = 0; i < k; i++) {
    head.set(frames[i]!, at);
    at += frames[i]!.byteLength;
  }
  const out: Uint8Array[] = [head];
  for (let i = k; i < frames.length; i++) out.push(frames[i]!);
  return out;
}
