import { diag, type Attributes, type Meter, type Observable } from '@opentelemetry/api';
import { metricDefinition } from './metric-catalog.js';

/** Reports one value of an observable catalog metric during a collection. */
export type Observe = (name: string, value: number, attributes?: Attributes) => void;
export type ObserveCallback = (observe: Observe) => void;

export interface Contribution {
  readonly names: readonly string[];
  readonly callback: ObserveCallback;
}

let callbackErrors = 0;

/** Observer callbacks that threw, process-wide (read by the telemetry module's own metrics). */
export function telemetryCallbackErrors(): number {
  return callbackErrors;
}

type Sums = Map<string, Map<string, { attributes: Attributes | undefined; value: number }>>;

/**
 * One per (meter, scope): owns the observable instruments and sums what every live module instance
 * reports. Two StorageManagers in one process each contribute; the SDK would otherwise keep only the
 * last observation for an attribute set.
 *
 * A counter is monotonic for the life of the process: when an instance goes away its counters'
 * last totals are kept (per metric and attribute set, so bounded by the catalog's attributes, not
 * by how many instances come and go) and added to every later collection. Otherwise a closed
 * instance would take its counts with it, which Prometheus reads as a counter reset, and a final
 * export after close would miss them. Gauges of a closed instance simply disappear.
 */
export class ObservationHub {
  readonly #meter: Meter;
  readonly #instruments = new Map<string, Observable>();
  readonly #contributions = new Set<Contribution>();
  // Counter totals of contributions that were removed, by metric name and attribute set.
  readonly #retired: Sums = new Map();
  #registered: Observable[] | undefined;

  constructor(meter: Meter) {
    this.#meter = meter;
  }

  get size(): number {
    return this.#contributions.size;
  }

  add(contribution: Contribution): void {
    let grew = false;
    for (const name of contribution.names) {
      if (!this.#instruments.has(name)) {
        this.#instruments.set(name, this.#create(name));
        grew = true;
      }
    }
    this.#contributions.add(contribution);
    if (grew || !this.#registered) this.#register();
  }

  remove(contribution: Contribution): void {
    if (!this.#contributions.delete(contribution)) return;
    this.#retire(contribution);
    if (this.#contributions.size === 0 && this.#retired.size === 0) this.#unregister();
  }

  /** Keeps the final counter totals of a contribution that goes away. */
  #retire(contribution: Contribution): void {
    const observe = adder(this.#retired, (name) => metricDefinition(name).kind === 'observable_counter');
    try {
      contribution.callback(observe);
    } catch (err) {
      callbackErrors++;
      diag.warn('tierkv: a metric callback threw while its instance closed; its last counts are lost', err);
    }
  }

  #create(name: string): Observable {
    const def = metricDefinition(name);
    const opts = { description: def.description, unit: def.unit };
    switch (def.kind) {
      case 'observable_counter':
        return this.#meter.createObservableCounter(name, opts);
      case 'observable_updowncounter':
        return this.#meter.createObservableUpDownCounter(name, opts);
      case 'observable_gauge':
        return this.#meter.createObservableGauge(name, opts);
      default:
        throw new Error(`${name} is a ${def.kind} in the catalog; observe() takes observable metrics only`);
    }
  }

  #register(): void {
    this.#unregister();
    this.#registered = [...this.#instruments.values()];
    this.#meter.addBatchObservableCallback(this.#collect, this.#registered);
  }

  #unregister(): void {
    if (this.#registered) this.#meter.removeBatchObservableCallback(this.#collect, this.#registered);
    this.#registered = undefined;
  }

  readonly #collect = (result: { observe(o: Observable, v: number, a?: Attributes): void }): void => {
    const sums: Sums = new Map();
    for (const [name, byAttrs] of this.#retired) {
      sums.set(name, new Map([...byAttrs].map(([k, v]) => [k, { attributes: v.attributes, value: v.value }])));
    }
    const observe = adder(sums, () => true);
    for (const c of this.#contributions) {
      try {
        c.callback(observe);
      } catch (err) {
        callbackErrors++;
        diag.warn('tierkv: a metric callback threw; its values are skipped for this collection', err);
      }
    }
    for (const [name, byAttrs] of sums) {
      const instrument = this.#instruments.get(name);
      if (!instrument) continue;
      for (const { attributes, value } of byAttrs.values()) result.observe(instrument, value, attributes);
    }
  };
}

/** An Observe that adds each value into `sums` (for the metrics `keep` accepts). */
function adder(sums: Sums, keep: (name: string) => boolean): Observe {
  return (name, value, attributes) => {
    if (!Number.isFinite(value) || !keep(name)) return;
    let byAttrs = sums.get(name);
    if (!byAttrs) sums.set(name, (byAttrs = new Map()));
    const key = attributes ? attributeKey(attributes) : '';
    const cur = byAttrs.get(key);
    if (cur) cur.value += value;
    else byAttrs.set(key, { attributes, value });
  };
}

function attributeKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  let out = '';
  for (const k of keys) out += `${k}\u0000${String(attributes[k])}\u0001`;
  return out;
}
