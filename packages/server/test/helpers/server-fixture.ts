import { MemoryLayout } from '@tierkv/core';
import type { MeterProvider } from '@opentelemetry/api';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import type { TierkvClientOptions } from '../../src/client/client-options.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import type { TierkvServerOptions } from '../../src/server/server-options.js';
import { FakeStorage } from './fake-storage.js';

export const LAYOUT = MemoryLayout.bytes(4096);

/** A server on free loopback ports over a FakeStorage, and the clients a test opens; `close()` closes all. */
export class ServerFixture {
  readonly storage = new FakeStorage();
  readonly clients: TierkvClient[] = [];
  server!: TierkvServer;
  now = 0;
  readonly #transport: 'zeromq' | 'tcp';

  /** `transport`: the server's (its endpoint tells the clients). @default 'zeromq' */
  constructor(transport: 'zeromq' | 'tcp' = 'zeromq') {
    this.#transport = transport;
  }

  async start(options: Partial<TierkvServerOptions> = {}, meterProvider?: MeterProvider): Promise<this> {
    this.server = new TierkvServer({
      storage: this.storage.asStorageManager(),
      port: 0,
      httpPort: 0,
      now: () => this.now,
      transport: this.#transport,
      ...(meterProvider ? { meterProvider } : {}),
      ...options,
    });
    await this.server.start();
    return this;
  }

  client(options: TierkvClientOptions = {}): TierkvClient {
    const c = new TierkvClient({ endpoint: this.server.endpoint, layout: LAYOUT, timeoutMs: 5_000, ...options });
    this.clients.push(c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.server?.shutdown(1_000);
  }
}
