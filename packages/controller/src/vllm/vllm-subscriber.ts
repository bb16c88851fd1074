import * as zmq from 'zeromq';
import { debugLogger } from '@tierkv/core';
import { RECEIVE_WAKE_MS } from '../controller/socket-options.js';
import { isTimeout } from '../protocol/sockets.js';
import { decodeVllmBatch } from './vllm-event-decoder.js';
import type { ResolvedVllmPublisher } from './vllm-publisher-config.js';
import { VllmPublisherStats, type VllmClearCause } from './vllm-stats.js';
import type { VllmView } from './vllm-view.js';

const log = debugLogger('tierkv:controller:vllm');

/** vLLM's replay end marker: seq -1 as 8 signed big-endian bytes. */
const END_SEQ = 0xffff_ffff_ffff_ffffn;
/** Batches one replay may return (vLLM keeps 10 000 by default). */
const MAX_REPLAYED = 1_000_000;

interface Replayed {
  readonly seq: number;
  readonly payload: Buffer;
}

export interface VllmSubscriberOptions {
  /** Deadline for each frame of a replay; past it the replay failed. */
  readonly replayTimeoutMs: number;
}

/**
 * Follows one vLLM publisher: a SUB socket for `[topic, seq, payload]`, and its replay ROUTER for
 * missed batches. The loop handles one frame at a time, so while a replay runs, live batches wait
 * in the SUB socket's queue and are checked against the sequence afterwards. Bad frames are counted
 * and dropped; the loop ends only on close().
 */
export class VllmSubscriber {
  readonly config: ResolvedVllmPublisher;
  readonly stats = new VllmPublisherStats();
  readonly #view: VllmView;
  readonly #o: VllmSubscriberOptions;
  readonly #sub: zmq.Subscriber;
  #replayer: zmq.Dealer | undefined;
  #loop: Promise<void> | undefined;
  /** The next seq expected; undefined until the first batch. */
  #expected: number | undefined;
  /** After a replay from here, live batches in [dupFloor, expected) are the replayed ones again, not a restart. */
  #dupFloor: number | undefined;
  #lastBatchAt: number | undefined;

  constructor(config: ResolvedVllmPublisher, view: VllmView, options: VllmSubscriberOptions) {
    this.config = config;
    this.#view = view;
    this.#o = options;
    // A deep queue: batches keep arriving while a replay runs and must not be dropped meanwhile.
    // The receive timeout wakes a receive that missed ZeroMQ's edge-triggered readiness under load
    // (see RECEIVE_WAKE_MS): without it the stream could stall with batches queued.
    this.#sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 100_000, receiveTimeout: RECEIVE_WAKE_MS });
  }

  start(): void {
    this.#sub.connect(this.config.endpoint);
    this.#sub.subscribe(this.config.topic);
    this.#loop = this.#run();
  }

  get expectedSeq(): number | undefined {
    return this.#expected;
  }

  get lastBatchAt(): number | undefined {
    return this.#lastBatchAt;
  }

  async close(): Promise<void> {
    this.#sub.close();
    this.#replayer?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#sub.closed) {
      let frames: Buffer[];
      try {
        frames = await this.#sub.receive();
      } catch (err) {
        if (this.#sub.closed) return;
        if (!isTimeout(err)) log('%s: receive failed: %s', this.config.name, (err as Error).message);
        continue;
      }
      try {
        await this.#onFrames(frames);
      } catch (err) {
        // Guards the loop: a bug in handling one batch must not stop the stream.
        this.stats.decodeErrors.batch++;
        log('%s: batch handling failed: %s', this.config.name, (err as Error).stack);
      }
    }
  }

