import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { ServerBusyError, TierkvClient } from '@tierkv/server';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';
import { waitFor } from '@tierkv/test-utils';
import { startCli, type RunningCli } from '../cli/helpers/run-cli.js';

/**
 * `tierkv server` as a child process under store load, stopped by a signal right after some stores
 * were acknowledged; then a fresh StorageManager opens the same fs L2 directory and every
 * acknowledged chunk is looked for. What each mode promises is in docs/reliability.md.
 */
const CHUNK = 64 * 1024;
const LAYOUT = MemoryLayout.bytes(CHUNK);
const WRITERS = 4;
const PER_STORE = 4;

const keyOf = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'chaos');

function bytesOf(i: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  new DataView(out.buffer).setUint32(0, i);
  out.fill(i & 0xff, 4);
  return out;
}

interface Outcome {
  acked: number;
  lost: number;
  wrong: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  output: string;
}

/** Stores under load until `ackedBefore` stores were acknowledged, sends `signal`, counts the acknowledged chunks that did not survive. */
async function run(dir: string, durability: 'memory' | 'l2', signal: 'SIGKILL' | 'SIGTERM', ackedBefore: number): Promise<Outcome> {
  const l2 = join(dir, 'l2');
  const cli: RunningCli = startCli(['server', '--port', '0', '--http-port', '0', '--l1-size', '64MiB', '--fs-path', l2, '--durability', durability, '--metrics-exporter', 'none'], { cwd: dir, timeoutMs: 120_000 });
  try {
    const endpoint = await waitFor(
      () => {
        if (cli.child.exitCode !== null) throw new Error(`tierkv server exited (${cli.child.exitCode}):\n${cli.stdout()}\n${cli.stderr()}`);
        return /serving (tcp:\/\/\S+)/.exec(cli.stdout())?.[1];
      },
      'the server to listen',
      30_000,
    );
    const acked = new Set<number>();
    let killed = false;
    const clients = Array.from({ length: WRITERS }, () => new TierkvClient({ endpoint, layout: LAYOUT, timeoutMs: 30_000, reconnectOnTimeout: false }));
    const writers = clients.map(async (c, w) => {
      for (let n = 0; ; n++) {
        const ids = Array.from({ length: PER_STORE }, (_, j) => (w * 1_000_000 + n * PER_STORE + j));
        try {
          // No per-call durability: the server's --durability is what an acknowledgement means.
          const res = await c.store(ids.map(keyOf), ids.map(bytesOf));
          expect(res.durability).to.equal(durability);
          res.stored.forEach((ok, j) => ok && acked.add(ids[j]!));
        } catch (err) {
          if (err instanceof ServerBusyError && !killed) {
            n--;
            continue;
          }
          return; // the server went away (or refuses during shutdown): nothing more is acknowledged
        }
        if (!killed && acked.size >= ackedBefore) {
          // Right after an acknowledgement, while the other writers' stores are in flight.
          killed = true;
          cli.child.kill(signal);
        }
      }
    });
    const exit = await cli.exited;
    // Replies the server sent before it died have been received by now or never will be.
    for (const c of clients) c.close();
    await Promise.all(writers);

    const fresh = new StorageManager({ l1: { capacityBytes: 64 * 2 ** 20 }, l2: [await FsL2Adapter.open({ path: l2 })] });
    let lost = 0;
    let wrong = 0;
    try {
      const ids = [...acked];
      for (let j = 0; j < ids.length; j += 32) {
        const batch = ids.slice(j, j + 32);
        const tiers = await fresh.lookup(batch.map(keyOf));
        const present = batch.filter((_, k) => tiers[k] !== 'miss');
        lost += batch.length - present.length;
        const lease = fresh.prefetch(present.map(keyOf), LAYOUT);
        const ready = await lease.ready;
        lost += present.length - ready; // a chunk that fails verification counts as lost
        lease.objects().forEach((o, k) => (wrong += Buffer.from(o.data).equals(Buffer.from(bytesOf(present[k]!))) ? 0 : 1));
        lease.release();
        await fresh.clear();
      }
    } finally {
      await fresh.close();
    }
    return { acked: acked.size, lost, wrong, exit: { code: exit.code, signal: exit.signal }, output: `${cli.stdout()}\n${cli.stderr()}` };
  } finally {
    cli.kill();
  }
}

describe('chaos: acknowledged stores across SIGKILL and SIGTERM of tierkv server', function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tierkv-chaos-durable-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--durability l2: SIGKILL right after acknowledgements loses no acknowledged store', async () => {
    const r = await run(dir, 'l2', 'SIGKILL', 2_000);
    expect(r.exit.signal, r.output).to.equal('SIGKILL');
    console.log(`      l2 mode, SIGKILL: ${r.lost} of ${r.acked} acknowledged stores lost, ${r.wrong} wrong`);
    expect({ lost: r.lost, wrong: r.wrong }).to.deep.equal({ lost: 0, wrong: 0 });
    expect(r.acked).to.be.at.least(2_000);
  });

  it('--durability memory: SIGKILL loses what was still on its way to L2 (reported, no number promised), never returns wrong bytes', async () => {
    const r = await run(dir, 'memory', 'SIGKILL', 2_000);
    expect(r.exit.signal, r.output).to.equal('SIGKILL');
    console.log(`      memory mode, SIGKILL: ${r.lost} of ${r.acked} acknowledged stores lost, ${r.wrong} wrong`);
    expect(r.wrong).to.equal(0);
  });

  it('--durability memory: SIGTERM flushes every acknowledged store before exiting 0', async () => {
    const r = await run(dir, 'memory', 'SIGTERM', 2_000);
    expect(r.exit, r.output).to.deep.equal({ code: 0, signal: null });
    expect(r.output).to.match(/tierkv server: stopped/);
    console.log(`      memory mode, SIGTERM: ${r.lost} of ${r.acked} acknowledged stores lost, ${r.wrong} wrong`);
    expect({ lost: r.lost, wrong: r.wrong }).to.deep.equal({ lost: 0, wrong: 0 });
  });
});
