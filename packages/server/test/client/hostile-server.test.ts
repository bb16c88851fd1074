import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { createServer, type Server, type Socket } from 'node:net';
import { MemoryLayout, TierkvError } from '@tierkv/core';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { decodeHeader, decodePrelude, encodePrelude } from '../../src/protocol/codec.js';
import { ERROR_CODES, KIND_REPLY } from '../../src/protocol/messages.js';
import { encodeFrameTable } from '../../src/protocol/stream-envelope.js';
import { FrameReader } from '../../src/protocol/stream-framing.js';
import { patternBytes, testKey } from '../helpers/keys.js';

const layout = MemoryLayout.bytes(64);
const SIZE = layout.byteSize;
// Any value msgpack can carry, extension types included.
const anyPacker = new Packr({ useRecords: false });

/** How the fake server answers one request. */
type Plan =
  | { kind: 'reply'; override: readonly [string, unknown] | undefined; countDelta: number; chunkSizes: readonly number[]; wrongId: boolean }
  | { kind: 'error'; code: unknown; message: unknown }
  | { kind: 'junk'; frames: readonly Uint8Array[] }
  | { kind: 'close' }
  | { kind: 'silent' };

const planArb: fc.Arbitrary<Plan> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('reply' as const),
      override: fc.option(fc.tuple(fc.constantFrom('stored', 'durability', 'outcomes', 'count', 'tiers', 'prefetchId', 'ready', 'released', 'keys', 'ok'), fc.anything({ maxDepth: 1 })), { nil: undefined, freq: 2 }),
      countDelta: fc.constantFrom(0, 0, 0, -1, 1),
      chunkSizes: fc.array(fc.constantFrom(SIZE, SIZE, SIZE, SIZE - 1, SIZE + 1, 0), { maxLength: 4 }),
      wrongId: fc.boolean().map((b) => b && Math.random() < 0.2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('error' as const), code: fc.oneof(fc.constantFrom(...ERROR_CODES), fc.anything({ maxDepth: 0 })), message: fc.anything({ maxDepth: 0 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('junk' as const), frames: fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'silent' as const }) },
);

type Call = { type: 'store' | 'retrieve' | 'retrieve_into' | 'lookup' | 'prefetch_status' | 'release' | 'ping'; keys: number };
const callArb: fc.Arbitrary<Call> = fc.record({ type: fc.constantFrom('store', 'retrieve', 'retrieve_into', 'lookup', 'prefetch_status', 'release', 'ping'), keys: fc.integer({ min: 1, max: 3 }) });

/** The reply a well-behaved server would send for `type` about `n` keys, with `chunks` chunk frames. */
function validHeader(type: string, n: number, chunks: number): Record<string, unknown> {
  switch (type) {
    case 'store':
      return { ok: true, stored: Array.from({ length: n }, (_, i) => i % 2 === 0), durability: 'memory' };
    case 'retrieve':
      return { ok: true, count: chunks };
    case 'lookup':
      return { ok: true, tiers: Array.from({ length: n }, (_, i) => (i === 0 ? 'l1' : 'miss')), prefetchId: 3, ready: 1 };
    case 'prefetch_status':
      return { ok: true, ready: 1 };
    case 'release':
      return { ok: true, released: 1 };
    default:
      return { ok: true, version: 'fake', uptimeMs: 1 };
  }
}

/** A server that answers each request as the next plan says. */
class PlannedServer {
  readonly plans: Plan[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      const reader = new FrameReader({ maxFrames: 16, maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 20 }, (frames) => this.#answer(socket, frames), () => undefined);
      socket.on('data', (d: Buffer) => reader.push(d));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as { port: number };
    return `tierkv+tcp://127.0.0.1:${port}`;
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#server.close();
  }

  #answer(socket: Socket, frames: Buffer[]): void {
    const plan = this.plans.shift() ?? { kind: 'silent' };
    const id = decodePrelude(frames[0]).id;
    const req = decodeHeader(frames[1]);
    const n = Array.isArray(req['keys']) ? req['keys'].length : 0;
    const send = (out: readonly Uint8Array[]): void => {
      socket.write(encodeFrameTable(out));
      for (const f of out) socket.write(f);
    };
    switch (plan.kind) {
      case 'silent':
        return;
      case 'close':
        socket.destroy();
        return;
      case 'junk':
        return send(plan.frames);
      case 'error':
        return send([encodePrelude(KIND_REPLY, id), anyPacker.pack({ ok: false, code: plan.code, message: plan.message })]);
      case 'reply': {
        const type = String(req['type']);
        const chunks = plan.chunkSizes.map((size, i) => patternBytes(i + 1, size));
        const header = validHeader(type, n + plan.countDelta, chunks.length);
        if (plan.override) header[plan.override[0]] = plan.override[1];
        return send([encodePrelude(KIND_REPLY, plan.wrongId ? id + 1 : id), anyPacker.pack(header), ...chunks]);
      }
    }
  }
}

