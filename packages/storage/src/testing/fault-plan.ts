/**
 * What a FaultyL2Adapter does to one kind of call. Fluent and switchable mid-run:
 * `faults.load.failRate(0.2).delay(1, 5)`, later `faults.load.never()`.
 *
 * - `rejectRate(p)` / `alwaysFail()`: the whole batch rejects (backend down).
 * - `failRate(p)`: each key independently answers false (without reaching the inner adapter).
 * - `corruptRate(p)` (load only): the stored object is damaged below the checksum before the load,
 *   so the inner adapter's verification must catch it.
 * - `delay(min, max)`: each call waits a random number of milliseconds first.
 */
export class FaultPlan {
  rejectProbability = 0;
  keyFailProbability = 0;
  corruptProbability = 0;
  delayMinMs = 0;
  delayMaxMs = 0;

  /** Every batch rejects. */
  alwaysFail(): this {
    this.rejectProbability = 1;
    return this;
  }

  /** No faults and no delay. */
  never(): this {
    this.rejectProbability = 0;
    this.keyFailProbability = 0;
    this.corruptProbability = 0;
    this.delayMinMs = 0;
    this.delayMaxMs = 0;
    return this;
  }

  /** Each key fails (answers false) with probability p. */
  failRate(p: number): this {
    this.keyFailProbability = probability('failRate', p);
    return this;
  }

  /** Each batch rejects with probability p. */
  rejectRate(p: number): this {
    this.rejectProbability = probability('rejectRate', p);
    return this;
  }

  /** Each loaded object is corrupted in storage first with probability p (load plans only). */
  corruptRate(p: number): this {
    this.corruptProbability = probability('corruptRate', p);
    return this;
  }

  /** Each call waits between min and max milliseconds before running. */
  delay(minMs: number, maxMs = minMs): this {
    if (!(minMs >= 0) || !(maxMs >= minMs)) throw new RangeError(`delay expects 0 <= min <= max, got ${minMs}, ${maxMs}`);
    this.delayMinMs = minMs;
    this.delayMaxMs = maxMs;
    return this;
  }

  toString(): string {
    return `reject=${this.rejectProbability} fail=${this.keyFailProbability} corrupt=${this.corruptProbability} delay=${this.delayMinMs}-${this.delayMaxMs}ms`;
  }
}

function probability(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} expects a probability in [0, 1], got ${p}`);
  return p;
}
