import { Unpackr } from 'msgpackr';
import { canonicalHash } from './vllm-hash.js';
import type { VllmDecodeError, VllmEvent, VllmEventBatch } from './vllm-events.js';

// uint64 hashes above 2^53 must survive: 64-bit ints decode as BigInt (smaller ones stay numbers).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/** A batch can carry no more events, and an event no more hashes, than this (a bound on one frame's work). */
export const MAX_EVENTS_PER_BATCH = 1 << 16;
export const MAX_HASHES_PER_EVENT = 1 << 20;
const MAX_MEDIUM = 64;

export type DecodedBatch = { ok: true; batch: VllmEventBatch } | { ok: false; reason: VllmDecodeError; detail: string };

class Bad extends Error {
  constructor(
    readonly reason: VllmDecodeError,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Decodes one `KVEventBatch` payload. Accepts the array form (`[ts, events, dp_rank?]`, msgspec
 * array_like) and the map form (`{ts, events, data_parallel_rank}`); events as tagged arrays (up to
 * v0.23: class name first, trailing fields appended release by release, so any length from the
 * oldest up) or maps (`{type, …}`, v0.26+, default-valued fields omitted). Never throws.
 */
export function decodeVllmBatch(payload: Uint8Array): DecodedBatch {
  let raw: unknown;
  try {
    raw = unpackr.unpack(payload);
  } catch (err) {
    return { ok: false, reason: 'msgpack', detail: (err as Error).message };
  }
  try {
    return { ok: true, batch: batchOf(raw) };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, reason: err.reason, detail: err.message };
    throw err;
  }
}

function batchOf(raw: unknown): VllmEventBatch {
  let ts: unknown, events: unknown, rank: unknown;
  if (Array.isArray(raw)) [ts, events, rank] = raw;
  else if (isMap(raw)) ({ ts, events, data_parallel_rank: rank } = raw);
  else throw new Bad('batch', 'payload is neither an array nor a map');
  if (typeof ts !== 'number' && typeof ts !== 'bigint') throw new Bad('batch', 'ts is not a number');
  if (!Array.isArray(events) || events.length > MAX_EVENTS_PER_BATCH) throw new Bad('batch', 'events is not an array (or too long)');
  const rankNum = rank === undefined || rank === null ? undefined : Number(rank);
  if (rankNum !== undefined && (!Number.isSafeInteger(rankNum) || rankNum < 0)) throw new Bad('batch', 'data_parallel_rank is not a rank');
  const out: VllmEvent[] = [];
  let unknownEvents = 0;
  for (let i = 0; i < events.length; i++) {
    const e = eventOf(events[i], i);
    if (e) out.push(e);
    else unknownEvents++;
  }
  return { ts: Number(ts), events: out, dataParallelRank: rankNum, unknownEvents };
}

/** Field values by name, whichever form the event came in. */
interface Fields {
  block_hashes?: unknown;
  parent_block_hash?: unknown;
  block_size?: unknown;
  medium?: unknown;
  lora_name?: unknown;
}

// Positions of the tagged-array form after the tag (msgspec field order of vllm/distributed/kv_events.py).
const STORED_FIELDS = ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name', 'extra_keys', 'group_idx', 'kv_cache_spec_kind', 'kv_cache_spec_sliding_window'] as const;
const REMOVED_FIELDS = ['block_hashes', 'medium', 'group_idx'] as const;

function eventOf(raw: unknown, i: number): VllmEvent | undefined {
  let type: unknown;
  let f: Fields;
  if (Array.isArray(raw)) {
    type = raw[0];
    const names = type === 'BlockStored' ? STORED_FIELDS : type === 'BlockRemoved' ? REMOVED_FIELDS : [];
    f = {};
    for (let k = 0; k < names.length && k + 1 < raw.length; k++) (f as Record<string, unknown>)[names[k]!] = raw[k + 1];
  } else if (isMap(raw)) {
    type = raw.type;
    f = raw as Fields;
  } else {
    throw new Bad('event', `event ${i} is neither a tagged array nor a map`);
  }
  switch (type) {
    case 'BlockStored':
      return {
        type,
        hashes: hashes(f.block_hashes, i),
        parent: f.parent_block_hash === undefined || f.parent_block_hash === null ? undefined : hash(f.parent_block_hash, i),
        medium: medium(f.medium, i),
        blockSize: typeof f.block_size === 'number' ? f.block_size : undefined,
        loraName: typeof f.lora_name === 'string' ? f.lora_name : undefined,
      };
    case 'BlockRemoved':
      return { type, hashes: hashes(f.block_hashes, i), medium: medium(f.medium, i) };
    case 'AllBlocksCleared':
      return { type };
    default:
      if (typeof type !== 'string') throw new Bad('event', `event ${i} has no type tag`);
      return undefined; // a newer vLLM's event type: skipped, the rest of the batch still applies
  }
}

function hash(v: unknown, i: number): bigint {
  const h = canonicalHash(v);
  if (h === undefined) throw new Bad('event', `event ${i}: a block hash is neither a uint64 nor 8..64 bytes`);
  return h;
}

function hashes(v: unknown, i: number): bigint[] {
  if (!Array.isArray(v) || v.length > MAX_HASHES_PER_EVENT) throw new Bad('event', `event ${i}: block_hashes is not an array (or too long)`);
  return v.map((x) => hash(x, i));
}

function medium(v: unknown, i: number): string {
  if (v === undefined || v === null) return 'gpu';
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_MEDIUM) throw new Bad('event', `event ${i}: medium is not a short string`);
  return v.toLowerCase();
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
