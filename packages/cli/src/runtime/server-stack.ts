import { UnavailableError } from '@tierkv/core';
import type { ServerConfig } from '../config/server-config.js';

export interface StackOptions {
  log?: (line: string) => void;
}

export interface RunningServerStack {
  close(): Promise<void>;
}

/** Builds telemetry, the storage manager with its L2 tiers, the controller worker client and the server. */
export async function startServerStack(config: ServerConfig, options: StackOptions = {}): Promise<RunningServerStack> {
  void config;
  void options;
  throw new UnavailableError('the storage server is not available yet');
}
