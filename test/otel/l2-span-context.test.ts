import { expect } from 'chai';
import { context, trace, type Span } from '@opentelemetry/api';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { AsyncLocalStorageContextManager } from '@tierkv/otel';
import { InstrumentedL2Adapter, MemoryL2Adapter, type L2StoreItem } from '@tierkv/storage';
import { createTestTracerProvider } from '@tierkv/test-utils';

const layout = MemoryLayout.bytes(64);
const items = (n: number): L2StoreItem[] => Array.from({ length: n }, (_, i) => ({ key: objectKey(i.toString(16).padStart(16, '0'), 'l2-span-context'), layout, data: new Uint8Array(64).fill(i) }));

// An L2 call's span is the parent of the spans the adapter starts itself (Redis commands, a user's
// adapter), so such calls run in its context; the built-in memory and fs adapters start none, and
// their calls skip entering a context (AsyncLocalStorage), which costs on every traced L2 call.
describe('the context an L2 adapter call runs in', () => {
  const manager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(manager.enable()));
  after(() => {
    context.disable();
    manager.disable();
  });

  it("an adapter with spans of its own (here a subclass of the memory adapter) runs in the L2 span's context: its spans nest", async () => {
    const t = createTestTracerProvider();
    const tracer = t.tracerProvider.getTracer('user-adapter');
    class TracingAdapter extends MemoryL2Adapter {
      override store(batch: readonly L2StoreItem[]): Promise<boolean[]> {
        return tracer.startActiveSpan('user store', (span: Span) => super.store(batch).finally(() => span.end()));
      }
    }
    const adapter = new InstrumentedL2Adapter(new TracingAdapter(), { tracerProvider: t.tracerProvider });
    expect(await adapter.store(items(3))).to.deep.equal([true, true, true]);
    expect(t.span('user store').parentSpanContext?.spanId).to.equal(t.span('tierkv.l2 store').spanContext().spanId);
    await adapter.close();
  });

  it('the built-in memory adapter runs outside it: no span is active inside its call, and the L2 span is still recorded', async () => {
    const t = createTestTracerProvider();
    const inner = new MemoryL2Adapter();
    const original = inner.store.bind(inner);
    let active: Span | undefined | null = null;
    inner.store = (batch, reasons) => {
      active = trace.getActiveSpan();
      return original(batch, reasons);
    };
    const adapter = new InstrumentedL2Adapter(inner, { tracerProvider: t.tracerProvider });
    expect(await adapter.store(items(2))).to.deep.equal([true, true]);
    expect(active, 'the store ran').to.not.equal(null);
    expect(active, 'no active span inside the memory adapter').to.equal(undefined);
    expect(t.span('tierkv.l2 store').attributes).to.include({ 'tierkv.keys.count': 2, 'tierkv.keys.ok': 2 });
    await adapter.close();
  });
});
