import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { waitFor } from '@tierkv/test-utils';
import { ControllerClient } from '../../src/client/controller-client.js';
import { CacheController } from '../../src/controller/cache-controller.js';
import { hashesToBytes } from '../../src/pool/chunk-hash.js';
import { decodeReply, encodeMessage } from '../../src/protocol/codec.js';
import { OP_ADMIT, OP_EVICT } from '../../src/protocol/messages.js';
import { hashOf } from '../helpers/fake-storage.js';
import { admits } from '../helpers/messages.js';

// Any value msgpack can carry, extension types included.
const anyPacker = new Packr({ useRecords: false });

const TYPES = ['kv_batch', 'sync_batch', 'register', 'deregister', 'heartbeat', 'sync_start', 'sync_end', 'sync_status', 'lookup', 'score', 'query_workers'] as const;
const hostileScope = fc.oneof(
  fc.record({ modelName: fc.constantFrom('m', 'other'), kvRank: fc.integer({ min: -1, max: 2 }), cacheSalt: fc.constantFrom('', 's') }),
  fc.anything({ maxDepth: 1 }),
);
const hashesArb = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 12 }).map((hs) => hashesToBytes(hs.map(hashOf))),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(fc.string({ maxLength: 18 }), { maxLength: 4 }),
);

/** One field and a hostile value for it. */
const hostileField = fc.oneof(
  ...Object.entries({
    t: fc.anything({ maxDepth: 0 }),
    instanceId: fc.anything({ maxDepth: 0 }),
    workerId: fc.anything({ maxDepth: 0 }),
    version: fc.integer(),
    seqs: fc.anything({ maxDepth: 1 }),
    keyCount: fc.anything({ maxDepth: 0 }),
    location: fc.anything({ maxDepth: 0 }),
    scope: hostileScope,
    seq: fc.oneof(fc.integer({ min: -1, max: 60 }), fc.double()),
    ops: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.anything({ maxDepth: 0 })),
    hashes: hashesArb,
    tokens: fc.anything({ maxDepth: 1 }),
    syncId: fc.anything({ maxDepth: 0 }),
    batch: fc.integer({ min: -1, max: 3 }),
    totalKeys: fc.integer({ min: -1, max: 20 }),
    entries: fc.anything({ maxDepth: 2 }),
    extra: fc.anything({ maxDepth: 0 }),
  }).map(([field, value]) => value.map((v: unknown) => [field, v] as const)),
);

/**
 * A valid message of each type for the hostile workers h1/h2, with at most one field replaced by a
 * hostile value. Anyone may speak for a worker id it names (the protocol has no per-worker
 * authentication), so what is checked is that nothing touches the other workers.
 */
const nearValidArb = fc
  .record({
    t: fc.constantFrom(...TYPES),
    instanceId: fc.constantFrom('h1', 'h2'),
    workerId: fc.integer({ min: 0, max: 1 }),
    location: fc.constantFrom('l1', 'l2'),
    modelName: fc.constantFrom('m', 'other'),
    seq: fc.integer({ min: 0, max: 40 }),
    events: fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 12 })), { minLength: 1, maxLength: 8 }),
    syncId: fc.constantFrom('a', 'b'),
    batch: fc.integer({ min: 0, max: 1 }),
    override: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileField }),
  })
  .map(({ t, instanceId, workerId, location, modelName, seq, events, syncId, batch, override }) => {
    const scope = { modelName, kvRank: 0, cacheSalt: '' };
    const hashes = hashesToBytes(events.map(([, h]) => hashOf(h)));
    const seqs = { [location]: seq };
    const bodies: Record<(typeof TYPES)[number], Record<string, unknown>> = {
      kv_batch: { location, scope, seq, ops: Uint8Array.from(events, ([admit]) => (admit ? OP_ADMIT : OP_EVICT)), hashes },
      sync_batch: { syncId, batch, entries: [{ location, scope, hashes }] },
      register: { version: 1, seqs, keyCount: events.length },
      deregister: {},
      heartbeat: { seqs, keyCount: events.length },
      sync_start: { syncId, totalKeys: events.length, batchCount: 2, seqs },
      sync_end: { syncId, totalKeys: events.length },
      sync_status: { syncId },
      lookup: { scope, hashes },
      score: { model: modelName, tokens: events.map(([, h]) => h) },
      query_workers: {},
    };
    const msg: Record<string, unknown> = { t, ...(t === 'lookup' || t === 'score' || t === 'query_workers' ? {} : { instanceId, workerId }), ...bodies[t] };
    if (override) msg[override[0]] = override[1];
    return { t, payload: anyPacker.pack(msg) };
  });

