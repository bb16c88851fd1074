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

/**
 * One per (meter, scope): owns the observable instruments and sums what every live module instance
 * reports. Two StorageManagers in one process each contribute; the SDK would otherwise keep only the
 * last observation for an attribute set.
 */
export class ObservationHub {
  readonly #meter: Meter;
  readonly #instruments = new Map<string, Observable>();
  readonly #contributions = new Set<Contribution>();
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
    this.#contributions.delete(contribution);
    if (this.#contributions.size === 0) this.#unregister();
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
    const sums = new Map<string, Map<string, { attributes: Attributes | undefined; value: number }>>();
    const observe: Observe = (name, value, attributes) => {
      if (!Number.isFinite(value)) return;
      let byAttrs = sums.get(name);
      if (!byAttrs) sums.set(name, (byAttrs = new Map()));
      const key = attributes ? attributeKey(attributes) : '';
      const cur = byAttrs.get(key);
      if (cur) cur.value += value;
      else byAttrs.set(key, { attributes, value });
    };
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

function attributeKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  let out = '';
  for (const k of keys) out += `${k}\u0000${String(attributes[k])}\u0001`;
  return out;
}
