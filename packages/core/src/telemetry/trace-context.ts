import { createTraceState, isSpanContextValid, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for tierkv's own wire protocol, written
 * by hand: `@opentelemetry/api` has no propagator implementation (W3CTraceContextPropagator is in
 * `@opentelemetry/core`, an SDK package library packages do not depend on), and `propagation.inject`
 * with the global propagator writes nothing unless the host registered one. The format is fixed and
 * small: `version-traceid-parentid-flags`, 55 characters for version 00.
 */

export const TRACEPARENT_LENGTH = 55;
/** tracestate is passed along when at most this long (the W3C limit is 32 members of ~256 chars; 512 is what propagators must keep). */
export const MAX_TRACESTATE_LENGTH = 512;

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The `traceparent` of a span context (version 00), or undefined for an invalid one. */
export function formatTraceparent(sc: SpanContext): string | undefined {
  if (!isSpanContextValid(sc)) return undefined;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

/**
 * Parses a `traceparent` (and an optional `tracestate`) into a remote span context; undefined for
 * anything malformed (never throws). Per the spec: version ff is invalid, version 00 has exactly
 * 55 characters, a higher version may append fields after the fourth; all-zero ids are invalid.
 */
export function parseTraceparent(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length < TRACEPARENT_LENGTH || traceparent.length > 256) return undefined;
  const m = TRACEPARENT_RE.exec(traceparent);
  if (!m) return undefined;
  const version = m[1]!;
  if (version === 'ff') return undefined;
  if (version === '00' && m[5] !== undefined) return undefined;
  const sc: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & TraceFlags.SAMPLED, isRemote: true };
  if (!isSpanContextValid(sc)) return undefined;
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH) {
    try {
      sc.traceState = createTraceState(tracestate);
    } catch {
      // A malformed tracestate is dropped, the traceparent kept (W3C: "vendors MUST NOT" fail on it).
    }
  }
  return sc;
}

/** The context to start a server span in: the remote parent from the header, else `base`. */
export function contextFromTraceparent(base: Context, traceparent: unknown, tracestate?: unknown): Context {
  const sc = parseTraceparent(traceparent, tracestate);
  return sc ? trace.setSpanContext(base, sc) : base;
}
