import { ProtocolError, type MemoryLayout } from '@tierkv/core';
import type { Durability, WireStoreOutcome, WireTier } from '../protocol/messages.js';

// A reply is checked before the client answers with it: a server of another version, a broken
// proxy or a bug must surface as a ProtocolError naming the field, never as a TypeError later in
// the caller's code or, worst, as chunks of the wrong size handed out as data.

const TIERS: ReadonlySet<unknown> = new Set<WireTier>(['l1', 'l2', 'miss']);
const DURABILITIES: ReadonlySet<unknown> = new Set<Durability>(['memory', 'l2']);
const OUTCOMES: ReadonlySet<unknown> = new Set<WireStoreOutcome>(['durable', 'not_stored', 'l2_failed', 'l2_skipped']);

function bad(call: string, field: string, what: string): ProtocolError {
  return new ProtocolError(`the server's ${call} reply has ${what} in '${field}'; is the server of the same protocol version?`);
}

/** The array in `field`: `expected` entries (any number when undefined), each passing `ok`. */
function listOf<T>(header: Record<string, unknown>, call: string, field: string, expected: number | undefined, ok: (v: unknown) => boolean): T[] {
  const v = header[field];
  if (!Array.isArray(v)) throw bad(call, field, `${typeof v} instead of an array`);
  if (expected !== undefined && v.length !== expected) throw bad(call, field, `${v.length} entries for ${expected} keys`);
  for (const e of v) if (!ok(e)) throw bad(call, field, `the entry ${JSON.stringify(e)?.slice(0, 40)}`);
  return v as T[];
}

/** An optional non-negative integer field. */
export function countField(header: Record<string, unknown>, call: string, field: string): number | undefined {
  const v = header[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(call, field, `${JSON.stringify(v)?.slice(0, 40)} instead of a count`);
  return v;
}

/** How many keys a reply is about: the caller's, or for token ids the keys the server echoed. */
export function replyKeyCount(keyCount: number | undefined, header: Record<string, unknown>, call: string): number {
  if (keyCount !== undefined) return keyCount;
  const echoed = header['keys'];
  if (!Array.isArray(echoed)) throw bad(call, 'keys', 'no echo of the keys it hashed');
  return echoed.length;
}

export function checkStoreReply(header: Record<string, unknown>, keyCount: number): { stored: boolean[]; durability: Durability; outcomes: WireStoreOutcome[] | undefined } {
  const stored = listOf<boolean>(header, 'store', 'stored', keyCount, (e) => typeof e === 'boolean');
  const durability = header['durability'] ?? 'memory';
  if (!DURABILITIES.has(durability)) throw bad('store', 'durability', JSON.stringify(durability)?.slice(0, 40) ?? 'nothing');
  const outcomes = header['outcomes'] === undefined ? undefined : listOf<WireStoreOutcome>(header, 'store', 'outcomes', keyCount, (e) => OUTCOMES.has(e));
  return { stored, durability: durability as Durability, outcomes };
}

export function checkLookupReply(header: Record<string, unknown>, keyCount: number): WireTier[] {
  return listOf<WireTier>(header, 'lookup', 'tiers', keyCount, (e) => TIERS.has(e));
}

/** A retrieve's chunks: as many as announced, at most one per key, each exactly the layout's size. */
export function checkRetrieveReply(header: Record<string, unknown>, chunks: readonly Uint8Array[], layout: MemoryLayout, keyCount: number): void {
  if (chunks.length !== header['count']) throw new ProtocolError(`retrieve reply announced ${String(header['count'])} chunks but carried ${chunks.length}`);
  if (chunks.length > keyCount) throw bad('retrieve', 'count', `${chunks.length} chunks for ${keyCount} keys`);
  const size = layout.byteSize;
  for (let i = 0; i < chunks.length; i++) {
    if (chunks[i]!.byteLength !== size) throw new ProtocolError(`the server's retrieve reply carried chunk ${i} with ${chunks[i]!.byteLength} bytes; layout ${layout.toString()} has ${size}`);
  }
}
