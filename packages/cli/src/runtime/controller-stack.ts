import { UnavailableError } from '@tierkv/core';
import type { ControllerConfig } from '../config/controller-config.js';

export interface RunningControllerStack {
  close(): Promise<void>;
}

export async function startControllerStack(config: ControllerConfig, options: { log?: (line: string) => void } = {}): Promise<RunningControllerStack> {
  void config;
  void options;
  throw new UnavailableError('the cache controller is not available yet');
}
