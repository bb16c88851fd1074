import * as zmq from 'zeromq';
import { TimeoutError, UnavailableError, curveClientOptions, debugLogger, type CurveClientSocketOptions } from '@tierkv/core';
import { isTimeout } from './sockets.js';

const log = debugLogger('tierkv:controller');

/** A DEALER that carries one request at a time and is replaced after a timeout. */
export class RequestChannel {
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #onReset: () => void;
  #dealer: zmq.Dealer;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly #curve: CurveClientSocketOptions | undefined;

  /** `authToken`: the controller's token, when it has one (the socket then speaks CURVE). */
  constructor(endpoint: string, timeoutMs: number, onReset: () => void = () => {}, authToken?: string) {
    this.#curve = authToken === undefined ? undefined : curveClientOptions(authToken, 'tierkv-controller', 'authToken');
    this.#endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
    this.#onReset = onReset;
    this.#dealer = this.#create();
  }

  #create(): zmq.Dealer {
    const d = new zmq.Dealer({ linger: 0, sendTimeout: this.#timeoutMs, receiveTimeout: this.#timeoutMs, reconnectInterval: 100, reconnectMaxInterval: 1000, ...this.#curve });
    d.connect(this.#endpoint);
    return d;
  }

  request(payload: Buffer): Promise<Buffer> {
    const run = this.#chain.then(() => this.#roundTrip(payload));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #roundTrip(payload: Buffer): Promise<Buffer> {
    if (this.#closed) throw new UnavailableError('the worker client is closed');
    const dealer = this.#dealer;
    try {
      // REQ-style envelope (empty delimiter) so REQ-speaking tools see the same layout.
      await dealer.send(['', payload]);
      const frames = await dealer.receive();
      return frames[frames.length - 1]!;
    } catch (err) {
      if (this.#closed) throw new UnavailableError('the worker client is closed');
      if (isTimeout(err)) {
        // A late reply must not be taken for the next request's: start over with a fresh socket.
        this.#reset();
        throw new TimeoutError('controller request', this.#timeoutMs, 'worker.requestTimeoutMs');
      }
      this.#reset();
      throw err;
    }
  }

  #reset(): void {
    this.#dealer.close();
    if (this.#closed) return;
    this.#dealer = this.#create();
    this.#onReset();
    log('dealer to %s recreated', this.#endpoint);
  }

  close(): void {
    this.#closed = true;
    this.#dealer.close();
  }
}