const junkArb = fc.oneof(
  fc.anything({ maxDepth: 2 }).map((v) => anyPacker.pack(v)),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
);

const EVENTS: ReadonlySet<string> = new Set(['kv_batch', 'sync_batch']);
/** Mostly to the socket its type belongs on (events to PULL, requests to ROUTER), sometimes the other. */
const sendArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(nearValidArb, fc.boolean(), fc.boolean()).map(([{ t, payload }, wrong1, wrong2]) => {
      const right = EVENTS.has(t) ? 'pull' : 'router';
      return { to: wrong1 && wrong2 ? (right === 'pull' ? 'router' : 'pull') : right, payload };
    }),
  },
  { weight: 1, arbitrary: fc.record({ to: fc.constantFrom('router', 'pull'), payload: junkArb }) },
);

// Generated hostile traffic on the worker-facing sockets: every ROUTER request is answered, every
// PULL message is counted as received (applied or dropped), the controller keeps serving, and the
// chunks a well-behaved worker reported are looked up exactly as it reported them.
describe('CacheController: generated hostile messages', function () {
  this.timeout(300_000);
  let controller: CacheController;
  let client: ControllerClient;
  let router: zmq.Dealer;
  let pull: zmq.Push;
  const goodHashes = [1, 2, 3, 4, 5, 6, 7, 8].map(hashOf);

  before(async () => {
    controller = new CacheController({ pullPort: 0, routerPort: 0, heartbeatPort: 0, httpPort: false, workerTimeoutMs: 600_000 });
    const addr = await controller.start();
    client = new ControllerClient({ router: addr.router, timeoutMs: 20_000 });
    router = new zmq.Dealer({ linger: 0, receiveTimeout: 20_000 });
    router.connect(addr.router);
    pull = new zmq.Push({ linger: 0 });
    pull.connect(addr.pull);
    await router.send(['', encodeMessage({ t: 'register', instanceId: 'good', workerId: 0, version: 1, seqs: {}, keyCount: 0 })]);
    await router.receive();
    await pull.send(encodeMessage(admits('good', 0, [1, 2, 3, 4, 5, 6, 7, 8])));
    await waitFor(() => controller.poolUsage().keys === 8, "the good worker's chunks");
  });
  after(async () => {
    client?.close();
    router?.close();
    pull?.close();
    await controller?.close();
  });

  it('answers every request, counts every event, and keeps the good worker exact', async () => {
    let pulled = controller.stats.received.pull;
    let answered = 0;
    let errors = 0;
    let maxKeys = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(sendArb, { minLength: 1, maxLength: 10 }), async (generated) => {
        // The hostile workers register first, so their events are applied, not only dropped.
        const sends = [...['h1', 'h2'].map((instanceId) => ({ to: 'router', payload: encodeMessage({ t: 'register', instanceId, workerId: 0, version: 1, seqs: {}, keyCount: 0 }) })), ...generated];
        for (const { to, payload } of sends) {
          if (to === 'pull') {
            await pull.send(payload);
            pulled++;
            continue;
          }
          await router.send(['', payload]);
          const frames = await router.receive();
          const reply = decodeReply(frames[frames.length - 1]!);
          expect(reply.ok, 'a reply the client can decode').to.equal(true);
          answered++;
          if (reply.ok && reply.msg.t === 'error') errors++;
        }
        await waitFor(() => controller.stats.received.pull === pulled, 'every PULL message received and counted', 20_000);
        maxKeys = Math.max(maxKeys, controller.poolUsage().keys);
        const holders = await client.lookup({ hashes: goodHashes }, { modelName: 'm' });
        expect(holders.find((h) => h.instanceId === 'good')).to.deep.equal({ instanceId: 'good', workerId: 0, chunks: 8, tokens: 8 * 256, locations: { l1: 8 } });
      }),
      { numRuns: 100, seed: 20261205, endOnFailure: true },
    );
    if (process.env['DEBUG_HOSTILE']) console.log({ answered, errors, pulled, dropped: controller.stats.droppedCount('pull'), reasons: ['malformed', 'unknown_type', 'invalid', 'unknown_worker', 'handler_error', 'wrong_socket'].map((r) => [r, controller.stats.droppedCount('pull', r as never), controller.stats.droppedCount('router', r as never)]), keys: controller.poolUsage().keys, maxKeys, workers: (await client.workers()).length });
    expect(answered).to.be.greaterThan(errors);
    expect(errors).to.be.greaterThan(0);
    expect(maxKeys, 'hostile workers had events applied').to.be.greaterThan(8);
    expect(controller.stats.droppedCount('pull')).to.be.greaterThan(0);
  });
});
