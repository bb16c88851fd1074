import * as zmq from 'zeromq';
import { ATTR, ClosedError, debugLogger, MeterBinding, type ObjectKey } from '@tierkv/core';
import type { L1Listener, L2Listener, StorageManagerListener } from '@tierkv/storage';
import { RECEIVE_WAKE_MS } from '../controller/socket-options.js';
import { isTimeout } from '../protocol/sockets.js';
import { KeyTracker } from '../worker-client/key-tracker.js';
import type { WorkerStorage } from '../worker-client/worker-client.js';
import { chunkHashToU64, encodeVllmEventBatch, type VllmKvEvent } from './vllm-event-encoder.js';
import {
  OTHER_L2_MEDIUM,
  resolveVllmEventPublisherOptions,
  type ResolvedVllmEventPublisherOptions,
  type VllmEventPublisherOptions,
} from './vllm-publisher-options.js';

const log = debugLogger('tierkv:vllm-publisher');

/** The replay stream's end marker: seq -1 as 8 bytes (vLLM's END_SEQ), then an empty payload. */
export const VLLM_REPLAY_END_SEQ = Buffer.alloc(8, 0xff);

type Change = 'BlockStored' | 'BlockRemoved';

interface PendingEvent {
  readonly type: Change;
  readonly medium: string;
  readonly hashes: bigint[];
}

interface Retained {
  readonly seq: number;
  readonly seqFrame: Buffer;
  readonly payload: Buffer;
}

export class VllmPublisherStats {
  readonly published = { BlockStored: 0, BlockRemoved: 0 };
  readonly blocks = { BlockStored: 0, BlockRemoved: 0 };
  batches = 0;
  dropped = 0;
  readonly replay = { served: 0, invalid: 0 };
  replayedBatches = 0;
}

function seqFrame(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b;
}

/**
 * Publishes a worker's holdings as vLLM KV events, so routers that read vLLM's event stream
 * (llm-d's KV-cache indexer, Dynamo's KV router) see the chunks tierkv holds: an L1 admit or an
 * L2 store is a `BlockStored`, an L1 eviction/deletion or an L2 delete a `BlockRemoved`, with the
 * chunk hash as the uint64 block hash and the medium of the tier (L1 `CPU`, fs L2 `DISK`).
 *
 * The wire is vLLM's ZmqEventPublisher: a PUB socket sending `[topic, seq (u64 BE), payload]`,
 * seq counting from 0 per run, payload = msgpack `[ts, events, dp_rank]`; and, when a replay
 * endpoint is given, a ROUTER answering `["", start_seq (u64 BE)]` with `["", seq, payload]` for
 * every retained batch from start_seq on (the oldest retained when start_seq is older, so the
 * subscriber sees the gap), then `["", 0xFFFFFFFFFFFFFFFF, ""]`.
 *
 * Listener callbacks only append to a buffer; a timer (or a full batch) sends.
 */
export class VllmEventPublisher {
  readonly options: ResolvedVllmEventPublisherOptions;
  readonly stats = new VllmPublisherStats();
  readonly #tracker = new KeyTracker();
  readonly #metrics: MeterBinding<Record<string, never>>;
  #pending: PendingEvent[] = [];
  #pendingBlocks = 0;
  #pub: zmq.Publisher | undefined;
  #router: zmq.Router | undefined;
  #endpoint: string | undefined;
  #replayEndpoint: string | undefined;
  #seq = 0;
  #ring: Retained[] = [];
  #ringBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #replayLoop: Promise<void> | undefined;
  #detach: (() => void) | undefined;
  #state: 'new' | 'running' | 'closed' = 'new';

  constructor(options: VllmEventPublisherOptions) {
    this.options = resolveVllmEventPublisherOptions(options);
    const stats = this.stats;
    this.#metrics = new MeterBinding<Record<string, never>>(
      { name: '@tierkv/controller', version: '0.1.0' },
      (f) => {
        f.observe(
          [
            'tierkv.vllm_publisher.events.published',
            'tierkv.vllm_publisher.blocks.published',
            'tierkv.vllm_publisher.blocks.dropped',
            'tierkv.vllm_publisher.batches.published',
            'tierkv.vllm_publisher.replay.requests',
            'tierkv.vllm_publisher.replay.batches',
            'tierkv.vllm_publisher.replay.retained',
          ],
          (observe) => {
            for (const [type, v] of Object.entries(stats.published)) observe('tierkv.vllm_publisher.events.published', v, { [ATTR.VLLM_EVENT_TYPE]: type });
            for (const [type, v] of Object.entries(stats.blocks)) observe('tierkv.vllm_publisher.blocks.published', v, { [ATTR.VLLM_EVENT_TYPE]: type });
            observe('tierkv.vllm_publisher.blocks.dropped', stats.dropped);
            observe('tierkv.vllm_publisher.batches.published', stats.batches);
            for (const [outcome, v] of Object.entries(stats.replay)) observe('tierkv.vllm_publisher.replay.requests', v, { [ATTR.VLLM_REPLAY_OUTCOME]: outcome });
            observe('tierkv.vllm_publisher.replay.batches', stats.replayedBatches);
            observe('tierkv.vllm_publisher.replay.retained', this.#ring.length);
          },
        );
        return {};
      },
      { meterProvider: options.meterProvider },
    );
  }

