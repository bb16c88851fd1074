// placeholder: replaced by branch vllm-hash (the real VllmBlockHasher, with xxhash_cbor and test vectors).
// Only what the ingest needs to compile and to score by token ids with sha256_cbor.
import { createHash } from 'node:crypto';

export type VllmHashAlgo = 'sha256_cbor' | 'xxhash_cbor';

/** vLLM's prefix-caching block hashes, each as the low 64 bits of the digest read big-endian. */
export class VllmBlockHasher {
  readonly algo: VllmHashAlgo;
  readonly seed: string;
  readonly blockSize: number;
  readonly #noneHash: Buffer;

  constructor(config: { algo: VllmHashAlgo; seed: string; blockSize: number }) {
    if (config.algo !== 'sha256_cbor') throw new Error(`placeholder VllmBlockHasher: ${config.algo} arrives with branch vllm-hash`);
    this.algo = config.algo;
    this.seed = config.seed;
    this.blockSize = config.blockSize;
    this.#noneHash = sha256(text(config.seed));
  }

  blockHashes(tokens: ArrayLike<number>, extra?: { loraName?: string; cacheSalt?: string }): bigint[] {
    const out: bigint[] = [];
    let parent = this.#noneHash;
    for (let start = 0; start + this.blockSize <= tokens.length; start += this.blockSize) {
      // vLLM's extra keys: LoRA name on every block, cache salt on the first only; none = null.
      const keys: Buffer[] = [];
      if (extra?.loraName) keys.push(text(extra.loraName));
      if (start === 0 && extra?.cacheSalt) keys.push(text(extra.cacheSalt));
      const toks: Buffer[] = [];
      for (let i = start; i < start + this.blockSize; i++) toks.push(head(0, tokens[i]!));
      const item = Buffer.concat([head(4, 3), head(2, parent.length), parent, head(4, toks.length), ...toks, keys.length ? Buffer.concat([head(4, keys.length), ...keys]) : Buffer.from([0xf6])]);
      parent = sha256(item);
      out.push(parent.readBigUInt64BE(parent.length - 8));
    }
    return out;
  }
}

function sha256(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest();
}

/** A canonical CBOR head: major type and shortest-form argument. */
function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  if (n < 0x1_0000_0000) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

function text(s: string): Buffer {
  const u = Buffer.from(s, 'utf8');
  return Buffer.concat([head(3, u.length), u]);
}
