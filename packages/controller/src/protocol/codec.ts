import { Packr } from 'msgpackr';
import type { ControllerMsg, ReplyMsg } from './messages.js';
import { validateMessage, validateReply, type RejectReason } from './validation.js';

// Plain msgpack (no records, no extensions) so a peer in another language can speak the protocol;
// Uint8Array fields travel as msgpack `bin` and decode as Buffers.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

export type DecodeResult<T> =
  | { readonly ok: true; readonly msg: T }
  | { readonly ok: false; readonly reason: 'malformed' | RejectReason; readonly detail: string };

export function encodeMessage(msg: ControllerMsg | ReplyMsg): Buffer {
  return packr.pack(msg);
}

function unpack(frame: Uint8Array): { ok: true; value: unknown } | { ok: false; detail: string } {
  if (frame.length === 0) return { ok: false, detail: 'empty frame' };
  try {
    return { ok: true, value: packr.unpack(frame) };
  } catch (err) {
    return { ok: false, detail: `not msgpack: ${(err as Error).message}` };
  }
}

/** Decodes and validates one inbound frame; never throws. */
export function decodeMessage(frame: Uint8Array): DecodeResult<ControllerMsg> {
  const u = unpack(frame);
  if (!u.ok) return { ok: false, reason: 'malformed', detail: u.detail };
  return validateMessage(u.value);
}

/** Decodes and validates one reply frame; never throws. */
export function decodeReply(frame: Uint8Array): DecodeResult<ReplyMsg> {
  const u = unpack(frame);
  if (!u.ok) return { ok: false, reason: 'malformed', detail: u.detail };
  return validateReply(u.value);
}
