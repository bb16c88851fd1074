/** Per-key outcome of an L1 call (the seven codes of LMCache's L1 manager). */
export type L1ResultCode =
  | 'SUCCESS'
  | 'KEY_NOT_EXIST'
  | 'KEY_NOT_READABLE'
  | 'KEY_NOT_WRITABLE'
  | 'KEY_IN_WRONG_STATE'
  | 'KEY_IS_LOCKED'
  | 'OUT_OF_MEMORY';

/** One key's result; `obj` is set for SUCCESS on calls that hand out memory. */
export interface L1KeyResult<T> {
  readonly code: L1ResultCode;
  readonly obj?: T;
}
