import type { ObjectKey } from '@tierkv/core';

/** Why an object left L1 without being deleted by a caller. */
export type EvictionReason = 'watermark' | 'on_demand' | 'lock_expired' | 'temporary_released';

/**
 * Observes L1 state changes. Every method is optional; a listener that throws is isolated and
 * counted, and never breaks the storage path. Keys arrays are the keys that succeeded.
 */
export interface L1Listener {
  onL1KeysReservedWrite?(keys: readonly ObjectKey[]): void;
  /** Writes made readable. Temporary objects are left out: they are staging buffers, not data to store elsewhere. */
  onL1KeysWriteFinished?(keys: readonly ObjectKey[]): void;
  /** Reservations given up by abortWrite (the keys are absent again). */
  onL1KeysWriteAborted?(keys: readonly ObjectKey[]): void;
  onL1KeysReservedRead?(keys: readonly ObjectKey[]): void;
  onL1KeysReadFinished?(keys: readonly ObjectKey[]): void;
  onL1KeysDeleted?(keys: readonly ObjectKey[]): void;
  onL1KeysEvicted?(keys: readonly ObjectKey[], reason: EvictionReason): void;
}
