import type { ObjectKey } from '@tierkv/core';

export type L2Operation = 'store' | 'load' | 'lookup' | 'delete';

/** Observes one L2 adapter. Every method is optional; a throwing listener is isolated and counted. */
export interface L2Listener {
  onL2KeysStored?(adapter: string, keys: readonly ObjectKey[]): void;
  onL2KeysLoaded?(adapter: string, keys: readonly ObjectKey[]): void;
  onL2KeysDeleted?(adapter: string, keys: readonly ObjectKey[]): void;
  /** Keys an operation failed for (including corrupt objects found by a load). */
  onL2KeysFailed?(adapter: string, operation: L2Operation, keys: readonly ObjectKey[], error?: unknown): void;
}
