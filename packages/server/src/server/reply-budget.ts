import { debugLogger } from '@tierkv/core';

const log = debugLogger('tierkv:server');

/** Why a client's waiting replies were thrown away and its session dropped. */
export type ShedReason = 'client_budget' | 'total_budget' | 'stalled';

export interface ReplyBudgetOptions<C> {
  /** Reply bytes one client may have waiting; past it the client is shed. */
  readonly maxBytesPerClient: number;
  /** Reply bytes all clients may have waiting; past it the client holding the most is shed. */
  readonly maxBytes: number;
  /**
   * The budget shed `client` (its account counts toward no limit from now on). The transport throws
   * its replies away or disconnects it, releasing their bytes as they are let go, and closes the
   * account. Runs inside `charge` or `shed`.
   */
  readonly onShed: (client: C, reason: ShedReason) => void;
}

/** One client's share of a ReplyBudget: opened with the client, closed when it goes. */
export interface ReplyAccount<C> {
  readonly client: C;
  /** Reply bytes charged and not yet released. */
  readonly bytes: number;
  /** Why the budget shed this client; undefined while it has not. */
  readonly shedReason: ShedReason | undefined;
  readonly closed: boolean;
}

interface Account<C> {
  readonly client: C;
  bytes: number;
  shedReason: ShedReason | undefined;
  closed: boolean;
}

/**
 * The bound on reply bytes waiting for slow clients, the same for every transport: a reply's bytes
 * are charged to its client's account when it is queued and released once they left (or were
 * thrown away). A client past `maxBytesPerClient`, or the one holding the most while all clients
 * are past `maxBytes`, is shed. Running totals keep a reply O(1); only shedding for the total
 * budget looks at every client (to find the largest), and that is the exception.
 *
 * A shed client's bytes stay in `bytes` until released (over TCP they are in its socket until it
 * closes) but count toward no limit: the budget already acted on them.
 */
export class ReplyBudget<C> {
  readonly #o: ReplyBudgetOptions<C>;
  /** Accounts neither shed nor closed: the ones the limits apply to. */
  readonly #live = new Set<Account<C>>();
  #bytes = 0;
  #liveBytes = 0;
  #peak = 0;

  constructor(options: ReplyBudgetOptions<C>) {
    this.#o = options;
  }

  /** Reply bytes charged and not yet released, all clients (shed ones included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The most reply bytes the budgets ever let stand at once (checked against them in tests). */
  get peakBytes(): number {
    return this.#peak;
  }

  open(client: C): ReplyAccount<C> {
    const account: Account<C> = { client, bytes: 0, shedReason: undefined, closed: false };
    this.#live.add(account);
    return account;
  }

  /** Counts a queued reply of `bytes` bytes; may shed this client or, for the total, another. */
  charge(account: ReplyAccount<C>, bytes: number): void {
    const a = account as Account<C>;
    // A closed account would hold these bytes forever: the caller lost track of its client. Never
    // thrown: this runs in socket callbacks, and a miscount must not take the server down.
    if (a.closed) {
      log('ReplyBudget.charge: %d bytes for a closed account ignored (the client is gone)', bytes);
      return;
    }
    a.bytes += bytes;
    this.#bytes += bytes;
    if (a.shedReason) return;
    this.#liveBytes += bytes;
    if (a.bytes > this.#o.maxBytesPerClient) this.shed(a, 'client_budget');
    while (this.#liveBytes > this.#o.maxBytes) {
      const largest = this.#largest();
      if (!largest) break;
      this.shed(largest, 'total_budget');
    }
    this.#peak = Math.max(this.#peak, this.#liveBytes);
  }

  /** The bytes of one reply left (or were thrown away). */
  release(account: ReplyAccount<C>, bytes: number): void {
    const a = account as Account<C>;
    // More than is charged means a reply was released twice: clamp, so the totals cannot drift
    // below what is really held (and never throw from a socket callback).
    if (bytes > a.bytes) {
      log('ReplyBudget.release: %d bytes released but only %d charged; clamped', bytes, a.bytes);
      bytes = a.bytes;
    }
    a.bytes -= bytes;
    this.#bytes -= bytes;
    if (!a.shedReason && !a.closed) this.#liveBytes -= bytes;
  }

  /** Sheds the client for `reason` (once; a closed or already shed one is left alone). */
  shed(account: ReplyAccount<C>, reason: ShedReason): void {
    const a = account as Account<C>;
    if (a.shedReason || a.closed) return;
    a.shedReason = reason;
    this.#live.delete(a);
    this.#liveBytes -= a.bytes;
    this.#o.onShed(a.client, reason);
  }

  /** The client is gone: whatever it still has charged is released, and nothing more may be. */
  close(account: ReplyAccount<C>): void {
    const a = account as Account<C>;
    if (a.closed) return;
    this.release(a, a.bytes);
    a.closed = true;
    this.#live.delete(a);
  }

  #largest(): Account<C> | undefined {
    let best: Account<C> | undefined;
    for (const a of this.#live) if (a.bytes > 0 && (!best || a.bytes > best.bytes)) best = a;
    return best;
  }
}
