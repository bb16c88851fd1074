export { TierkvServer } from './server/tierkv-server.js';
export type { ServerAddresses, ServerState } from './server/tierkv-server.js';
export { DEFAULT_SERVER_OPTIONS, resolveServerOptions, SERVER_TRANSPORTS } from './server/server-options.js';
export type { TierkvServerOptions, ResolvedTierkvServerOptions, MetricsScrape, ServerTransportName } from './server/server-options.js';
export { shutdownOnSignals } from './server/shutdown-on-signals.js';
export type { ShutdownOnSignalsOptions } from './server/shutdown-on-signals.js';

export { TierkvClient } from './client/tierkv-client.js';
export type { ChunkKeys, RetrieveResult, StoreResult } from '@tierkv/core';
export type {
  CallOptions,
  LayoutCallOptions,
  StoreOptions,
  ServerStoreResult,
  RetrieveOptions,
  LookupOptions,
  LookupResult,
  PingResult,
  Tier,
} from './client/client-calls.js';
export { DEFAULT_CLIENT_OPTIONS } from './client/client-options.js';
export type { TierkvClientOptions, ResolvedTierkvClientOptions } from './client/client-options.js';
export { ServerBusyError } from './client/client-errors.js';
export type { ServerReplyError } from './client/client-errors.js';

export { PROTOCOL_VERSION, REQUEST_TYPES, ERROR_CODES } from './protocol/messages.js';
export { DURABILITIES } from './protocol/messages.js';
export type { RequestType, ErrorCode, ServerStatus, TierStatus, Durability, WireStoreOutcome } from './protocol/messages.js';
export { SERVER_PACKAGE_VERSION } from './version.js';
