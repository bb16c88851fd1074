/** What to do with a batch of `count` events numbered from `seq`, given the next expected number. */
export interface SeqCheck {
  /** Leading events already seen (duplicates or covered by a snapshot): not applied again. */
  readonly skip: number;
  /** Events between the expected number and `seq` never arrived. */
  readonly gap: boolean;
  /** The next expected number after this batch. */
  readonly next: number;
}

export function checkSequence(expected: number | undefined, seq: number, count: number): SeqCheck {
  if (expected === undefined || seq === expected) return { skip: 0, gap: false, next: seq + count };
  if (seq > expected) return { skip: 0, gap: true, next: seq + count };
  const skip = Math.min(count, expected - seq);
  return { skip, gap: false, next: Math.max(expected, seq + count) };
}

/**
 * Next expected sequence number per location for one worker. Sequence numbers are per worker and
 * location (a location's events form one ordered stream); the worker resets nothing on reconnect.
 */
export class SequenceTracker {
  readonly #expected = new Map<string, number>();

  /** Every location's numbering starts at 0, so a location not seen yet expects 0. */
  expected(location: string): number {
    return this.#expected.get(location) ?? 0;
  }

  /** Checks a batch and advances the expectation past it. */
  accept(location: string, seq: number, count: number): SeqCheck {
    const check = checkSequence(this.expected(location), seq, count);
    this.#expected.set(location, check.next);
    return check;
  }

  /** Replaces every expectation (registration, end of a full sync). */
  reset(seqs: Readonly<Record<string, number>>): void {
    this.#expected.clear();
    for (const [loc, n] of Object.entries(seqs)) this.#expected.set(loc, n);
  }

  /** Locations whose reported next number is beyond what arrived: trailing events were lost. */
  behind(reported: Readonly<Record<string, number>>): string[] {
    const out: string[] = [];
    for (const [loc, n] of Object.entries(reported)) if (n > (this.#expected.get(loc) ?? 0)) out.push(loc);
    return out;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#expected);
  }
}
