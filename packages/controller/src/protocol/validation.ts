import { badScoreField } from '../vllm/vllm-score-request.js';
import type { ControllerMsg, ReplyMsg, SeqMap, WireScope, WorkerCommand } from './messages.js';

/** Why a decoded value is not a message we accept. */
export type RejectReason = 'unknown_type' | 'invalid';

export type Validated<T> = { readonly ok: true; readonly msg: T } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const MAX_ID = 256;
const MAX_LOCATIONS = 64;
/** One frame carries at most this many events or snapshot keys (8 MB of hashes). */
export const MAX_KEYS_PER_FRAME = 1 << 20;
/** Entries (location × scope) one sync batch may carry. */
const MAX_SYNC_ENTRIES = MAX_LOCATIONS * 64;
/** Token ids one lookup may carry (4 Mi tokens: 16 Ki chunks of 256). */
export const MAX_LOOKUP_TOKENS = 4 << 20;

/** Bytes of a msgpack string of at most `units` UTF-16 units (≤ 3 UTF-8 bytes each) with its header. */
const str = (units: number): number => 3 * units + 5;
/** Field names, type tags, numbers and map headers of any one message, generously. */
const ENVELOPE_BYTES = 4096 + 3 * str(MAX_ID);
const SCOPE_BYTES = 64 + 2 * str(1024);

/**
 * The largest message validateMessage can accept, as msgpack bytes: the biggest of a kv_batch (a
 * hash and an op per key), a sync_batch (all its entries' strings plus MAX_KEYS_PER_FRAME hashes in
 * all) and a lookup (hashes as hex strings, or tokens at 5 bytes each; a `score` carries no more:
 * MAX_SCORE_TOKENS tokens or 64 Ki hash strings of ≤ 66 characters). Every controller socket
 * refuses frames above it (ZMQ_MAXMSGSIZE): a peer announcing more is disconnected by libzmq before
 * anything is buffered, so a stalled frame pins at most this much per connection. About 36 MiB.
 */
export const MAX_MESSAGE_BYTES = Math.max(
  ENVELOPE_BYTES + SCOPE_BYTES + MAX_KEYS_PER_FRAME * 9 + 16,
  ENVELOPE_BYTES + MAX_SYNC_ENTRIES * (str(MAX_ID) + SCOPE_BYTES + 32) + MAX_KEYS_PER_FRAME * 8,
  ENVELOPE_BYTES + SCOPE_BYTES + Math.max(MAX_KEYS_PER_FRAME * 18, MAX_LOOKUP_TOKENS * 5),
  ENVELOPE_BYTES + MAX_LOCATIONS * (str(MAX_ID) + 9),
);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isStr = (v: unknown, max = MAX_ID): v is string => typeof v === 'string' && v.length <= max;
const isNonEmptyStr = (v: unknown, max = MAX_ID): v is string => isStr(v, max) && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function isSeqMap(v: unknown): v is SeqMap {
  if (!isObj(v)) return false;
  const keys = Object.keys(v);
  if (keys.length > MAX_LOCATIONS) return false;
  return keys.every((k) => k.length > 0 && k.length <= MAX_ID && isCount(v[k]));
}

function isScope(v: unknown): v is WireScope {
  return isObj(v) && isNonEmptyStr(v.modelName, 1024) && isCount(v.kvRank) && v.kvRank <= 0xffff_ffff && isStr(v.cacheSalt, 1024);
}

function isHashBytes(v: unknown): v is Uint8Array {
  return isBytes(v) && v.length % 8 === 0 && v.length / 8 <= MAX_KEYS_PER_FRAME;
}

function addressed(m: Obj): boolean {
  return isNonEmptyStr(m.instanceId) && isCount(m.workerId) && m.workerId <= 0xffff_ffff;
}

const HEX16 = /^[0-9a-f]{16}$/;

