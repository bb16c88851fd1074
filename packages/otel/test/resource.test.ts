import { expect } from 'chai';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { resolveTelemetryConfig, type StartTelemetryOptions } from '../src/config/telemetry-config.js';
import { buildResource, resetUnknownServiceWarning } from '../src/resource.js';

const build = (options: StartTelemetryOptions) => buildResource(resolveTelemetryConfig({ warn: () => undefined, env: {}, ...options })).attributes;

describe('buildResource', () => {
  it('keeps the SDK defaults and sets a random service.instance.id', () => {
    const a = build({ serviceName: 's' });
    const b = build({ serviceName: 's' });
    expect(a['telemetry.sdk.language']).to.equal('nodejs');
    expect(a['service.instance.id']).to.be.a('string').and.not.equal(b['service.instance.id']);
  });

  it('precedence: serviceName option > OTEL_SERVICE_NAME > resource attributes > the resource option', () => {
    const resource = resourceFromAttributes({ 'service.name': 'from-resource', team: 'r' });
    expect(build({ resource })['service.name']).to.equal('from-resource');
    expect(build({ resource, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' } })['service.name']).to.equal('from-attrs');
    expect(build({ resource, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'from-env' } })['service.name']).to.equal('from-env');
    expect(build({ resource, serviceName: 'from-option', env: { OTEL_SERVICE_NAME: 'from-env' } })['service.name']).to.equal('from-option');
    expect(build({ resource })['team']).to.equal('r');
  });

  it('takes service.instance.id from the option or the attributes', () => {
    expect(build({ serviceInstanceId: 'i-1' })['service.instance.id']).to.equal('i-1');
    expect(build({ env: { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=i-2' } })['service.instance.id']).to.equal('i-2');
  });

  it('warns once per process about unknown_service', () => {
    resetUnknownServiceWarning();
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    buildResource(resolveTelemetryConfig({ env: {}, warn }));
    buildResource(resolveTelemetryConfig({ env: {}, warn }));
    buildResource(resolveTelemetryConfig({ env: {}, warn, serviceName: 'named' }));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('unknown_service');
  });
});
