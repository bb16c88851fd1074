import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { thrownBy, waitFor } from '@tierkv/test-utils';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { DEFAULT_SERVER_CONFIG, SERVER_CONFIG_FIELDS, serverConfigSchema, type ServerConfig } from '../../src/config/server-config.js';
import { startServerStack } from '../../src/runtime/server-stack.js';

const unpackr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

function server(flags: Record<string, string>, env: Record<string, string> = {}): ServerConfig {
  return resolveConfig(serverConfigSchema, SERVER_CONFIG_FIELDS, { defaults: DEFAULT_SERVER_CONFIG, env, flags });
}

describe('tierkv server --vllm-events-port', () => {
  it('flags and env vars set vllmEvents; replay port and topic need the events port', () => {
    expect(server({}).vllmEvents).to.deep.equal({});
    expect(server({ 'vllmEvents.port': '5557', 'vllmEvents.replayPort': '5558', 'vllmEvents.topic': 'kv' }).vllmEvents).to.deep.equal({ port: 5557, replayPort: 5558, topic: 'kv' });
    expect(server({}, { TIERKV_VLLM_EVENTS_PORT: '6000' }).vllmEvents.port).to.equal(6000);
    const err = thrownBy(() => server({ 'vllmEvents.replayPort': '5558' }), ConfigError);
    expect(err.message).to.contain('--vllm-events-port');
  });

  it('a running server publishes its chunks to a vLLM SUB (chunk size as block size, L1 CPU, fs DISK)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tierkv-cli-vllm-'));
    const config = server({ 'l2.fs.path': dir, 'server.port': '0', 'server.httpPort': '0', 'vllmEvents.port': '0', 'vllmEvents.replayPort': '0', 'vllmEvents.topic': 'kv', chunkSize: '64' });
    const stack = await startServerStack(config, { env: {} });
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 20_000 });
    try {
      expect(stack.vllmEvents?.replayEndpoint).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      sub.connect(stack.vllmEvents!.endpoint!);
      sub.subscribe('kv');
      const seen: unknown[][] = [];
      void (async () => {
        try {
          for await (const [, , payload] of sub) seen.push(...(unpackr.unpack(payload!) as [number, unknown[][]])[1]);
        } catch {
          /* closed */
        }
      })();
      const layout = MemoryLayout.bytes(256);
      let n = 0;
      // The SUB joins late: keep storing fresh chunks until their events arrive.
      await waitFor(
        async () => {
          const k = objectKey((0xfe00_0000_0000_0000n + BigInt(n++)).toString(16), 'model');
          stack.storage.reserveWrite([k], layout)[0]!.data.fill(1);
          stack.storage.finishWrite([k]);
          await stack.storage.flush();
          const media = new Set(seen.filter((e) => e[0] === 'BlockStored').map((e) => e[6]));
          return media.has('CPU') && media.has('DISK');
        },
        'BlockStored on CPU and DISK',
        20_000,
        100,
      );
      const e = seen.find((x) => x[0] === 'BlockStored')!;
      expect(e[4]).to.equal(64);
      expect((e[1] as bigint[])[0]! >= 0xfe00_0000_0000_0000n).to.equal(true);
    } finally {
      sub.close();
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
