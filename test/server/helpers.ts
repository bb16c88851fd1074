import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter, StorageManager, type L2Adapter } from '@tierkv/storage';
import { TierkvClient, TierkvServer, type TierkvServerOptions } from '@tierkv/server';

/** A deterministic key for index `i`. */
export function key(i: number, model = 'e2e-model'): ObjectKey {
  return objectKey(createHash('sha256').update(`e2e-${i}`).digest('hex').slice(0, 16), model);
}

/** `size` bytes that differ for every seed (xorshift), so a swapped or stale chunk is caught. */
export function bytesFor(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = (seed + i) & 0xff;
  return out;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export interface Stack {
  storage: StorageManager;
  server: TierkvServer;
  clients: TierkvClient[];
  client(layout: MemoryLayout, timeoutMs?: number): TierkvClient;
  close(): Promise<void>;
}

/** A StorageManager (L1 + filesystem L2 in `dir`) served by a TierkvServer on free loopback ports. */
export async function startStack(
  dir: string,
  l1Bytes: number,
  options: Partial<TierkvServerOptions> = {},
  wrapL2: (fs: L2Adapter) => L2Adapter = (fs) => fs,
): Promise<Stack> {
  const fs = await FsL2Adapter.open({ path: dir, capacityBytes: 1 << 30 });
  const storage = new StorageManager({ l1: { capacityBytes: l1Bytes }, l2: [wrapL2(fs)] });
  const server = new TierkvServer({ storage, port: 0, httpPort: 0, ...options });
  await server.start();
  const clients: TierkvClient[] = [];
  return {
    storage,
    server,
    clients,
    client(layout, timeoutMs = 10_000) {
      const c = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.shutdown(2_000);
    },
  };
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface ChildServer {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Runs `fixtures/<script>` under `node --import tsx` and waits for its first JSON line. */
export async function spawnFixture(script: string, env: Record<string, string>, timeoutMs = 20_000): Promise<ChildServer & { ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${FIXTURES}${script}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not report ready within ${timeoutMs} ms: ${out}`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`${script} printed ${line}; stderr: ${out}`));
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready: ${out}`));
    });
  });
  lines.on('line', (line) => (out = (out + line + '\n').slice(-8000)));
  return { child, endpoint: String(ready['endpoint'] ?? ''), exited, output: () => out, ready };
}