  async #onFrames(frames: Buffer[]): Promise<void> {
    if (frames.length !== 3) {
      this.stats.decodeErrors.frames++;
      return;
    }
    const seq = readSeq(frames[1]!);
    if (seq === undefined || seq === END_SEQ || seq > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.stats.decodeErrors.seq++;
      return;
    }
    await this.#live(Number(seq), frames[2]!);
  }

  async #live(seq: number, payload: Buffer): Promise<void> {
    const expected = this.#expected;
    if (expected !== undefined && seq < expected) {
      if (this.#dupFloor !== undefined && seq >= this.#dupFloor) {
        this.stats.batches.duplicate++;
        return;
      }
      // vLLM numbers batches from 0 per engine run: a smaller seq is a new engine with an empty cache.
      this.#clear('seq_backwards');
    } else if (expected !== undefined && seq > expected) {
      this.stats.seqGaps++;
      await this.#recover(expected, seq);
      if (this.#expected! > seq) {
        this.stats.batches.duplicate++;
        return;
      }
      if (this.#expected! < seq) this.#clear('replay_incomplete');
    }
    this.#dupFloor = undefined; // a new batch: every queued replayed duplicate is behind us
    this.#accept(seq, payload);
  }

  /** Fills the gap [from, liveSeq) by replay, or clears the view when it cannot be filled. */
  async #recover(from: number, liveSeq: number): Promise<void> {
    if (!this.config.replayEndpoint) {
      this.#clear('no_replay');
      this.#expected = liveSeq;
      return;
    }
    const got = await this.#replay(from);
    if (got === undefined) {
      this.stats.replays.failed++;
      this.#clear('replay_failed');
      this.#expected = liveSeq;
      return;
    }
    const first = got[0]?.seq;
    if (first === undefined || first > from) {
      // The publisher's buffer no longer reaches back to `from`: those batches are gone for good.
      this.stats.replays.partial++;
      this.#clear('replay_incomplete');
      this.#expected = first ?? liveSeq;
    } else {
      this.stats.replays.ok++;
    }
    for (const r of got) {
      if (r.seq < this.#expected!) continue;
      if (r.seq > this.#expected!) break; // a hole inside the replay: the live check clears the view
      this.#accept(r.seq, r.payload);
    }
    this.#dupFloor = from;
  }

  /** Asks the replay ROUTER for every batch from `from`; undefined when it does not answer in time. */
  async #replay(from: number): Promise<Replayed[] | undefined> {
    const t = this.#o.replayTimeoutMs;
    // A fresh DEALER per replay: a late answer to an abandoned request can never be mistaken for this one.
    const d = (this.#replayer = new zmq.Dealer({ linger: 0, receiveTimeout: t, sendTimeout: t }));
    const out: Replayed[] = [];
    try {
      d.connect(this.config.replayEndpoint!);
      await d.send([Buffer.alloc(0), u64(BigInt(from))]);
      for (;;) {
        const frames = await d.receive();
        // Older vLLM: ["", seq, payload]; newer: ["", topic, seq, payload].
        const body = frames[0]?.length === 0 ? frames.slice(1) : frames;
        const [seqFrame, payload] = body.length === 3 ? [body[1]!, body[2]!] : body.length === 2 ? [body[0]!, body[1]!] : [undefined, undefined];
        const seq = seqFrame && readSeq(seqFrame);
        if (seq === undefined || payload === undefined) {
          this.stats.decodeErrors.frames++;
          continue;
        }
        if (seq === END_SEQ) return out;
        if (out.length < MAX_REPLAYED && seq <= BigInt(Number.MAX_SAFE_INTEGER)) out.push({ seq: Number(seq), payload });
      }
    } catch (err) {
      if (!isTimeout(err) && !d.closed) log('%s: replay failed: %s', this.config.name, (err as Error).message);
      return undefined;
    } finally {
      d.close();
      if (this.#replayer === d) this.#replayer = undefined;
    }
  }

  #accept(seq: number, payload: Buffer): void {
    this.#expected = seq + 1;
    this.#lastBatchAt = Date.now();
    const d = decodeVllmBatch(payload);
    if (!d.ok) {
      // The seq still counts as received: a resend would carry the same bytes.
      this.stats.decodeErrors[d.reason]++;
      log('%s: batch %d dropped (%s): %s', this.config.name, seq, d.reason, d.detail);
      return;
    }
    const b = d.batch;
    if (b.dataParallelRank !== undefined && b.dataParallelRank !== this.config.dataParallelRank) {
      this.stats.decodeErrors.dp_rank++;
      return;
    }
    this.stats.batches.applied++;
    this.stats.events.unknown += b.unknownEvents;
    for (const e of b.events) {
      this.stats.events[e.type]++;
      if (e.type === 'AllBlocksCleared') this.stats.cleared.all_blocks_cleared++;
      this.#view.apply(e);
    }
  }

  #clear(cause: VllmClearCause): void {
    this.stats.cleared[cause]++;
    this.#view.clear();
    log('%s: view cleared (%s)', this.config.name, cause);
  }
}

function readSeq(frame: Buffer): bigint | undefined {
  return frame.length === 8 ? frame.readBigUInt64BE(0) : undefined;
}

function u64(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(n);
  return b;
}
