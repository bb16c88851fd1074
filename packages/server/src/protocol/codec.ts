import { Packr, Unpackr } from 'msgpackr';
import { WireError } from './wire-error.js';
import { KIND_REPLY, KIND_REQUEST, PRELUDE_BYTES, PROTOCOL_VERSION, type ErrorCode } from './messages.js';

// Plain msgpack maps (no msgpackr records) so peers in other languages can speak the protocol.
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false });

const MAGIC_0 = 0x54; // 'T'
const MAGIC_1 = 0x4b; // 'K'


export interface Prelude {
  readonly version: number;
  readonly kind: number;
  readonly id: number;
}

export function encodePrelude(kind: number, id: number): Buffer {
  const b = Buffer.allocUnsafe(PRELUDE_BYTES);
  b[0] = MAGIC_0;
  b[1] = MAGIC_1;
  b[2] = PROTOCOL_VERSION;
  b[3] = kind;
  b.writeUInt32LE(id >>> 0, 4);
  return b;
}

/** Reads frame 0; throws WireError (MALFORMED) when it is not a tierkv prelude of a known version. */
export function decodePrelude(frame: Uint8Array | undefined): Prelude {
  if (!frame || frame.byteLength !== PRELUDE_BYTES || frame[0] !== MAGIC_0 || frame[1] !== MAGIC_1) {
    throw new WireError('MALFORMED', `frame 0 must be the ${PRELUDE_BYTES}-byte tierkv prelude ('TK', version, kind, u32 request id)`);
  }
  const version = frame[2]!;
  if (version !== PROTOCOL_VERSION) {
    throw new WireError('MALFORMED', `protocol version ${version} is not supported; this peer speaks version ${PROTOCOL_VERSION}`);
  }
  const id = (frame[4]! | (frame[5]! << 8) | (frame[6]! << 16) | (frame[7]! << 24)) >>> 0;
  return { version, kind: frame[3]!, id };
}

/** Reads frame 1; throws WireError (MALFORMED) unless it is one msgpack map. */
export function decodeHeader(frame: Uint8Array | undefined): Record<string, unknown> {
  if (!frame || frame.byteLength === 0) throw new WireError('MALFORMED', 'frame 1 (the msgpack header) is missing or empty');
  let value: unknown;
  try {
    value = unpackr.unpack(frame);
  } catch (err) {
    throw new WireError('MALFORMED', `frame 1 is not valid msgpack: ${(err as Error).message}`);
  }
  // Only a plain map: msgpack extensions decode to other objects (Date, Error, Set …).
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new WireError('MALFORMED', 'frame 1 must be a msgpack map (the request header)');
  }
  return value as Record<string, unknown>;
}

export function encodeHeader(header: object): Buffer {
  return packr.pack(header);
}

/** Prelude, header, then one frame per chunk (sent as is, no copy). */
function encodeMessage(kind: number, id: number, header: object, chunks: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = new Array(2 + chunks.length);
  frames[0] = encodePrelude(kind, id);
  frames[1] = encodeHeader(header);
  for (let i = 0; i < chunks.length; i++) frames[2 + i] = chunks[i]!;
  return frames;
}

/** The frames of one request: prelude, header, then one frame per chunk (sent as is, no copy). */
export function encodeRequest(id: number, header: object, chunks: readonly Uint8Array[] = []): Uint8Array[] {
  return encodeMessage(KIND_REQUEST, id, header, chunks);
}

/** The frames of one reply (without the ROUTER's identity frame). */
export function encodeReply(id: number, header: object, chunks: readonly Uint8Array[] = []): Uint8Array[] {
  return encodeMessage(KIND_REPLY, id, header, chunks);
}

export function encodeErrorReply(id: number, code: ErrorCode, message: string, field?: string): Uint8Array[] {
  return encodeReply(id, field === undefined ? { ok: false, code, message } : { ok: false, code, message, field });
}

/** Total bytes of a list of frames. */
export function framesBytes(frames: readonly Uint8Array[], from = 0): number {
  let n = 0;
  for (let i = from; i < frames.length; i++) n += frames[i]!.byteLength;
  return n;
}
