import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { encodeKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { decodeHeader, decodePrelude, encodePrelude } from '../../src/protocol/codec.js';
import { KIND_REPLY, KIND_REQUEST, REQUEST_TYPES } from '../../src/protocol/messages.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { rawPeer, TRANSPORTS, type RawPeer } from '../helpers/raw-peer.js';
import { LAYOUT } from '../helpers/server-fixture.js';

// Any header value msgpack can carry, extension types included (Date, Set, Map …).
const anyPacker = new Packr({ useRecords: false });

/** Keys a hostile peer may name: valid ones (never the good client's), junk strings, non-strings. */
const keyArb = fc.oneof(
  fc.integer({ min: 100, max: 120 }).map((i) => encodeKey(testKey(i))),
  fc.string({ maxLength: 80 }),
  fc.anything({ maxDepth: 1 }),
);

/** A request header: real field names with valid or hostile values. */
const headerArb = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...REQUEST_TYPES), fc.string({ maxLength: 20 }), fc.integer()),
    keys: fc.oneof(fc.array(keyArb, { maxLength: 6 }), fc.anything({ maxDepth: 1 })),
    layout: fc.oneof(fc.constant(LAYOUT.toString()), fc.string({ maxLength: 40 }), fc.integer()),
    timeoutMs: fc.oneof(fc.integer({ min: -5, max: 3_000 }), fc.double(), fc.string({ maxLength: 5 })),
    mode: fc.oneof(fc.constantFrom('new', 'all', 'overwrite'), fc.anything({ maxDepth: 0 })),
    durability: fc.oneof(fc.constantFrom('memory', 'l2'), fc.anything({ maxDepth: 0 })),
    prefetch: fc.anything({ maxDepth: 0 }),
    prefetchId: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.anything({ maxDepth: 0 })),
    wait: fc.boolean(),
    tokens: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.anything({ maxDepth: 0 })),
    scope: fc.anything({ maxDepth: 1 }),
    traceparent: fc.oneof(fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), fc.string({ maxLength: 60 })),
  },
  { requiredKeys: [] },
);

const headerFrameArb = fc.oneof(
  { weight: 6, arbitrary: headerArb.map((h) => anyPacker.pack(h)) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map((v) => anyPacker.pack(v)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }) },
);

const preludeArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((id) => encodePrelude(KIND_REQUEST, id)) },
  { weight: 1, arbitrary: fc.nat().map((id) => encodePrelude(KIND_REPLY, id)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) },
);

const chunkArb = fc.oneof(fc.constant(patternBytes(7, LAYOUT.byteSize)), fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(LAYOUT.byteSize + 1)));

/** One message: a prelude, usually a header, sometimes chunk frames. */
const junkMessageArb = fc.tuple(preludeArb, fc.option(headerFrameArb, { nil: undefined, freq: 8 }), fc.array(chunkArb, { maxLength: 3 })).map(([prelude, header, chunks]) =>
  header === undefined ? [prelude] : [prelude, header, ...chunks],
);

/**
 * A valid request (a store carries one valid chunk per key) with at most one field replaced by a
 * hostile value and sometimes a chunk frame too many or too few: most get past validation, so the
 * handlers, leases and L1 run under the hostile traffic too.
 */
const nearValidMessageArb = fc
  .record({
    id: fc.nat(),
    // Mostly the calls that move bytes; `clear` (which empties the cache) seldom.
    type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('store', 'retrieve', 'lookup', 'store') }, { weight: 1, arbitrary: fc.constantFrom(...REQUEST_TYPES) }),
    keys: fc.array(fc.integer({ min: 100, max: 104 }), { minLength: 1, maxLength: 3 }),
    wait: fc.boolean(),
    override: fc.option(headerArb, { nil: undefined, freq: 2 }),
    chunkDelta: fc.constantFrom(0, 0, 0, 0, -1, 1),
  })
  .map(({ id, type, keys, wait, override, chunkDelta }) => {
    const header: Record<string, unknown> = { type, keys: keys.map((i) => encodeKey(testKey(i))), layout: LAYOUT.toString(), timeoutMs: 1_500, mode: 'all' };
    if (type === 'prefetch_status' || type === 'release') header['prefetchId'] = id % 4;
    if (wait) header['wait'] = true;
    if (override) {
      const [field] = Object.keys(override);
      if (field !== undefined) header[field] = (override as Record<string, unknown>)[field];
    }
    const chunks = type === 'store' ? Math.max(0, keys.length + chunkDelta) : 0;
    return [encodePrelude(KIND_REQUEST, id), anyPacker.pack(header), ...Array.from({ length: chunks }, (_, i) => patternBytes(keys[i % keys.length]!, LAYOUT.byteSize))];
  });

