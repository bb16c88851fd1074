import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

export interface TestTracerProvider {
  readonly tracerProvider: TracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** The ended span named `name` (throws unless exactly one). */
  span(name: string): ReadableSpan;
}

/** An SDK TracerProvider that keeps every ended span in memory (always on). */
export function createTestTracerProvider(): TestTracerProvider {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const spans = () => exporter.getFinishedSpans();
  return {
    tracerProvider,
    exporter,
    spans,
    span(name) {
      const found = spans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one span ${name}, found ${found.length} among ${spans().map((s) => s.name).join(', ') || 'none'}`);
      return found[0]!;
    },
  };
}
