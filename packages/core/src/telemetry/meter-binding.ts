import {
  metrics,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type MeterProvider,
  type UpDownCounter,
} from '@opentelemetry/api';
import { warnOnApiVersionConflict } from './api-versions.js';
import type { TracerOptions } from './tracer-binding.js';
import { LATENCY_BOUNDARIES_S } from './metric-definition.js';
import { metricDefinition } from './metric-catalog.js';
import { ObservationHub, type Contribution, type ObserveCallback } from './observation-hub.js';

/** Telemetry options every tierkv module accepts. */
export interface TelemetryOptions extends TracerOptions {
  /**
   * The MeterProvider for this module. When absent the module follows the process-wide global
   * provider of `@opentelemetry/api`, including one registered after the module was created.
   */
  meterProvider?: MeterProvider;
}

/** The instrumentation scope a module's meter is created with. */
export interface MeterScope {
  readonly name: string;
  readonly version?: string;
}

/** Creates instruments from catalog names, so unit, description and buckets come from one place. */
export interface InstrumentFactory {
  counter(name: string): Counter;
  upDownCounter(name: string): UpDownCounter;
  histogram(name: string): Histogram;
  gauge(name: string): Gauge;
  /** One callback reporting several observable metrics at collection time (read plain counters here). */
  observe(names: readonly string[], callback: ObserveCallback): void;
}

const NOOP_GAUGE: Gauge = { record: () => undefined };

// The default sink, one function, so the warning comes once per process.
const consoleWarn = (m: string): void => console.warn(m);

const hubs = new WeakMap<MeterProvider, Map<string, ObservationHub>>();

function hubFor(provider: MeterProvider, meter: Meter, scope: MeterScope): ObservationHub {
  let byScope = hubs.get(provider);
  if (!byScope) hubs.set(provider, (byScope = new Map()));
  const key = `${scope.name}@${scope.version ?? ''}`;
  let hub = byScope.get(key);
  if (!hub) byScope.set(key, (hub = new ObservationHub(meter)));
  return hub;
}

/**
 * Binds one module's instruments to a MeterProvider and keeps them bound: `build` runs again when
 * the provider changes (late registration of the host's SDK), and the old observable callbacks are
 * removed. Hot paths use `instruments`, which is always valid (no-op until an SDK is registered).
 */
export class MeterBinding<T> {
  readonly #scope: MeterScope;
  readonly #build: (factory: InstrumentFactory) => T;
  readonly #injected: MeterProvider | undefined;
  #provider: MeterProvider | undefined;
  #instruments!: T;
  #contributions: { hub: ObservationHub; contribution: Contribution }[] = [];
  #closed = false;

  constructor(scope: MeterScope, build: (factory: InstrumentFactory) => T, options: TelemetryOptions = {}) {
    this.#scope = scope;
    this.#build = build;
    this.#injected = options.meterProvider;
    // Two API copies make the global provider invisible or unregistrable: say so at first bind.
    if (!this.#injected) warnOnApiVersionConflict(consoleWarn);
    this.refresh();
    if (!this.#injected) followGlobalProvider(this);
  }

  get instruments(): T {
    return this.#instruments;
  }

  /** Rebuilds the instruments if the provider this module follows has changed. */
  refresh(): void {
    if (this.#closed) return;
    const provider = this.#injected ?? metrics.getMeterProvider();
    if (provider === this.#provider) return;
    this.#detach();
    this.#provider = provider;
    const meter = provider.getMeter(this.#scope.name, this.#scope.version);
    this.#instruments = this.#build(this.#factory(provider, meter));
  }

  /** Removes this module's callbacks from the provider; instruments become inert. */
  close(): void {
    this.#detach();
    this.#closed = true;
  }

  #detach(): void {
    for (const { hub, contribution } of this.#contributions) hub.remove(contribution);
    this.#contributions = [];
  }

  #factory(provider: MeterProvider, meter: Meter): InstrumentFactory {
    const opts = (name: string, expected: string) => {
      const def = metricDefinition(name);
      if (def.kind !== expected) throw new Error(`${name} is a ${def.kind} in the catalog, not a ${expected}`);
      return { def, options: { description: def.description, unit: def.unit } };
    };
    return {
      counter: (name) => meter.createCounter(name, opts(name, 'counter').options),
      upDownCounter: (name) => meter.createUpDownCounter(name, opts(name, 'updowncounter').options),
      // Meters of @opentelemetry/api < 1.9 have no synchronous gauge: inert rather than a TypeError.
      gauge: (name) => (typeof meter.createGauge === 'function' ? meter.createGauge(name, opts(name, 'gauge').options) : NOOP_GAUGE),
      histogram: (name) => {
        const { def, options } = opts(name, 'histogram');
        const boundaries = def.boundaries ?? (def.unit === 's' ? LATENCY_BOUNDARIES_S : undefined);
        return meter.createHistogram(name, {
          ...options,
          ...(boundaries ? { advice: { explicitBucketBoundaries: [...boundaries] } } : {}),
        });
      },
      observe: (names, callback) => {
        const hub = hubFor(provider, meter, this.#scope);
        const contribution: Contribution = { names, callback };
        hub.add(contribution);
        this.#contributions.push({ hub, contribution });
      },
    };
  }
}

// Bindings that follow the global provider, held weakly so a dropped module is collected.
const followers = new Set<WeakRef<MeterBinding<unknown>>>();
let watcher: NodeJS.Timeout | undefined;
const WATCH_INTERVAL_MS = 1000;

function followGlobalProvider(binding: MeterBinding<unknown>): void {
  followers.add(new WeakRef(binding));
  if (!watcher) {
    // Polling is the only portable signal: the API has no event for setGlobalMeterProvider.
    watcher = setInterval(refreshTelemetryBindings, WATCH_INTERVAL_MS);
    watcher.unref();
  }
}

/**
 * Re-resolves the global MeterProvider for every module that follows it. Modules do this by
 * themselves within a second; call it right after registering a provider to make it immediate.
 */
export function refreshTelemetryBindings(): void {
  for (const ref of followers) {
    const binding = ref.deref();
    if (binding) binding.refresh();
    else followers.delete(ref);
  }
  if (followers.size === 0 && watcher) {
    clearInterval(watcher);
    watcher = undefined;
  }
}
