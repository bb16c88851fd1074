import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ConfigError, InvalidArgumentError } from '@tierkv/core';

/** vLLM's `--prefix-caching-hash-algo` values that are reproducible across processes (CBOR based). */
export type VllmHashAlgo = 'sha256_cbor' | 'xxhash_cbor';

export interface VllmBlockHasherConfig {
  readonly algo: VllmHashAlgo;
  /** vLLM's `PYTHONHASHSEED`: NONE_HASH (the parent of block 0) is the digest of this string. */
  readonly seed: string;
  /** Tokens per block (vLLM's `--block-size`, 16 by default). */
  readonly blockSize: number;
}

export interface VllmBlockExtraKeys {
  /** The LoRA adapter's name (`LoRARequest.lora_name`): an extra key of every block. */
  readonly loraName?: string;
  /** The request's `cache_salt`: an extra key of the first block only. */
  readonly cacheSalt?: string;
}

const U64 = (1n << 64n) - 1n;

/**
 * vLLM's prefix-cache block hashes, bit for bit: `hash_block_tokens(parent, tokens, extra_keys)` of
 * vllm/v1/core/kv_cache_utils.py with `sha256_cbor` or `xxhash_cbor` (vllm/utils/hashing.py), i.e.
 * the digest of the canonical CBOR of `[parent digest, [token ids…], extra_keys | null]`, where the
 * parent of block 0 is NONE_HASH = digest(CBOR(seed)). Each returned value is what vLLM publishes
 * in its KV events with int block hashes (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES): the digest's low
 * 64 bits read big-endian. Only full blocks are hashed.
 *
 * Extra keys follow generate_block_hash_extra_keys: `lora_name`, then multimodal keys (not
 * supported here), then `cache_salt` on block 0 only; a block without any is hashed with `null`.
 */
export class VllmBlockHasher {
  readonly algo: VllmHashAlgo;
  readonly seed: string;
  readonly blockSize: number;
  readonly #digest: (data: Uint8Array) => Uint8Array;
  readonly #noneHash: Uint8Array;

  constructor(config: { algo: VllmHashAlgo; seed: string; blockSize: number }) {
    if (!config || typeof config !== 'object') throw new ConfigError('vllmHasher', 'expected { algo, seed, blockSize }');
    const { algo, seed, blockSize } = config;
    if (algo !== 'sha256_cbor' && algo !== 'xxhash_cbor') {
      throw new ConfigError('vllmHasher.algo', `expected 'sha256_cbor' or 'xxhash_cbor' (vLLM's --prefix-caching-hash-algo), got ${String(algo)}`);
    }
    if (typeof seed !== 'string') throw new ConfigError('vllmHasher.seed', 'expected a string: the PYTHONHASHSEED the vLLM servers run with');
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 1 << 20) {
      throw new ConfigError('vllmHasher.blockSize', `expected a positive integer (vLLM's --block-size), got ${String(blockSize)}`);
    }
    this.algo = algo;
    this.seed = seed;
    this.blockSize = blockSize;
    this.#digest = algo === 'sha256_cbor' ? sha256 : xxh3128();
    this.#noneHash = this.#digest(cborText(seed));
  }

  /** The 64-bit hashes of the full blocks of `tokens`, in order (chained from NONE_HASH). */
  blockHashes(tokens: ArrayLike<number>, extra?: { loraName?: string; cacheSalt?: string }): bigint[] {
    const lora = extra?.loraName;
    const salt = extra?.cacheSalt;
    if (lora !== undefined && typeof lora !== 'string') throw new InvalidArgumentError('loraName', 'expected a string');
    if (salt !== undefined && typeof salt !== 'string') throw new InvalidArgumentError('cacheSalt', 'expected a string');
    const bs = this.blockSize;
    const blocks = Math.floor(tokens.length / bs);
    const out: bigint[] = new Array<bigint>(blocks);
    // Python truthiness: an empty lora name or salt adds no key.
    const loraKey = lora ? cborText(lora) : undefined;
    const saltKey = salt ? cborText(salt) : undefined;
    const w = new CborWriter(64 + bs * 9 + (loraKey?.length ?? 0) + (saltKey?.length ?? 0));
    let parent = this.#noneHash;
    for (let b = 0; b < blocks; b++) {
      w.reset();
      w.head(4, 3); // [parent, tokens, extra_keys]
      w.head(2, parent.length);
      w.bytes(parent);
      w.head(4, bs);
      for (let i = b * bs, end = i + bs; i < end; i++) w.uint(tokens[i]!, i);
      const keys = (loraKey ? 1 : 0) + (saltKey && b === 0 ? 1 : 0);
      if (keys === 0) w.byte(0xf6); // None
      else {
        w.head(4, keys);
        if (loraKey) w.bytes(loraKey);
        if (saltKey && b === 0) w.bytes(saltKey);
      }
      parent = this.#digest(w.view());
      out[b] = low64(parent);
    }
    return out;
  }
}

