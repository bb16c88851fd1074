import {
  context,
  ProxyTracerProvider,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { MeterScope } from './meter-binding.js';
import { ATTR } from './attribute-names.js';

/** Options of a tracer binding: an injected provider, or (absent) the global one. */
export interface TracerOptions {
  /**
   * The TracerProvider for this module. When absent the module follows the process-wide global
   * provider of `@opentelemetry/api`, including one registered (or replaced) after the module was created.
   */
  tracerProvider?: TracerProvider;
}

// The API's own no-op provider (a ProxyTracerProvider without delegate hands it out): a global
// provider equal to it means nobody registered one, and spans are skipped altogether.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Binds one module to a TracerProvider. Unlike metrics there is nothing to rebuild, so no polling:
 * `tracer()` looks at the global provider on every call (two property reads) and asks it for a
 * tracer only when it changed. Why not keep the `trace.getTracer()` result: that ProxyTracer
 * follows a registration that comes later, but only the first one; after `trace.disable()` and a
 * new registration (a restarted telemetry) it would keep the old, shut-down delegate.
 *
 * `tracer()` answers undefined when no provider is registered: callers then create no span, build
 * no attribute and enter no context, so tracing costs one call per operation when unused.
 */
export class TracerBinding {
  readonly #scope: MeterScope;
  readonly #injected: Tracer | undefined;
  #delegate: TracerProvider | undefined;
  #tracer: Tracer | undefined;

  constructor(scope: MeterScope, options: TracerOptions = {}) {
    this.#scope = scope;
    this.#injected = options.tracerProvider?.getTracer(scope.name, scope.version);
  }

  /** The tracer to start spans with, or undefined when no TracerProvider is registered. */
  tracer(): Tracer | undefined {
    if (this.#injected) return this.#injected;
    const global = trace.getTracerProvider();
    // Duck-typed: the global may be another copy of the API's ProxyTracerProvider.
    const delegate = typeof (global as Partial<ProxyTracerProvider>).getDelegate === 'function' ? (global as ProxyTracerProvider).getDelegate() : global;
    if (delegate !== this.#delegate) {
      this.#delegate = delegate;
      this.#tracer = delegate === NOOP_PROVIDER ? undefined : delegate.getTracer(this.#scope.name, this.#scope.version);
    }
    return this.#tracer;
  }

  /**
   * Starts a span (child of `parent`, else of the active context), or returns undefined when
   * tracing is off. `attributes` is called only when the span records.
   */
  start(name: string, kind: SpanKind, attributes?: () => Attributes, parent?: Context): Span | undefined {
    const tracer = this.tracer();
    if (!tracer) return undefined;
    const span = tracer.startSpan(name, { kind }, parent ?? context.active());
    if (attributes && span.isRecording()) span.setAttributes(attributes());
    return span;
  }
}

/** Runs `fn` with `span` as the active span (when it records); plain `fn()` otherwise. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  if (!span || !span.isRecording()) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Ends a span, first setting the attributes `attributes` builds (only when it records) and, for an
 * error, the ERROR status with the error's class name as its bounded description (never the message,
 * which may name keys) and `error.type`.
 */
export function endSpan(span: Span | undefined, attributes?: () => Attributes, error?: unknown): void {
  if (!span) return;
  if (span.isRecording()) {
    if (attributes) span.setAttributes(attributes());
    if (error !== undefined) {
      const type = errorType(error);
      span.setAttribute(ATTR.ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    }
  }
  span.end();
}

/** A bounded name for an error: its `code` when it has a short one, else its class name. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0 && code.length <= 40) return code;
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name.length > 0 && name.length <= 60 ? name : '_OTHER';
}

/** Ends `span` when `p` settles (error status on rejection) and returns `p` unchanged. */
export function endSpanWhen<T>(span: Span | undefined, p: Promise<T>, attributes?: (value: T) => Attributes): Promise<T> {
  if (!span) return p;
  p.then(
    (v) => endSpan(span, attributes ? () => attributes(v) : undefined),
    (err: unknown) => endSpan(span, undefined, err),
  );
  return p;
}
