import { randomUUID } from 'node:crypto';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Attributes } from '@opentelemetry/api';
import type { ResolvedTelemetryConfig } from './config/telemetry-config.js';

let warnedUnknownService = false;

/**
 * The SDK's default resource (`telemetry.sdk.*`, `service.name=unknown_service:<process>`) with,
 * merged over it in order: the user's resource, OTEL_RESOURCE_ATTRIBUTES and the
 * `resourceAttributes` option, the service name, and `service.instance.id` (random unless given).
 * Warns once per process when the service would stay `unknown_service`.
 */
export function buildResource(config: ResolvedTelemetryConfig): Resource {
  let resource = defaultResource();
  if (config.resource) resource = resource.merge(config.resource);
  const attributes: Attributes = { ...config.resourceAttributes };
  if (config.serviceName !== undefined) attributes['service.name'] = config.serviceName;
  attributes['service.instance.id'] =
    config.serviceInstanceId ?? attributes['service.instance.id'] ?? resource.attributes['service.instance.id'] ?? randomUUID();
  resource = resource.merge(resourceFromAttributes(attributes));
  const name = resource.attributes['service.name'];
  if ((typeof name !== 'string' || name.startsWith('unknown_service')) && !warnedUnknownService) {
    warnedUnknownService = true;
    config.warn(`tierkv: service.name is "${String(name)}"; set OTEL_SERVICE_NAME or the serviceName option so your metrics can be told apart`);
  }
  return resource;
}

/** Test hook: lets the unknown-service warning fire again. */
export function resetUnknownServiceWarning(): void {
  warnedUnknownService = false;
}
