import { expect } from 'chai';
import { MAX_TRACEPARENT_CHARS, MAX_TRACESTATE_CHARS } from '../../src/protocol/messages.js';
import { traceFieldsOf } from '../../src/protocol/validation.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace fields of a request header', () => {
  it('reads traceparent and tracestate when they are strings within bounds', () => {
    expect(traceFieldsOf({ type: 'ping', traceparent: TP, tracestate: 'a=b' })).to.deep.equal({ traceparent: TP, tracestate: 'a=b' });
  });

  it('ignores (never refuses) absent, mistyped or oversized fields', () => {
    expect(traceFieldsOf({ type: 'ping' })).to.equal(undefined);
    expect(traceFieldsOf(undefined)).to.equal(undefined);
    expect(traceFieldsOf({ traceparent: 42 })).to.equal(undefined);
    expect(traceFieldsOf({ traceparent: 'x'.repeat(MAX_TRACEPARENT_CHARS + 1) })).to.equal(undefined);
    expect(traceFieldsOf({ traceparent: TP, tracestate: 'a'.repeat(MAX_TRACESTATE_CHARS + 1) })).to.deep.equal({ traceparent: TP, tracestate: undefined });
    expect(traceFieldsOf({ traceparent: TP, tracestate: ['a=b'] })).to.deep.equal({ traceparent: TP, tracestate: undefined });
  });
});
