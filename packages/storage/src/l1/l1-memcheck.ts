import { encodeKey } from '@tierkv/core';
import type { EvictionPolicy, SlotId } from '../eviction/eviction-policy.js';
import type { BlockId, TlsfAllocator } from './allocator.js';
import type { MemcheckReport } from './l1-usage.js';
import type { LockTable } from './lock-table.js';
import { STATE_FREE, STATE_WRITE_LOCKED, type SlotTable } from './slot-table.js';

/** What L1Manager.memcheck() cross-checks: its parts, and the counts it keeps beside them. */
export interface L1Parts {
  readonly allocator: TlsfAllocator;
  readonly slots: SlotTable;
  readonly locks: LockTable;
  readonly policy: EvictionPolicy;
  readonly recorded: { readonly writeLocked: number; readonly readLocked: number; readonly evictableBytes: number };
}

/**
 * Checks that the allocator's accounting (free + used = arena, no overlap, free lists sound), the
 * index (keys ↔ slots ↔ blocks) and the lock and eviction bookkeeping agree. Walks every slot: for
 * tests and debugging, never on a hot path.
 */
export function checkL1({ allocator, slots, locks, policy, recorded }: L1Parts): MemcheckReport {
  const problems = allocator.check();
  problems.push(...slots.check());
  let writeLocked = 0;
  let readLocked = 0;
  let objects = 0;
  let blockBytes = 0;
  let tracked = 0;
  let evictableBytes = 0;
  const seenBlocks = new Set<number>();
  for (let i = 0; i < slots.high; i++) {
    const s = i as SlotId;
    const state = slots.stateOf(s);
    if (state === STATE_FREE) {
      if (policy.has(s)) problems.push(`free slot ${s} is in the eviction policy`);
      continue;
    }
    objects++;
    const block: number = slots.blockOf(s);
    if (!allocator.isAllocated(block)) {
      problems.push(`slot ${s} (${encodeKey(slots.keys[s]!)}) points at block ${block}, which is not allocated`);
      continue;
    }
    if (seenBlocks.has(block)) problems.push(`block ${block} is shared by two objects`);
    seenBlocks.add(block);
    const size = allocator.sizeOf(block as BlockId);
    blockBytes += size;
    if (slots.blockBytesOf(s) !== size) problems.push(`slot ${s}: records a block of ${slots.blockBytesOf(s)} bytes, the allocator says ${size}`);
    if (size < slots.bytesOf(s)) problems.push(`slot ${s}: block of ${size} bytes holds an object of ${slots.bytesOf(s)}`);
    const obj = slots.objs[s];
    if (!obj || obj.data.byteLength !== slots.bytesOf(s)) problems.push(`slot ${s}: MemoryObj view does not match its size`);
    else if (obj.layout.byteSize !== slots.bytesOf(s)) problems.push(`slot ${s}: layout size ${obj.layout.byteSize} != ${slots.bytesOf(s)}`);
    const inPolicy = policy.has(s);
    if (state === STATE_WRITE_LOCKED) {
      writeLocked++;
      if (locks.readCount(s) !== 0) problems.push(`slot ${s} is write-locked with ${locks.readCount(s)} read locks`);
      if (inPolicy) problems.push(`write-locked slot ${s} is evictable`);
    } else {
      // Ready objects are all tracked by the policy; the read-locked ones are not evictable.
      if (!inPolicy) problems.push(`ready slot ${s} is missing from the eviction policy`);
      tracked++;
      if (locks.readCount(s) > 0) readLocked++;
      else evictableBytes += size;
    }
  }
  if (objects !== allocator.usedBlockCount) problems.push(`${allocator.usedBlockCount} allocated blocks but ${objects} objects (leak)`);
  if (blockBytes !== allocator.usedBytes) problems.push(`objects hold ${blockBytes} bytes, allocator says ${allocator.usedBytes} used`);
  if (writeLocked !== recorded.writeLocked) problems.push(`write-locked count ${recorded.writeLocked} recorded, ${writeLocked} found`);
  if (readLocked !== recorded.readLocked) problems.push(`read-locked count ${recorded.readLocked} recorded, ${readLocked} found`);
  if (tracked !== policy.size) problems.push(`eviction policy holds ${policy.size} objects, ${tracked} are ready`);
  if (evictableBytes !== recorded.evictableBytes) problems.push(`evictable bytes ${recorded.evictableBytes} recorded, ${evictableBytes} found`);
  return { ok: problems.length === 0, problems };
}
