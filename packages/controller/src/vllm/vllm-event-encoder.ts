import { InvalidArgumentError } from '@tierkv/core';

/**
 * vLLM KV events (vllm/distributed/kv_events.py) in their array layout: the msgspec structs with
 * `array_like=True, tag=True`, i.e. the tag first, then every field in declaration order, nil when
 * unset. BlockStored: `[tag, block_hashes, parent_block_hash, token_ids, block_size, lora_id,
 * medium, lora_name, extra_keys, group_idx]`; BlockRemoved: `[tag, block_hashes, medium,
 * group_idx]`; AllBlocksCleared: `[tag]`. A batch (EventBatch, also array_like) is
 * `[ts, events, data_parallel_rank]`. Decoders of older layouts ignore the trailing fields they do
 * not know; newer ones default the fields a shorter array leaves out.
 */
export interface VllmBlockStored {
  readonly type: 'BlockStored';
  /** uint64 block hashes (vLLM's int form). */
  readonly blockHashes: readonly bigint[];
  readonly parentBlockHash: bigint | null;
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  readonly loraId?: number | null;
  readonly medium: string | null;
  readonly loraName?: string | null;
}

export interface VllmBlockRemoved {
  readonly type: 'BlockRemoved';
  readonly blockHashes: readonly bigint[];
  readonly medium: string | null;
}

export interface VllmAllBlocksCleared {
  readonly type: 'AllBlocksCleared';
}

export type VllmKvEvent = VllmBlockStored | VllmBlockRemoved | VllmAllBlocksCleared;

export interface VllmEventBatch {
  /** Seconds since the epoch (vLLM's `time.time()`). */
  readonly ts: number;
  readonly events: readonly VllmKvEvent[];
  readonly dataParallelRank: number | null;
}

const U64_MAX = (1n << 64n) - 1n;

/** A tierkv chunk hash (16 hex characters, 64 bits) as the uint64 vLLM events carry. */
export function chunkHashToU64(hex: string): bigint {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new InvalidArgumentError('chunkHash', `expected up to 16 hex characters, got ${String(hex)}`);
  return BigInt(`0x${hex}`);
}

/** The msgpack bytes of one batch: the `payload` frame of `[topic, seq, payload]`. */
export function encodeVllmEventBatch(batch: VllmEventBatch): Buffer {
  const w = new MsgpackWriter();
  w.array(3);
  w.float64(batch.ts);
  w.array(batch.events.length);
  for (const e of batch.events) encodeEvent(w, e);
  w.intOrNil(batch.dataParallelRank);
  return w.done();
}

function encodeEvent(w: MsgpackWriter, e: VllmKvEvent): void {
  switch (e.type) {
    case 'BlockStored':
      w.array(10);
      w.str('BlockStored');
      w.hashes(e.blockHashes);
      if (e.parentBlockHash === null) w.nil();
      else w.u64(e.parentBlockHash);
      w.array(e.tokenIds.length);
      for (const t of e.tokenIds) w.int(t);
      w.int(e.blockSize);
      w.intOrNil(e.loraId ?? null);
      w.strOrNil(e.medium);
      w.strOrNil(e.loraName ?? null);
      w.nil(); // extra_keys
      w.nil(); // group_idx
      return;
    case 'BlockRemoved':
      w.array(4);
      w.str('BlockRemoved');
      w.hashes(e.blockHashes);
      w.strOrNil(e.medium);
      w.nil(); // group_idx
      return;
    case 'AllBlocksCleared':
      w.array(1);
      w.str('AllBlocksCleared');
      return;
    default:
      throw new InvalidArgumentError('event', `unknown vLLM event type ${String((e as { type: unknown }).type)}`);
  }
}

/**
 * The handful of msgpack types the events use. Block hashes are always written as uint64 (0xcf),
 * never as a float or a signed int64, so a decoder gets the exact 64-bit value.
 */
class MsgpackWriter {
  #buf = Buffer.allocUnsafe(256);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  done(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }

  nil(): void {
    this.#room(1);
    this.#buf[this.#len++] = 0xc0;
  }

  array(n: number): void {
    this.#room(5);
    if (n < 16) this.#buf[this.#len++] = 0x90 | n;
    else if (n < 0x10000) {
      this.#buf[this.#len++] = 0xdc;
      this.#len = this.#buf.writeUInt16BE(n, this.#len);
    } else {
      this.#buf[this.#len++] = 0xdd;
      this.#len = this.#buf.writeUInt32BE(n, this.#len);
    }
  }

  float64(v: number): void {
    this.#room(9);
    this.#buf[this.#len++] = 0xcb;
    this.#len = this.#buf.writeDoubleBE(v, this.#len);
  }

  /** An integer in its shortest msgpack form (as msgspec writes Python ints). */
  int(v: number): void {
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError('event', `expected an integer, got ${v}`);
    this.#room(9);
    const b = this.#buf;
    if (v >= 0) {
      if (v < 0x80) b[this.#len++] = v;
      else if (v < 0x100) {
        b[this.#len++] = 0xcc;
        b[this.#len++] = v;
      } else if (v < 0x10000) {
        b[this.#len++] = 0xcd;
        this.#len = b.writeUInt16BE(v, this.#len);
      } else if (v < 0x1_0000_0000) {
        b[this.#len++] = 0xce;
        this.#len = b.writeUInt32BE(v, this.#len);
      } else {
        b[this.#len++] = 0xcf;
        this.#len = b.writeBigUInt64BE(BigInt(v), this.#len);
      }
    } else if (v >= -32) b[this.#len++] = v & 0xff;
    else if (v >= -0x80) {
      b[this.#len++] = 0xd0;
      this.#len = b.writeInt8(v, this.#len);
    } else if (v >= -0x8000) {
      b[this.#len++] = 0xd1;
      this.#len = b.writeInt16BE(v, this.#len);
    } else if (v >= -0x8000_0000) {
      b[this.#len++] = 0xd2;
      this.#len = b.writeInt32BE(v, this.#len);
    } else {
      b[this.#len++] = 0xd3;
      this.#len = b.writeBigInt64BE(BigInt(v), this.#len);
    }
  }

  intOrNil(v: number | null): void {
    if (v === null) this.nil();
    else this.int(v);
  }

  u64(v: bigint): void {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new InvalidArgumentError('blockHash', `expected a uint64 bigint, got ${String(v)}`);
    this.#room(9);
    this.#buf[this.#len++] = 0xcf;
    this.#len = this.#buf.writeBigUInt64BE(v, this.#len);
  }

  hashes(hs: readonly bigint[]): void {
    this.array(hs.length);
    for (const h of hs) this.u64(h);
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.#room(5 + n);
    const b = this.#buf;
    if (n < 32) b[this.#len++] = 0xa0 | n;
    else if (n < 0x100) {
      b[this.#len++] = 0xd9;
      b[this.#len++] = n;
    } else if (n < 0x10000) {
      b[this.#len++] = 0xda;
      this.#len = b.writeUInt16BE(n, this.#len);
    } else {
      b[this.#len++] = 0xdb;
      this.#len = b.writeUInt32BE(n, this.#len);
    }
    this.#len += b.write(s, this.#len, 'utf8');
  }

  strOrNil(s: string | null): void {
    if (s === null) this.nil();
    else this.str(s);
  }
}