// Whatever a server (of another version, behind a broken proxy, or buggy) answers, every call
// settles, with a result of the promised shape or a typed TierkvError: never a TypeError in the
// caller's code, never a chunk of the wrong size handed out as data.
describe('client/TierkvClient against a server answering anything', function () {
  this.timeout(300_000);
  let server: PlannedServer;
  let client: TierkvClient;

  before(async () => {
    server = new PlannedServer();
    // A short timeout: a silent server costs the test little; a late valid reply is a TimeoutError, also typed.
    client = new TierkvClient({ endpoint: await server.listen(), layout, timeoutMs: 200, reconnectOnTimeout: true });
  });
  after(() => {
    client?.close();
    server?.close();
  });

  it('settles every call with a well-formed result or a TierkvError', async () => {
    const seen = { resolved: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(callArb, planArb), { minLength: 1, maxLength: 4 }), async (steps) => {
        for (const [call, plan] of steps) {
          server.plans.length = 0;
          server.plans.push(plan);
          const keys = Array.from({ length: call.keys }, (_, i) => testKey(i));
          const into = keys.map(() => new Uint8Array(SIZE));
          let result: unknown;
          try {
            result = await run(client, call, keys, into);
          } catch (err) {
            expect(err, `${call.type} under ${JSON.stringify(plan).slice(0, 120)} threw ${String(err)}`).to.be.instanceOf(TierkvError);
            seen.rejected++;
            continue;
          }
          seen.resolved++;
          checkResult(call, keys.length, result, into);
        }
      }),
      { numRuns: 60, seed: 20261205, endOnFailure: true },
    );
    expect(seen.resolved).to.be.greaterThan(0);
    expect(seen.rejected).to.be.greaterThan(0);
  });
});

function run(client: TierkvClient, call: Call, keys: ReturnType<typeof testKey>[], into: Uint8Array[]): Promise<unknown> {
  switch (call.type) {
    case 'store':
      return client.store(keys, keys.map((_, i) => patternBytes(i, SIZE)), { mode: 'all' });
    case 'retrieve':
      return client.retrieve(keys);
    case 'retrieve_into':
      return client.retrieve(keys, { into });
    case 'lookup':
      return client.lookup(keys);
    case 'prefetch_status':
      return client.prefetchStatus(3);
    case 'release':
      return client.release(3);
    case 'ping':
      return client.ping();
  }
}

function checkResult(call: Call, n: number, result: unknown, into: Uint8Array[]): void {
  const r = result as Record<string, unknown>;
  switch (call.type) {
    case 'store':
      expect(r['stored']).to.be.an('array').with.length(n);
      for (const s of r['stored'] as unknown[]) expect(s).to.be.a('boolean');
      return;
    case 'retrieve':
    case 'retrieve_into': {
      const chunks = r['chunks'] as Uint8Array[];
      expect(chunks.length).to.be.at.most(n);
      chunks.forEach((c, i) => {
        expect(c.byteLength, `chunk ${i}`).to.equal(SIZE);
        if (call.type === 'retrieve_into') expect(c, `chunk ${i} is into[${i}]`).to.equal(into[i]);
      });
      return;
    }
    case 'lookup':
      expect(r['tiers']).to.be.an('array').with.length(n);
      for (const t of r['tiers'] as unknown[]) expect(['l1', 'l2', 'miss']).to.include(t);
      for (const f of ['prefetchId', 'ready']) if (r[f] !== undefined) expect(Number.isSafeInteger(r[f])).to.equal(true);
      return;
    case 'prefetch_status':
    case 'release':
      if (result !== undefined) expect(Number.isSafeInteger(result)).to.equal(true);
      return;
    case 'ping':
      return;
  }
}
