import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ConfigError, InvalidArgumentError } from '@tierkv/core';
import { VllmBlockHasher, type VllmHashAlgo } from '../../src/vllm/vllm-block-hasher.js';

interface EventFixture {
  source: string;
  algo: VllmHashAlgo;
  seed: string;
  blockSize: number;
  loraName: string | null;
  cacheSalt: string | null;
  tokenIds: number[];
  blockHashes: string[];
}

interface GeneratedCase {
  algo: VllmHashAlgo;
  seed: string;
  blockSize: number;
  loraName: string | null;
  cacheSalt: string | null;
  tokenCount: number;
  blockHashes: string[];
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const extraOf = (f: { loraName: string | null; cacheSalt: string | null }) => ({ loraName: f.loraName ?? undefined, cacheSalt: f.cacheSalt ?? undefined });

describe('VllmBlockHasher', () => {
  for (const name of ['kv_event_base.json', 'kv_event_lora.json']) {
    it(`reproduces the 25 block hashes of llm-d's ${name} (sha256_cbor, seed 42, block size 16)`, () => {
      const f = fixture<EventFixture>(name);
      expect(f.tokenIds).to.have.length(400);
      expect(f.blockHashes).to.have.length(25);
      const hasher = new VllmBlockHasher({ algo: f.algo, seed: f.seed, blockSize: f.blockSize });
      const got = hasher.blockHashes(f.tokenIds, extraOf(f));
      expect(got.map(String)).to.deep.equal(f.blockHashes);
      // The values exceed 2^53: they must be exact bigints, not rounded numbers.
      expect(got.some((h) => h > BigInt(Number.MAX_SAFE_INTEGER))).to.equal(true);
    });
  }

  it('the LoRA name changes every block hash', () => {
    const base = fixture<EventFixture>('kv_event_base.json');
    const lora = fixture<EventFixture>('kv_event_lora.json');
    expect(lora.loraName).to.equal('Alice');
    for (let i = 0; i < 25; i++) expect(lora.blockHashes[i]).to.not.equal(base.blockHashes[i]);
  });

  const generated = fixture<{ cases: GeneratedCase[] }>('generated-vectors.json').cases;
  const tokens = fixture<EventFixture>('kv_event_base.json').tokenIds;
  for (const c of generated) {
    const label = `${c.algo}, seed ${c.seed}, block size ${c.blockSize}, ${c.tokenCount} tokens${c.loraName ? `, lora ${c.loraName}` : ''}${c.cacheSalt ? `, salt ${c.cacheSalt}` : ''}`;
    it(`matches the Python reference: ${label}`, () => {
      const hasher = new VllmBlockHasher({ algo: c.algo, seed: c.seed, blockSize: c.blockSize });
      const got = hasher.blockHashes(tokens.slice(0, c.tokenCount), extraOf(c));
      expect(got.map(String)).to.deep.equal(c.blockHashes);
      expect(got).to.have.length(Math.floor(c.tokenCount / c.blockSize));
    });
  }

  it('the cache salt changes block 0 only, and later blocks through the chain', () => {
    const h = new VllmBlockHasher({ algo: 'sha256_cbor', seed: '42', blockSize: 16 });
    const plain = h.blockHashes(tokens.slice(0, 64));
    const salted = h.blockHashes(tokens.slice(0, 64), { cacheSalt: 'x' });
    for (let i = 0; i < 4; i++) expect(salted[i]).to.not.equal(plain[i]);
    // An empty salt or LoRA name adds no key (vLLM tests them for truthiness).
    expect(h.blockHashes(tokens.slice(0, 64), { cacheSalt: '', loraName: '' })).to.deep.equal(plain);
  });

  it('accepts any ArrayLike of token ids and hashes only full blocks', () => {
    const h = new VllmBlockHasher({ algo: 'xxhash_cbor', seed: '42', blockSize: 16 });
    const list = tokens.slice(0, 40);
    expect(h.blockHashes(Uint32Array.from(list))).to.deep.equal(h.blockHashes(list));
    expect(h.blockHashes(list)).to.have.length(2);
    expect(h.blockHashes([])).to.deep.equal([]);
    expect(h.blockHashes(list.slice(0, 15))).to.deep.equal([]);
  });

  it('refuses a bad configuration with a typed error naming the field', () => {
    const bad: [unknown, string][] = [
      [{ algo: 'sha256', seed: '1', blockSize: 16 }, 'vllmHasher.algo'],
      [{ algo: 'sha256_cbor', seed: 1, blockSize: 16 }, 'vllmHasher.seed'],
      [{ algo: 'sha256_cbor', seed: '1', blockSize: 0 }, 'vllmHasher.blockSize'],
      [{ algo: 'sha256_cbor', seed: '1', blockSize: 1.5 }, 'vllmHasher.blockSize'],
    ];
    for (const [config, field] of bad) {
      expect(() => new VllmBlockHasher(config as never))
        .to.throw(ConfigError)
        .with.property('field', field);
    }
  });

  it('refuses token ids that are not non-negative integers', () => {
    const h = new VllmBlockHasher({ algo: 'sha256_cbor', seed: '1', blockSize: 2 });
    expect(() => h.blockHashes([1, -1])).to.throw(InvalidArgumentError);
    expect(() => h.blockHashes([1, 0.5])).to.throw(InvalidArgumentError);
  });
});
