import { expect } from 'chai';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { contextFromTraceparent, formatTraceparent, parseTraceparent, TRACEPARENT_LENGTH } from '@tierkv/core';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent (W3C Trace Context, by hand)', () => {
  it('formats a span context as version 00, 55 characters', () => {
    const tp = formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED });
    expect(tp).to.equal(`00-${TRACE}-${SPAN}-01`);
    expect(tp).to.have.length(TRACEPARENT_LENGTH);
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE })).to.equal(`00-${TRACE}-${SPAN}-00`);
  });

  it('formats nothing for an invalid span context', () => {
    expect(formatTraceparent({ traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 })).to.equal(undefined);
    expect(formatTraceparent(trace.wrapSpanContext({ traceId: TRACE, spanId: '0'.repeat(16), traceFlags: 1 }).spanContext())).to.equal(undefined);
  });

  it('parses what it formats, as a remote context, with tracestate', () => {
    const sc = parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(sc).to.deep.include({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(sc!.traceState!.get('congo')).to.equal('t61rcWkgMzE');
    expect(sc!.traceState!.serialize()).to.equal('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  });

  it('keeps only the sampled flag of the flags byte', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)!.traceFlags).to.equal(1);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-02`)!.traceFlags).to.equal(0);
  });

  it('accepts a later version with extra fields, refuses them for version 00', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-the-future-adds`)).to.deep.include({ traceId: TRACE });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`)).to.equal(undefined);
  });

  for (const [why, value] of [
    ['not a string', 42],
    ['undefined', undefined],
    ['empty', ''],
    ['too short', `00-${TRACE}-${SPAN}-0`],
    ['upper case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['non-hex', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ['far too long', `01-${TRACE}-${SPAN}-01-${'x'.repeat(300)}`],
  ] as const) {
    it(`ignores a malformed traceparent (${why})`, () => {
      expect(parseTraceparent(value)).to.equal(undefined);
      // The base context is kept as is: a bad header never fails a request.
      expect(contextFromTraceparent(ROOT_CONTEXT, value)).to.equal(ROOT_CONTEXT);
    });
  }

  it('drops an oversized or non-string tracestate but keeps the traceparent', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'a=' + 'b'.repeat(600))!.traceState).to.equal(undefined);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 7)!.traceState).to.equal(undefined);
  });

  it('gives the context a server span continues', () => {
    const ctx = contextFromTraceparent(ROOT_CONTEXT, `00-${TRACE}-${SPAN}-01`);
    expect(trace.getSpanContext(ctx)).to.deep.include({ traceId: TRACE, spanId: SPAN, isRemote: true });
  });
});
