import { UnavailableError } from '@tierkv/core';
import type { DemoConfig } from '../config/demo-config.js';

export async function runDemo(config: DemoConfig): Promise<number> {
  void config;
  throw new UnavailableError('the demo is not available yet');
}
