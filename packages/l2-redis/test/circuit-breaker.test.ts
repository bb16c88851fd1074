import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { CircuitBreaker, DEFAULT_CIRCUIT_BREAKER_OPTIONS, resolveRedisL2Options, type BreakerState } from '@tierkv/l2-redis';

function breaker(failureThreshold = 3, openMs = 1000) {
  let now = 0;
  const transitions: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold, openMs }, () => now, (to) => transitions.push(to));
  return { b, transitions, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('stays closed below the failure threshold and resets on success', () => {
    const { b, transitions } = breaker(3);
    for (let round = 0; round < 3; round++) {
      expect(b.tryAcquire()).to.equal(true);
      b.failure();
      expect(b.tryAcquire()).to.equal(true);
      b.failure();
      expect(b.tryAcquire()).to.equal(true);
      b.success();
    }
    expect(b.state).to.equal('closed');
    expect(transitions).to.deep.equal([]);
  });

  it('opens after threshold consecutive failures and rejects calls for openMs', () => {
    const { b, advance } = breaker(2, 1000);
    b.failure();
    b.failure();
    expect(b.state).to.equal('open');
    expect(b.tryAcquire()).to.equal(false);
    advance(999);
    expect(b.tryAcquire()).to.equal(false);
  });

  it('lets exactly one probe through after openMs; success closes', () => {
    const { b, advance, transitions } = breaker(1, 1000);
    b.failure();
    advance(1000);
    expect(b.tryAcquire()).to.equal(true);
    expect(b.state).to.equal('half_open');
    expect(b.tryAcquire()).to.equal(false); // the probe is in flight
    b.success();
    expect(b.state).to.equal('closed');
    expect(b.tryAcquire()).to.equal(true);
    expect(transitions).to.deep.equal(['open', 'half_open', 'closed']);
  });

  it('a failed probe reopens for another openMs', () => {
    const { b, advance, transitions } = breaker(1, 500);
    b.failure();
    advance(500);
    expect(b.tryAcquire()).to.equal(true);
    b.failure();
    expect(b.state).to.equal('open');
    advance(499);
    expect(b.tryAcquire()).to.equal(false);
    advance(1);
    expect(b.tryAcquire()).to.equal(true);
    expect(transitions).to.deep.equal(['open', 'half_open', 'open', 'half_open']);
  });

  it('ignores failures of calls that started before it opened', () => {
    const { b, advance } = breaker(1, 100);
    b.failure();
    b.failure(); // a straggler
    advance(100);
    expect(b.tryAcquire()).to.equal(true);
  });

  it('has documented defaults and validates options', () => {
    expect(DEFAULT_CIRCUIT_BREAKER_OPTIONS).to.deep.equal({ failureThreshold: 5, openMs: 2000 });
    expect(() => resolveRedisL2Options({ breaker: { failureThreshold: 0 } })).to.throw(ConfigError, /redis.breaker.failureThreshold/);
    expect(() => resolveRedisL2Options({ breaker: { openMs: -1 } })).to.throw(ConfigError, /openMs/);
  });
});