/** Checks an inbound (worker or client → controller) message's shape field by field. */
export function validateMessage(value: unknown): Validated<ControllerMsg> {
  if (!isObj(value) || typeof value.t !== 'string') return reject('unknown_type', 'not a map with a string `t`');
  const m = value;
  const bad = (field: string): Validated<ControllerMsg> => reject('invalid', `${m.t}: bad or missing \`${field}\``);
  switch (m.t) {
    case 'kv_batch': {
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isNonEmptyStr(m.location)) return bad('location');
      if (!isScope(m.scope)) return bad('scope');
      if (!isCount(m.seq)) return bad('seq');
      if (!isHashBytes(m.hashes)) return bad('hashes');
      if (!isBytes(m.ops) || m.ops.length * 8 !== m.hashes.length) return bad('ops');
      for (let i = 0; i < m.ops.length; i++) if (m.ops[i]! > 1) return bad('ops');
      break;
    }
    case 'sync_batch': {
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isNonEmptyStr(m.syncId)) return bad('syncId');
      if (!isCount(m.batch)) return bad('batch');
      if (!Array.isArray(m.entries) || m.entries.length > MAX_SYNC_ENTRIES) return bad('entries');
      let keys = 0;
      for (const e of m.entries as unknown[]) {
        if (!isObj(e) || !isNonEmptyStr(e.location) || !isScope(e.scope) || !isHashBytes(e.hashes)) return bad('entries');
        keys += e.hashes.length / 8;
      }
      // One batch is one frame: MAX_KEYS_PER_FRAME in all, so MAX_MESSAGE_BYTES holds.
      if (keys > MAX_KEYS_PER_FRAME) return bad('entries');
      break;
    }
    case 'register':
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isCount(m.version)) return bad('version');
      if (!isSeqMap(m.seqs)) return bad('seqs');
      if (!isCount(m.keyCount)) return bad('keyCount');
      break;
    case 'deregister':
      if (!addressed(m)) return bad('instanceId/workerId');
      break;
    case 'heartbeat':
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isSeqMap(m.seqs)) return bad('seqs');
      if (!isCount(m.keyCount)) return bad('keyCount');
      break;
    case 'sync_start':
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isNonEmptyStr(m.syncId)) return bad('syncId');
      if (!isCount(m.totalKeys)) return bad('totalKeys');
      if (!isCount(m.batchCount) || m.batchCount > MAX_KEYS_PER_FRAME) return bad('batchCount');
      if (!isSeqMap(m.seqs)) return bad('seqs');
      break;
    case 'sync_end':
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isNonEmptyStr(m.syncId)) return bad('syncId');
      if (!isCount(m.totalKeys)) return bad('totalKeys');
      break;
    case 'sync_status':
      if (!addressed(m)) return bad('instanceId/workerId');
      if (!isNonEmptyStr(m.syncId)) return bad('syncId');
      break;
    case 'lookup': {
      if (!isScope(m.scope)) return bad('scope');
      const h = m.hashes;
      const tk = m.tokens;
      if ((h === undefined) === (tk === undefined)) return bad('hashes|tokens (exactly one)');
      if (h !== undefined) {
        const okBytes = isHashBytes(h);
        const okStrings = Array.isArray(h) && h.length <= MAX_KEYS_PER_FRAME && h.every((x) => typeof x === 'string' && HEX16.test(x));
        if (!okBytes && !okStrings) return bad('hashes');
      }
      if (tk !== undefined) {
        if (!Array.isArray(tk) || tk.length > MAX_LOOKUP_TOKENS) return bad('tokens');
        for (const x of tk) if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffff_ffff) return bad('tokens');
      }
      break;
    }
    case 'score': {
      const field = badScoreField(m);
      if (field) return bad(field);
      break;
    }
    case 'query_workers':
      break;
    default:
      return reject('unknown_type', `unknown message type ${JSON.stringify(String(m.t).slice(0, 40))}`);
  }
  return { ok: true, msg: m as unknown as ControllerMsg };
}

function isCommand(v: unknown): v is WorkerCommand {
  if (!isObj(v)) return false;
  if (v.c === 'full_sync') return typeof v.reason === 'string';
  return v.c === 'register' || v.c === 'clear';
}

/** Checks a reply (controller → worker or client). Lighter: the fields the client reads. */
export function validateReply(value: unknown): Validated<ReplyMsg> {
  if (!isObj(value) || typeof value.t !== 'string') return reject('unknown_type', 'not a map with a string `t`');
  const m = value;
  const bad = (field: string): Validated<ReplyMsg> => reject('invalid', `${m.t}: bad or missing \`${field}\``);
  switch (m.t) {
    case 'register_ok':
      if (!isStr(m.epoch) || !Array.isArray(m.commands) || !m.commands.every(isCommand)) return bad('epoch/commands');
      if (m.pull !== undefined && !isNonEmptyStr(m.pull, 1024)) return bad('pull');
      break;
    case 'heartbeat_ok':
      if (!isStr(m.epoch) || typeof m.known !== 'boolean' || !Array.isArray(m.commands) || !m.commands.every(isCommand)) {
        return bad('epoch/known/commands');
      }
      break;
    case 'ok':
      break;
    case 'sync_start_ok':
      if (typeof m.accepted !== 'boolean') return bad('accepted');
      break;
    case 'sync_status_ok':
      if (!isStr(m.syncId) || typeof m.state !== 'string' || !Array.isArray(m.missing) || !m.missing.every(isCount)) {
        return bad('syncId/state/missing');
      }
      break;
    case 'lookup_ok':
      if (!Array.isArray(m.holders) || !isCount(m.chunkSize)) return bad('holders');
      break;
    case 'workers_ok':
    case 'score_ok':
      if (!Array.isArray(m.workers)) return bad('workers');
      break;
    case 'error':
      if (!isStr(m.code) || typeof m.message !== 'string') return bad('code/message');
      break;
    default:
      return reject('unknown_type', `unknown reply type ${JSON.stringify(String(m.t).slice(0, 40))}`);
  }
  return { ok: true, msg: m as unknown as ReplyMsg };
}

function reject<T>(reason: RejectReason, detail: string): Validated<T> {
  return { ok: false, reason, detail };
}
