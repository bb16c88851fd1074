/**
 * Per-key outcome of an L1 call: the seven codes of LMCache's L1 manager, plus LOCK_NOT_HELD for a
 * call that names a lock generation the key no longer has (the lock expired, was released or
 * reissued, or was never the caller's): such a call is refused and changes nothing.
 */
export type L1ResultCode =
  | 'SUCCESS'
  | 'KEY_NOT_EXIST'
  | 'KEY_NOT_READABLE'
  | 'KEY_NOT_WRITABLE'
  | 'KEY_IN_WRONG_STATE'
  | 'KEY_IS_LOCKED'
  | 'OUT_OF_MEMORY'
  | 'LOCK_NOT_HELD';

/** One key's result; `obj` is set for SUCCESS on calls that hand out memory. */
export interface L1KeyResult<T> {
  readonly code: L1ResultCode;
  readonly obj?: T;
}