  /** The PUB endpoint actually bound (a port 0 resolved), once started. */
  get endpoint(): string | undefined {
    return this.#endpoint;
  }

  /** The replay ROUTER endpoint actually bound, once started (undefined without replay). */
  get replayEndpoint(): string | undefined {
    return this.#replayEndpoint;
  }

  /** The seq the next batch gets (= batches published in this run). */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Seqs of the batches the replay buffer holds: [oldest, newest], or undefined when empty. */
  get retained(): [number, number] | undefined {
    const r = this.#ring;
    return r.length === 0 ? undefined : [r[0]!.seq, r[r.length - 1]!.seq];
  }

  /** Binds the sockets, attaches to `storage` if given, and starts the flush timer. */
  async start(storage?: WorkerStorage): Promise<void> {
    if (this.#state === 'closed') throw new ClosedError('VllmEventPublisher', 'start');
    if (this.#state === 'running') throw new Error('VllmEventPublisher.start() was already called');
    this.#state = 'running';
    const o = this.options;
    try {
      const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: o.sendHighWaterMark });
      this.#pub = pub;
      await pub.bind(o.endpoint);
      this.#endpoint = pub.lastEndpoint ?? o.endpoint;
      if (o.replayEndpoint) {
        const router = new zmq.Router({ linger: 0, sendHighWaterMark: o.sendHighWaterMark, receiveTimeout: RECEIVE_WAKE_MS });
        this.#router = router;
        await router.bind(o.replayEndpoint);
        this.#replayEndpoint = router.lastEndpoint ?? o.replayEndpoint;
        this.#replayLoop = this.#serveReplay(router);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    if (storage) this.attach(storage);
    this.#timer = setInterval(() => void this.flush(), o.flushIntervalMs);
    this.#timer.unref();
    log('publishing vLLM KV events on %s (replay %s, topic %j)', this.#endpoint, this.#replayEndpoint ?? 'off', o.topic);
  }

  /** Listens to a storage's events; keys L1 already holds are published as stored. */
  attach(storage: WorkerStorage): void {
    this.#detach?.();
    const o = this.options;
    const listener: StorageManagerListener & L1Listener & L2Listener = {
      onL1KeysWriteFinished: (keys) => this.#record(keys, 'l1', o.l1Medium, 'BlockStored'),
      onL1KeysDeleted: (keys) => this.#record(keys, 'l1', o.l1Medium, 'BlockRemoved'),
      onL1KeysEvicted: (keys) => this.#record(keys, 'l1', o.l1Medium, 'BlockRemoved'),
    };
    if (o.publishL2) {
      listener.onL2KeysStored = (adapter, keys) => this.#recordL2(adapter, keys, 'BlockStored');
      listener.onL2KeysDeleted = (adapter, keys) => this.#recordL2(adapter, keys, 'BlockRemoved');
    }
    this.#detach = storage.addListener(listener);
    let held: ObjectKey[] = [];
    try {
      held = storage.l1Keys ? [...storage.l1Keys()] : [];
    } catch (err) {
      log('listing the L1 keys failed: %s', (err as Error).message);
    }
    if (held.length > 0) this.#record(held, 'l1', o.l1Medium, 'BlockStored');
  }

  /** The medium an L2 adapter's keys are published under, or null when they are not published. */
  mediumOf(adapter: string): string | null {
    const m = this.options.l2Media[adapter];
    return m === undefined ? OTHER_L2_MEDIUM : m;
  }

  #recordL2(adapter: string, keys: readonly ObjectKey[], type: Change): void {
    const medium = this.mediumOf(adapter);
    if (medium !== null) this.#record(keys, `l2:${adapter}`, medium, type);
  }

  #record(keys: readonly ObjectKey[], location: string, medium: string, type: Change): void {
    if (this.#state === 'closed') return;
    let hashes: bigint[] | undefined;
    for (const k of keys) {
      // The tracker makes a re-admit of a held key, or an evict of an absent one, a no-op.
      const p = this.#tracker.partition(location, k);
      const changed = type === 'BlockStored' ? this.#tracker.admit(p, k.chunkHash) : this.#tracker.evict(p, k.chunkHash);
      if (!changed) continue;
      if (this.#pendingBlocks >= this.options.maxPendingBlocks) {
        this.stats.dropped++;
        continue;
      }
      if (!hashes) {
        const last = this.#pending[this.#pending.length - 1];
        if (last && last.type === type && last.medium === medium) hashes = last.hashes;
        else this.#pending.push({ type, medium, hashes: (hashes = []) });
      }
      hashes.push(chunkHashToU64(k.chunkHash));
      this.#pendingBlocks++;
    }
    if (this.#pendingBlocks >= this.options.maxBlocksPerBatch && this.#state === 'running') queueMicrotask(() => void this.flush());
  }

  /** Sends every pending event now (resolves when handed to ZeroMQ). */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#flushNow().finally(() => (this.#flushing = undefined));
      return this.#flushing;
    }
    return this.#flushing.then(() => this.flush());
  }

  async #flushNow(): Promise<void> {
    const o = this.options;
    while (this.#pending.length > 0 && this.#pub && this.#state === 'running') {
      const events: VllmKvEvent[] = [];
      let blocks = 0;
      while (this.#pending.length > 0 && blocks < o.maxBlocksPerBatch) {
        const head = this.#pending[0]!;
        const take = Math.min(head.hashes.length, o.maxBlocksPerBatch - blocks);
        const hashes = take === head.hashes.length ? head.hashes : head.hashes.splice(0, take);
        if (hashes === head.hashes) this.#pending.shift();
        blocks += hashes.length;
        events.push(
          head.type === 'BlockStored'
            ? { type: 'BlockStored', blockHashes: hashes, parentBlockHash: null, tokenIds: [], blockSize: o.blockSize, loraId: null, medium: head.medium, loraName: null }
            : { type: 'BlockRemoved', blockHashes: hashes, medium: head.medium },
        );
      }
      this.#pendingBlocks -= blocks;
      const payload = encodeVllmEventBatch({ ts: Date.now() / 1000, events, dataParallelRank: o.dataParallelRank });
      const seq = this.#seq++;
      const frame = seqFrame(seq);
      this.#retain({ seq, seqFrame: frame, payload });
      try {
        await this.#pub.send([o.topic, frame, payload]);
      } catch (err) {
        // Kept for replay all the same: a subscriber sees the gap and asks for it.
        log('publishing batch %d failed: %s', seq, (err as Error).message);
      }
      this.stats.batches++;
      for (const e of events) {
        if (e.type === 'AllBlocksCleared') continue;
        this.stats.published[e.type]++;
        this.stats.blocks[e.type] += e.blockHashes.length;
      }
    }
  }

