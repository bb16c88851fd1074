/**
 * Why an L2 key failed: the `reason` attribute of `tierkv.l2.failures`. A closed set, so the
 * attribute stays bounded whatever an adapter or a backend says (never a path, key or message).
 *
 * - `no_space`: no room: the device is full or over quota (ENOSPC, EDQUOT), or the adapter's
 *   budget cannot make room (an object larger than the budget, the rest pinned).
 * - `permission`: the backend refused access (EACCES, EPERM, EROFS).
 * - `missing_dir`: a directory the write needs is gone and could not be recreated (ENOENT, ENOTDIR).
 * - `io`: any other operating-system error (EIO, EMFILE, ...).
 * - `corrupt`: the stored object failed verification (it is dropped, never returned).
 * - `miss`: a load found no usable object (absent, removed behind the adapter's back, another size
 *   or layout); the caller had found it by lookupAndLock, so it still counts as a failed load.
 * - `timeout`: the backend did not answer in time.
 * - `rejected`: the whole batch was rejected (backend down, a thrown error) for no more specific cause.
 * - `other`: the adapter answered false without saying why (adapters that report no reason), or a
 *   cause outside this list.
 */
export const L2_FAILURE_REASONS = ['no_space', 'permission', 'missing_dir', 'io', 'corrupt', 'miss', 'timeout', 'rejected', 'other'] as const;
export type L2FailureReason = (typeof L2_FAILURE_REASONS)[number];

/**
 * The optional reason channel of one store or load call: the caller passes an empty array, and the
 * adapter may set `reasons[i]` for a key i it answers false. Unset entries count as `other`. Being
 * per call, overlapping calls never see each other's reasons.
 */
export type L2FailureReasons = (L2FailureReason | undefined)[];

const REASON_SET: ReadonlySet<string> = new Set(L2_FAILURE_REASONS);

/** True for a member of the closed set (anything an adapter writes is checked before use). */
export function isL2FailureReason(value: unknown): value is L2FailureReason {
  return typeof value === 'string' && REASON_SET.has(value);
}

/**
 * The reason of an error: its own `reason` when it names one of the set, else its errno `code`
 * (ENOSPC → no_space, EACCES → permission, ...), else a timeout by name or code, else `fallback`.
 */
export function classifyError(err: unknown, fallback: L2FailureReason = 'other'): L2FailureReason {
  const e = err as { reason?: unknown; code?: unknown; name?: unknown } | null | undefined;
  if (e === null || typeof e !== 'object') return fallback;
  if (isL2FailureReason(e.reason)) return e.reason;
  const code = typeof e.code === 'string' ? e.code : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no_space';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'missing_dir';
    case 'ETIMEDOUT':
    case 'ERR_TIMEOUT':
      return 'timeout';
    default:
      break;
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  // Any other errno-style code (EIO, EMFILE, EBUSY...) is an operating-system failure.
  if (/^E[A-Z0-9]+$/.test(code)) return 'io';
  return fallback;
}
