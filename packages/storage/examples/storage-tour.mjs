// A short tour of @tierkv/storage: write KV chunks into a small L1, watch them spill to the
// filesystem L2 as L1 evicts, then prefetch a prefix back and check every byte.
//
//   npm run build && node packages/storage/examples/storage-tour.mjs
//
// Debug logs: NODE_DEBUG=tierkv:* node packages/storage/examples/storage-tour.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';

const MIB = 1024 * 1024;
// One chunk: K and V of 8 heads x 256 tokens x 8 dims in float16 = 64 KiB.
const layout = new MemoryLayout([[2, 8, 256, 8]], ['float16']);
const hasher = new TokenHasher({ chunkSize: 256 });

// A "prompt" of 32 chunks (8192 tokens): its chained chunk hashes are the object keys.
const tokens = Array.from({ length: 32 * 256 }, (_, i) => (i * 7919) % 32_000);
const keys = hasher.keysFor(tokens, { modelName: 'tour-model' });
const fill = (i) => {
  const bytes = new Uint8Array(layout.byteSize);
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j) & 0xff;
  return bytes;
};

const dir = await mkdtemp(join(tmpdir(), 'tierkv-tour-'));
const l2 = await FsL2Adapter.open({ path: dir, capacityBytes: 64 * MIB });
const sm = new StorageManager({ l1: { capacityBytes: 1 * MIB }, l2: [l2] });
const line = (s) => console.log(s);
const show = (what) => {
  const u = sm.usage();
  const f = u.l2[0];
  line(`  ${what.padEnd(34)} L1 ${String(u.l1.objects).padStart(2)} objects ${(u.l1.usedBytes / 1024).toFixed(0).padStart(5)} KiB | fs L2 ${String(f.objects).padStart(2)} objects ${(f.usedBytes / 1024).toFixed(0).padStart(5)} KiB`);
};

let evicted = 0;
sm.addListener({ onSmKeysEvicted: (ks) => (evicted += ks.length) });

line(`tierkv storage tour: chunk ${layout} (${layout.byteSize / 1024} KiB), L1 1 MiB, filesystem L2 in ${dir}`);
line('1. write 32 chunks (2 MiB) into a 1 MiB L1; each finished write is copied to the fs L2 in the background');
for (let i = 0; i < keys.length; i += 4) {
  const batch = keys.slice(i, i + 4);
  const objs = sm.reserveWrite(batch, layout);
  objs.forEach((o, j) => o?.data.set(fill(i + j)));
  sm.finishWrite(batch.filter((_, j) => objs[j]));
  await sm.flush(); // the write-through holds read locks; once it lands, L1 may evict
}
show('after writing:');
line(`  L1 evicted ${evicted} chunks to make room; they live on in L2`);

line('2. where does each chunk live now?');
const tiers = await sm.lookup(keys);
const count = (t) => tiers.filter((x) => x === t).length;
line(`  l1: ${count('l1')}, l2 only: ${count('l2')}, nowhere: ${count('miss')}`);

line('3. prefetch the first 16 chunks: L1 hits are locked at once, the rest of the prefix is loaded back from L2');
const hits = [];
sm.addListener({ onSmPrefetchSubmitted: (req, l1Hits, l2Hits) => hits.push({ req: req.length, l1Hits, l2Hits }) });
const first16 = keys.slice(0, 16);
const t0 = performance.now();
const handle = sm.submitPrefetch(first16, layout);
line(`  status right after submit: ${sm.queryPrefetchStatus(handle) ?? 'pending'}`);
const ready = await sm.waitPrefetch(handle);
const ms = (performance.now() - t0).toFixed(1);
line(`  ready prefix: ${ready}/${first16.length} chunks in ${ms} ms (from L1: ${hits[0].l1Hits}, from L2: ${hits[0].l2Hits})`);

const objs = sm.readPrefetched(first16.slice(0, ready));
const ok = objs.every((o, i) => o.data.every((b, j) => b === ((i * 31 + j) & 0xff)));
line(`  every byte checked: ${ok ? 'identical to what was written' : 'MISMATCH'}`);
sm.finishReadPrefetched(first16.slice(0, ready));
show('after prefetch:');

line('4. close: pending L2 stores are flushed, the fs L2 keeps its objects for the next run');
await sm.close();
const reopened = await FsL2Adapter.open({ path: dir });
line(`  reopened ${dir}: ${reopened.usage().objects} objects survived the restart`);
await reopened.close();
await rm(dir, { recursive: true, force: true });
if (!ok || ready !== first16.length) process.exitCode = 1;