  #retain(r: Retained): void {
    const o = this.options;
    this.#ring.push(r);
    this.#ringBytes += r.payload.length;
    while (this.#ring.length > 1 && (this.#ring.length > o.replayBufferBatches || this.#ringBytes > o.replayBufferBytes)) {
      this.#ringBytes -= this.#ring.shift()!.payload.length;
    }
  }

  async #serveReplay(router: zmq.Router): Promise<void> {
    try {
      while (!router.closed) {
        let frames: Buffer[];
        try {
          frames = await router.receive();
        } catch (err) {
          // A timeout only wakes a receive that missed ZeroMQ's readiness signal under load.
          if (isTimeout(err) && !router.closed) continue;
          throw err;
        }
        const [id, delim, start] = frames;
        if (frames.length !== 3 || !id || delim?.length !== 0 || start?.length !== 8) {
          this.stats.replay.invalid++;
          log('invalid replay request of %d frames', frames.length);
          continue;
        }
        const startSeq = start.readBigUInt64BE(0);
        // A copy: batches published while this request is served do not shift under it.
        const batches = this.#ring.filter((r) => BigInt(r.seq) >= startSeq);
        this.stats.replay.served++;
        for (const r of batches) {
          await router.send([id, '', r.seqFrame, r.payload]);
          this.stats.replayedBatches++;
        }
        await router.send([id, '', VLLM_REPLAY_END_SEQ, '']);
      }
    } catch (err) {
      if (this.#state !== 'closed') log('replay loop ended: %s', (err as Error).message);
    }
  }

  /** Sends what is pending (bounded by a short wait), then closes the sockets. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'running') await Promise.race([this.flush().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
    this.#state = 'closed';
    this.#detach?.();
    this.#detach = undefined;
    clearInterval(this.#timer);
    this.#pub?.close();
    this.#router?.close();
    await this.#replayLoop;
    this.#metrics.close();
  }
}
