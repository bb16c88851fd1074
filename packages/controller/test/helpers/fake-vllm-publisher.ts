import * as zmq from 'zeromq';
import { Packr } from 'msgpackr';
import { waitFor } from '@tierkv/test-utils';

// What msgspec writes: plain msgpack, bigint as uint64, Buffers as bin.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export type BatchForm = 'array' | 'map';

export interface PublishOptions {
  /** Batch form; events are given already in the form the test wants. @default the publisher's */
  readonly form?: BatchForm;
  readonly rank?: number | null;
  /** Keep the batch for replay but do not send it live (a batch the subscriber missed). */
  readonly lose?: boolean;
  /** Send these bytes as the payload instead. */
  readonly raw?: Buffer;
}

/**
 * A vLLM ZmqEventPublisher stand-in: PUB `[topic, seq u64 BE, payload]` and a replay ROUTER that
 * answers `["", start_seq]` with every buffered batch from there then the end marker, in the older
 * (`["", seq, payload]`) or newer (`["", topic, seq, payload]`) reply form.
 */
export class FakeVllmPublisher {
  seq = 0;
  form: BatchForm = 'array';
  replayForm: 'old' | 'new' = 'old';
  /** When set, replay requests go unanswered (the subscriber's replay times out). */
  replayMuted = false;
  readonly replayRequests: number[] = [];
  readonly buffer: { seq: number; payload: Buffer }[] = [];
  readonly topic: string;
  endpoint = '';
  replayEndpoint = '';
  readonly #pub = new zmq.Publisher({ linger: 0 });
  readonly #replay = new zmq.Router({ linger: 0 });
  #loop: Promise<void> | undefined;

  constructor(topic = 'kv') {
    this.topic = topic;
  }

  async start(): Promise<this> {
    await this.#pub.bind('tcp://127.0.0.1:*');
    await this.#replay.bind('tcp://127.0.0.1:*');
    this.endpoint = this.#pub.lastEndpoint!;
    this.replayEndpoint = this.#replay.lastEndpoint!;
    this.#loop = this.#serveReplay();
    return this;
  }

  /** Publishes one batch (events already in array or map form) and returns its seq. */
  async publish(events: unknown[], o: PublishOptions = {}): Promise<number> {
    const seq = this.seq++;
    const form = o.form ?? this.form;
    const rank = o.rank === undefined ? 0 : o.rank;
    const ts = Date.now() / 1000 + 0.5; // a float64, as vLLM's time.time()
    const payload = o.raw ?? packr.pack(form === 'array' ? [ts, events, rank] : { ts, events, ...(rank === null ? {} : { data_parallel_rank: rank }) });
    this.buffer.push({ seq, payload });
    if (!o.lose) await this.#pub.send([this.topic, u64(BigInt(seq)), payload]);
    return seq;
  }

  /** Publishes empty batches until `seen()` (SUB sockets join late: no sleeping, republish instead). */
  async warmUp(seen: () => boolean): Promise<void> {
    await waitFor(
      async () => {
        if (seen()) return true;
        await this.publish([]);
        return false;
      },
      'the subscriber to see a batch',
      60_000,
      50,
    );
  }

  async close(): Promise<void> {
    this.#pub.close();
    this.#replay.close();
    await this.#loop;
  }

  async #serveReplay(): Promise<void> {
    while (!this.#replay.closed) {
      let frames: Buffer[];
      try {
        frames = await this.#replay.receive();
      } catch {
        return;
      }
      const [id, , start] = frames;
      const from = Number(start!.readBigUInt64BE(0));
      this.replayRequests.push(from);
      if (this.replayMuted) continue;
      try {
        for (const b of this.buffer) {
          if (b.seq < from) continue;
          const body = this.replayForm === 'old' ? [u64(BigInt(b.seq)), b.payload] : [Buffer.from(this.topic), u64(BigInt(b.seq)), b.payload];
          await this.#replay.send([id!, Buffer.alloc(0), ...body]);
        }
        const end = u64(0xffff_ffff_ffff_ffffn);
        await this.#replay.send([id!, Buffer.alloc(0), ...(this.replayForm === 'old' ? [end, Buffer.alloc(0)] : [Buffer.from(this.topic), end, Buffer.alloc(0)])]);
      } catch {
        if (this.#replay.closed) return;
      }
    }
  }
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** Events in vLLM's tagged-array form (up to v0.23): `fields` are the ones after the tag. */
export const stored = (hashes: unknown[], ...rest: unknown[]): unknown[] => ['BlockStored', hashes, ...rest];
export const removed = (hashes: unknown[], ...rest: unknown[]): unknown[] => ['BlockRemoved', hashes, ...rest];
export const cleared = (): unknown[] => ['AllBlocksCleared'];