const messageArb = fc.oneof(junkMessageArb, nearValidMessageArb);

const indexOfKey = new Map<string, number>(Array.from({ length: 21 }, (_, j) => [encodeKey(testKey(100 + j)), 100 + j]));

/** A served retrieve's chunks are exactly what was stored under their keys (every store of key i carries patternBytes(i)). */
function checkRetrieved(frames: readonly Uint8Array[], reply: Record<string, unknown>, chunks: readonly Buffer[]): number {
  const sent = anyPacker.unpack(frames[1]!) as Record<string, unknown>;
  if (sent['type'] !== 'retrieve' || !Array.isArray(sent['keys'])) return 0;
  expect(chunks.length).to.equal(reply['count']);
  chunks.forEach((chunk, j) => {
    const i = indexOfKey.get(String((sent['keys'] as unknown[])[j]));
    expect(i, `retrieve returned a chunk for key ${j}, which no store could have written`).to.not.equal(undefined);
    expect(Buffer.compare(chunk, Buffer.from(patternBytes(i!, LAYOUT.byteSize))), `chunk ${j} (key ${i}) holds other bytes`).to.equal(0);
  });
  return chunks.length;
}

// Generated hostile traffic against a real StorageManager: whatever a peer sends, each message is
// answered or its connection closed (never a hang, never a crash), and the bytes a well-behaved
// client stored come back exactly as stored, or not at all, never another key's.
for (const transport of TRANSPORTS) {
  describe(`server over ${transport}: generated hostile messages`, function () {
    this.timeout(300_000);
    let server: TierkvServer;
    let good: TierkvClient;
    const goodKey = testKey(1);
    const goodBytes = patternBytes(1, LAYOUT.byteSize);

    before(async () => {
      const storage = new StorageManager({ l1: { capacityBytes: 8 << 20 } });
      // A short request deadline: a hostile `wait` ends within it.
      server = new TierkvServer({ storage, port: 0, httpPort: null, transport, requestTimeoutMs: 2_000, maxPayloadBytes: 256 * 1024, maxKeysPerRequest: 16 });
      await server.start();
      good = new TierkvClient({ endpoint: server.endpoint, layout: LAYOUT, timeoutMs: 20_000 });
    });
    after(async () => {
      good?.close();
      await server?.shutdown(2_000);
    });

    it('answers every message or closes its connection, and the good client keeps its exact bytes', async () => {
      let answered = 0;
      let closed = 0;
      let served = 0;
      let retrieved = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 8 }), async (messages) => {
          const stored = await good.store([goodKey], [goodBytes], { mode: 'all' });
          expect(stored.stored).to.deep.equal([true]);
          let peer: RawPeer = rawPeer(server.endpoint);
          try {
            for (const frames of messages) {
              await peer.send(frames);
              const reply = await peer.receive(20_000).catch((err: Error) => err);
              if (reply instanceof Error) {
                // A connection closed by the server is an answer (TCP framing it refused); a hang is not.
                expect(reply.message).to.match(/closed the connection/);
                closed++;
                peer.close();
                peer = rawPeer(server.endpoint);
                continue;
              }
              expect(decodePrelude(reply[0]).kind).to.equal(KIND_REPLY);
              answered++;
              const head = decodeHeader(reply[1]);
              if (head['ok'] !== true) continue;
              served++;
              retrieved += checkRetrieved(frames, head, reply.slice(2));
            }
          } finally {
            peer.close();
          }
          const got = await good.retrieve([goodKey]);
          // A hostile `clear` may drop it; nothing may ever change it.
          if (got.chunks.length > 0) expect(Buffer.compare(Buffer.from(got.chunks[0]!), Buffer.from(goodBytes))).to.equal(0);
          expect((await good.ping()).version).to.be.a('string');
        }),
        { numRuns: 100, seed: 20261205, endOnFailure: true },
      );
      // The generators reach past validation: some hostile requests are valid and served.
      expect(served).to.be.greaterThan(0);
      expect(answered).to.be.greaterThan(served);
      expect(retrieved, 'served retrieves returned chunks to check').to.be.greaterThan(0);
      if (process.env['DEBUG_HOSTILE']) console.log({ answered, served, closed, retrieved });
      if (transport === 'zeromq') expect(closed).to.equal(0);
    });
  });
}
