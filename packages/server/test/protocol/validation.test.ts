import { expect } from 'chai';
import fc from 'fast-check';
import { encodeKey, MemoryLayout, TokenHasher } from '@tierkv/core';
import { LayoutCache, parseLayoutId, parseRequest, requestTypeOf } from '../../src/protocol/validation.js';
import { WireError } from '../../src/protocol/wire-error.js';
import { testKey } from '../helpers/keys.js';

const limits = { maxKeysPerRequest: 8, maxTokensPerRequest: 8 * 16 };
const RUNS = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 200);

function fails(header: Record<string, unknown>, code: string, field?: string): void {
  try {
    parseRequest(header, limits, new LayoutCache());
  } catch (err) {
    expect(err).to.be.instanceOf(WireError);
    expect((err as WireError).code).to.equal(code);
    if (field !== undefined) expect((err as WireError).field).to.equal(field);
    return;
  }
  expect.fail(`expected ${code} for ${JSON.stringify(header)}`);
}

describe('protocol/validation', () => {
  const layout = MemoryLayout.bytes(1024);

  it('parses every request type', () => {
    const cache = new LayoutCache();
    const keys = [encodeKey(testKey(1)), encodeKey(testKey(2))];
    expect(parseRequest({ type: 'ping' }, limits, cache)).to.deep.equal({ type: 'ping', timeoutMs: undefined });
    const store = parseRequest({ type: 'store', keys, layout: layout.toString(), timeoutMs: 500 }, limits, cache);
    expect(store.type).to.equal('store');
    if (store.type !== 'store' || !('keys' in store.input)) throw new Error('unreachable');
    expect(store.input.keys.map(encodeKey)).to.deep.equal(keys);
    expect(store.layout.equals(layout)).to.equal(true);
    expect(store.mode).to.equal('new');
    expect(store.timeoutMs).to.equal(500);
    const lookup = parseRequest({ type: 'lookup', keys, layout: layout.toJSON() }, limits, cache);
    expect(lookup).to.include({ type: 'lookup', prefetch: true, wait: false });
    expect(parseRequest({ type: 'prefetch_status', prefetchId: 3, wait: true }, limits, cache)).to.include({ prefetchId: 3, wait: true });
    expect(parseRequest({ type: 'release', prefetchId: 3 }, limits, cache)).to.include({ prefetchId: 3 });
    expect(parseRequest({ type: 'clear', l2: true }, limits, cache)).to.include({ l2: true });
    expect(parseRequest({ type: 'retrieve', keys, layout: 'uint8[1024]', prefetchId: 7 }, limits, cache)).to.include({ prefetchId: 7 });
  });

  it('accepts token ids as integers or binary u32s', () => {
    const tokens = Array.from({ length: 32 }, (_, i) => i * 1000);
    const scope = { modelName: 'm' };
    const a = parseRequest({ type: 'lookup', tokens, scope, layout: 'uint8[4]' }, limits, new LayoutCache());
    const bin = Buffer.from(Uint32Array.from(tokens).buffer);
    const b = parseRequest({ type: 'lookup', tokens: bin, scope, layout: 'uint8[4]' }, limits, new LayoutCache());
    if (a.type !== 'lookup' || b.type !== 'lookup' || !('tokens' in a.input) || !('tokens' in b.input)) throw new Error('unreachable');
    expect([...a.input.tokens]).to.deep.equal(tokens);
    expect([...b.input.tokens]).to.deep.equal(tokens);
    expect(new TokenHasher({ chunkSize: 16 }).keysFor(a.input.tokens, a.input.scope)).to.have.length(2);
  });

  it('answers unknown types with UNKNOWN_TYPE and a missing type with BAD_REQUEST', () => {
    fails({ type: 'explode' }, 'UNKNOWN_TYPE', 'type');
    fails({ kind: 'ping' }, 'BAD_REQUEST', 'type');
    fails({ type: 7 }, 'BAD_REQUEST', 'type');
    expect(requestTypeOf({ type: 'explode' })).to.equal('unknown');
    expect(requestTypeOf({ type: 'store' })).to.equal('store');
  });

  it('names the bad field', () => {
    const k = encodeKey(testKey(1));
    fails({ type: 'store', layout: 'uint8[4]' }, 'BAD_REQUEST', 'keys');
    fails({ type: 'store', keys: 'nope', layout: 'uint8[4]' }, 'BAD_REQUEST', 'keys');
    fails({ type: 'store', keys: [k, 5], layout: 'uint8[4]' }, 'BAD_REQUEST', 'keys[1]');
    fails({ type: 'store', keys: ['zz'], layout: 'uint8[4]' }, 'BAD_REQUEST', 'keys[0]');
    fails({ type: 'store', keys: [k] }, 'BAD_REQUEST', 'layout');
    fails({ type: 'store', keys: [k], layout: 'float99[4]' }, 'BAD_REQUEST', 'layout');
    fails({ type: 'store', keys: [k], layout: 'uint8[0]' }, 'BAD_REQUEST', 'layout');
    fails({ type: 'store', keys: [k], layout: { shapes: [[4]], dtypes: [] } }, 'BAD_REQUEST', 'layout');
    fails({ type: 'store', keys: [k], layout: 'uint8[4]', mode: 'overwrite' }, 'BAD_REQUEST', 'mode');
    fails({ type: 'ping', timeoutMs: -1 }, 'BAD_REQUEST', 'timeoutMs');
    fails({ type: 'release' }, 'BAD_REQUEST', 'prefetchId');
    fails({ type: 'lookup', keys: [k], layout: 'uint8[4]', wait: 'yes' }, 'BAD_REQUEST', 'wait');
    fails({ type: 'lookup', tokens: [1, 2], layout: 'uint8[4]' }, 'BAD_REQUEST', 'scope');
    fails({ type: 'lookup', tokens: [1, -2], scope: { modelName: 'm' }, layout: 'uint8[4]' }, 'BAD_REQUEST', 'tokens[1]');
    fails({ type: 'lookup', tokens: Buffer.alloc(5), scope: { modelName: 'm' }, layout: 'uint8[4]' }, 'BAD_REQUEST', 'tokens');
    fails({ type: 'lookup', keys: [k], tokens: [1], layout: 'uint8[4]' }, 'BAD_REQUEST', 'keys');
  });

  it('refuses requests over the key and token limits with TOO_LARGE', () => {
    const keys = Array.from({ length: 9 }, (_, i) => encodeKey(testKey(i)));
    fails({ type: 'lookup', keys, layout: 'uint8[4]' }, 'TOO_LARGE', 'keys');
    fails({ type: 'lookup', tokens: new Array(200).fill(1), scope: { modelName: 'm' }, layout: 'uint8[4]' }, 'TOO_LARGE', 'tokens');
  });

  it('answers any header with a request or a WireError, never another exception', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 4 }), fc.uint8Array({ maxLength: 12 }), fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }));
    const header = fc.record(
      {
        type: fc.oneof(fc.constantFrom('ping', 'store', 'retrieve', 'lookup', 'prefetch_status', 'release', 'clear', 'status'), anything),
        keys: fc.oneof(fc.array(fc.oneof(fc.constant(encodeKey(testKey(1))), fc.string()), { maxLength: 10 }), anything),
        tokens: fc.oneof(fc.array(fc.integer({ min: -1, max: 2 ** 32 }), { maxLength: 40 }), anything),
        scope: fc.oneof(fc.record({ modelName: fc.string(), kvRank: fc.integer(), cacheSalt: fc.string() }, { requiredKeys: [] }), anything),
        layout: fc.oneof(fc.constantFrom('uint8[4]', 'float16[2,3];int8[5]', 'x[1]'), anything),
        mode: anything,
        prefetchId: fc.oneof(fc.integer({ min: -5, max: 2 ** 33 }), anything),
        timeoutMs: fc.oneof(fc.integer(), anything),
        wait: anything,
        prefetch: anything,
        l2: anything,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(header, (h) => {
        try {
          parseRequest(h as Record<string, unknown>, limits, new LayoutCache());
        } catch (err) {
          expect(err).to.be.instanceOf(WireError);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('parses layout ids of several tensors and caches them', () => {
    const l = new MemoryLayout([[2, 4, 8], [16]], ['float16', 'int32']);
    expect(parseLayoutId(l.toString()).equals(l)).to.equal(true);
    const cache = new LayoutCache();
    expect(cache.parse(l.toString())).to.equal(cache.parse(l.toString()));
    expect(() => parseLayoutId('float16[2,4];')).to.throw(WireError);
  });
});
