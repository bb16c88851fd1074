import type { BenchMeasurement } from '../scenario.js';
import type { Spread } from '../stats.js';
import type { MachineInfo } from './machine.js';

/** How a subject's goal is read: a minimum ratio to its reference, or an absolute bound. */
export type GoalKind = 'ratio' | 'min' | 'max';

/** One subject of one scenario over all repetitions. */
export interface SubjectResult {
  readonly subject: string;
  readonly unit: BenchMeasurement['unit'];
  /** One value per repetition (warm-up excluded). */
  readonly values: readonly number[];
  readonly spread: Spread;
  readonly reference?: string;
  /** Ratio to the reference per repetition (paired), oriented so that higher is better. */
  readonly ratio?: Spread;
  readonly goal?: number;
  readonly goalKind?: GoalKind;
  /** Whether the median (ratio or value) meets the goal; absent without a goal. */
  readonly goalMet?: boolean;
  readonly note?: string;
}

export type ScenarioStatus = 'ok' | 'failed' | 'skipped';

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly status: ScenarioStatus;
  /** Why it failed or was skipped. */
  readonly reason?: string;
  readonly repetitions: number;
  readonly durationS: number;
  readonly subjects: readonly SubjectResult[];
}

export interface BenchReport {
  readonly date: string;
  readonly quick: boolean;
  readonly repeat: number;
  readonly warmup: number;
  readonly machine: MachineInfo;
  /** Peer library (and server binary) versions, by name. */
  readonly peers: Readonly<Record<string, string>>;
  readonly scenarios: readonly ScenarioResult[];
  readonly durationS: number;
  /** False when any scenario failed. */
  readonly ok: boolean;
}
