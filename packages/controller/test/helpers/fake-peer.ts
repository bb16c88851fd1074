import * as zmq from 'zeromq';
import { freePort } from '@tierkv/test-utils';

export type PushFate = 'deliver' | 'drop' | 'duplicate' | 'hold';

/**
 * A misbehaving network between a worker and the controller. Workers connect to the proxy's
 * endpoints; the proxy forwards to the controller and, on cue, drops, duplicates or reorders
 * pushed events and hangs request replies.
 */
export class FakePeer {
  /** Decides each pushed frame's fate; `hold` keeps it back until the next delivered frame passes (a swap). */
  pushFate: (frame: Buffer) => PushFate = () => 'deliver';
  /** Requests whose reply is swallowed (the worker times out). */
  hangReplies = 0;
  readonly counts = { pushed: 0, dropped: 0, duplicated: 0, reordered: 0, hung: 0 };
  #pull!: zmq.Pull;
  #push!: zmq.Push;
  #router!: zmq.Router;
  #dealer!: zmq.Dealer;
  #held: Buffer | undefined;
  #loops: Promise<void>[] = [];
  endpoints!: { pull: string; router: string };

  async start(controller: { pull: string; router: string }): Promise<void> {
    const [pullPort, routerPort] = [await freePort(), await freePort()];
    this.#pull = new zmq.Pull({ linger: 0 });
    await this.#pull.bind(`tcp://127.0.0.1:${pullPort}`);
    this.#push = new zmq.Push({ linger: 0, sendTimeout: 1000 });
    this.#push.connect(controller.pull);
    this.#router = new zmq.Router({ linger: 0, sendTimeout: 1000 });
    await this.#router.bind(`tcp://127.0.0.1:${routerPort}`);
    this.#dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000, sendTimeout: 1000 });
    this.#dealer.connect(controller.router);
    this.endpoints = { pull: `tcp://127.0.0.1:${pullPort}`, router: `tcp://127.0.0.1:${routerPort}` };
    this.#loops.push(this.#pushLoop(), this.#requestLoop());
  }

  async #pushLoop(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.#pull.receive();
      } catch {
        return;
      }
      const frame = frames[0]!;
      this.counts.pushed++;
      const fate = this.pushFate(frame);
      try {
        if (fate === 'drop') this.counts.dropped++;
        else if (fate === 'hold' && !this.#held) this.#held = frame;
        else {
          await this.#push.send(frame);
          if (fate === 'duplicate') {
            this.counts.duplicated++;
            await this.#push.send(frame);
          }
          if (this.#held) {
            this.counts.reordered++;
            await this.#push.send(this.#held);
            this.#held = undefined;
          }
        }
      } catch {
        return;
      }
    }
  }

  async #requestLoop(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.#router.receive();
        await this.#dealer.send(frames.slice(1));
        const reply = await this.#dealer.receive();
        if (this.hangReplies > 0) {
          this.hangReplies--;
          this.counts.hung++;
          continue;
        }
        await this.#router.send([frames[0]!, ...reply]);
      } catch {
        if (this.#router.closed) return;
      }
    }
  }

  /** Releases a held frame, if any. */
  async release(): Promise<void> {
    if (this.#held) await this.#push.send(this.#held);
    this.#held = undefined;
  }

  async close(): Promise<void> {
    for (const s of [this.#pull, this.#push, this.#router, this.#dealer]) s?.close();
    await Promise.allSettled(this.#loops);
  }
}