function low64(d: Uint8Array): bigint {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return dv.getBigUint64(d.byteLength - 8, false) & U64;
}

function sha256(data: Uint8Array): Uint8Array {
  // One-shot (Node ≥ 20.12): no Hash object per block, whose native memory made GC pauses the score's tail.
  return hash('sha256', data, 'buffer');
}

interface NodeRsXxhash {
  xxh3: { xxh128(input: Uint8Array, seed?: bigint): bigint };
}

/** XXH3-128 as Python's `xxhash.xxh3_128_digest`: the 128-bit value, 16 bytes big-endian. */
function xxh3128(): (data: Uint8Array) => Uint8Array {
  let lib: NodeRsXxhash;
  try {
    // Loaded on first use so that sha256_cbor users never load the native addon.
    lib = createRequire(import.meta.url)('@node-rs/xxhash') as NodeRsXxhash;
  } catch (err) {
    throw new ConfigError('vllmHasher.algo', `xxhash_cbor needs @node-rs/xxhash, which failed to load on this platform: ${(err as Error).message}`);
  }
  return (data) => {
    const v = lib.xxh3.xxh128(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const out = Buffer.allocUnsafe(16);
    out.writeBigUInt64BE(v >> 64n, 0);
    out.writeBigUInt64BE(v & U64, 8);
    return out;
  };
}

function cborText(s: string): Uint8Array {
  const utf8 = Buffer.from(s, 'utf8');
  const w = new CborWriter(utf8.length + 9);
  w.head(3, utf8.length);
  w.bytes(utf8);
  return w.view().slice();
}

/**
 * The few CBOR items a block hash input is made of (arrays, byte and text strings, unsigned
 * integers, null), each head in its shortest form: RFC 8949 §4.2.1 deterministic encoding, which
 * is what cbor2's `canonical=True` writes for these types (canonical only changes maps, floats and
 * sets, none of which occur here).
 */
class CborWriter {
  #buf: Buffer;
  #len = 0;

  constructor(capacity: number) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  reset(): void {
    this.#len = 0;
  }

  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** A major type and its argument (length or value) in the shortest form. */
  head(major: number, n: number): void {
    this.#room(9);
    const m = major << 5;
    const buf = this.#buf;
    if (n < 24) buf[this.#len++] = m | n;
    else if (n < 0x100) {
      buf[this.#len++] = m | 24;
      buf[this.#len++] = n;
    } else if (n < 0x10000) {
      buf[this.#len++] = m | 25;
      buf.writeUInt16BE(n, this.#len);
      this.#len += 2;
    } else if (n < 0x1_0000_0000) {
      buf[this.#len++] = m | 26;
      buf.writeUInt32BE(n, this.#len);
      this.#len += 4;
    } else {
      buf[this.#len++] = m | 27;
      buf.writeBigUInt64BE(BigInt(n), this.#len);
      this.#len += 8;
    }
  }

  /** A token id: a non-negative safe integer. */
  uint(v: number, index: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError('tokens', `token ${index} is ${String(v)}: expected a non-negative integer`);
    this.head(0, v);
  }
}
