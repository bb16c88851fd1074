import { expect } from 'chai';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { ConfigError } from '@tierkv/core';
import { buildSampler, parseSamplerEnv, parseTraceExporters, readTraceEnv, resolveTracesConfig } from '@tierkv/otel';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function sampled(samplerName: string, arg: string | undefined, parent?: { sampled: boolean }, traceId = TRACE_ID): boolean {
  const spec = parseSamplerEnv(samplerName, arg, () => undefined)!;
  const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true }) : ROOT_CONTEXT;
  return buildSampler(spec).shouldSample(ctx, traceId, 'x', SpanKind.INTERNAL, {}, []).decision !== 0;
}

describe('trace environment variables', () => {
  describe('OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG', () => {
    it('is undefined when unset (the default parentbased_always_on then applies)', () => {
      expect(parseSamplerEnv(undefined, '0.5', () => undefined)).to.equal(undefined);
      const r = resolveTracesConfig({}, {}, () => undefined);
      expect(r.samplerName).to.equal('parentbased_always_on');
    });

    it('reads every sampler of the spec, case-insensitively', () => {
      for (const name of ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']) {
        expect(parseSamplerEnv(name.toUpperCase(), undefined, () => undefined)!.name).to.equal(name);
      }
    });

    it('reads the ratio of the ratio samplers, 1.0 when absent', () => {
      expect(parseSamplerEnv('traceidratio', '0.25', () => undefined)).to.deep.equal({ name: 'traceidratio', arg: 0.25 });
      expect(parseSamplerEnv('parentbased_traceidratio', undefined, () => undefined)).to.deep.equal({ name: 'parentbased_traceidratio', arg: 1 });
      // The argument means nothing to the other samplers.
      expect(parseSamplerEnv('always_on', '0.5', () => undefined)).to.deep.equal({ name: 'always_on' });
    });

    for (const bad of ['abc', '-0.1', '1.5', 'NaN', ' ']) {
      it(`warns and uses 1.0 for OTEL_TRACES_SAMPLER_ARG="${bad}"`, () => {
        const warnings: string[] = [];
        expect(parseSamplerEnv('traceidratio', bad, (m) => warnings.push(m))).to.deep.equal({ name: 'traceidratio', arg: 1 });
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.include('OTEL_TRACES_SAMPLER_ARG');
      });
    }

    it('warns and uses parentbased_always_on for an unknown sampler', () => {
      const warnings: string[] = [];
      expect(parseSamplerEnv('jaeger_remote', undefined, (m) => warnings.push(m))).to.deep.equal({ name: 'parentbased_always_on' });
      expect(warnings[0]).to.include('OTEL_TRACES_SAMPLER');
    });

    it('builds samplers that decide as the spec says', () => {
      expect(sampled('always_on', undefined)).to.equal(true);
      expect(sampled('always_off', undefined)).to.equal(false);
      expect(sampled('traceidratio', '0', undefined)).to.equal(false);
      expect(sampled('traceidratio', '1', undefined)).to.equal(true);
      // Parent-based: a remote parent's decision wins over the root sampler.
      expect(sampled('parentbased_always_on', undefined, { sampled: false })).to.equal(false);
      expect(sampled('parentbased_always_off', undefined, { sampled: true })).to.equal(true);
      expect(sampled('parentbased_always_off', undefined)).to.equal(false);
      expect(sampled('parentbased_traceidratio', '0', { sampled: true })).to.equal(true);
      expect(sampled('parentbased_traceidratio', '0')).to.equal(false);
    });
  });

  describe('OTEL_TRACES_EXPORTER', () => {
    it('reads a list, skipping unknown names with a warning', () => {
      const warnings: string[] = [];
      expect(parseTraceExporters('OTEL_TRACES_EXPORTER', 'otlp, console,zipkin,foo', (m) => warnings.push(m))).to.deep.equal(['otlp', 'console']);
      expect(warnings).to.have.length(2);
    });

    it('refuses none with another exporter', () => {
      expect(() => parseTraceExporters('OTEL_TRACES_EXPORTER', 'none,otlp', () => undefined)).to.throw(ConfigError);
    });

    it('defaults to otlp when an endpoint is configured, else to none (no TracerProvider)', () => {
      expect(resolveTracesConfig(undefined, {}, () => undefined).exporters).to.deep.equal([]);
      expect(resolveTracesConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, () => undefined).exporters).to.deep.equal(['otlp']);
      expect(resolveTracesConfig(undefined, { OTEL_TRACES_EXPORTER: 'console' }, () => undefined).exporters).to.deep.equal(['console']);
      // The option wins over the environment.
      expect(resolveTracesConfig({ exporters: ['none'] }, { OTEL_TRACES_EXPORTER: 'otlp' }, () => undefined).exporters).to.deep.equal([]);
    });
  });

  describe('OTLP trace endpoint, protocol, headers, timeout', () => {
    it('uses the traces endpoint as is, and appends /v1/traces to the base one', () => {
      expect(readTraceEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' }, () => undefined).otlp.endpoint).to.equal('http://c:4318/custom');
      expect(readTraceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, () => undefined).otlp.endpoint).to.equal('http://c:4318/v1/traces');
      expect(resolveTracesConfig(undefined, {}, () => undefined).otlp.endpoint).to.equal('http://localhost:4318/v1/traces');
    });

    it('reads the protocol (signal-specific first) and refuses grpc', () => {
      expect(readTraceEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, () => undefined).otlp.protocol).to.equal('http/json');
      expect(() => readTraceEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, () => undefined)).to.throw(ConfigError, /grpc/);
    });

    it('merges headers, signal-specific over base, and reads the timeout', () => {
      const e = readTraceEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500' }, () => undefined);
      expect(e.otlp.headers).to.deep.equal({ a: '1', b: '3' });
      expect(e.otlp.timeoutMillis).to.equal(2500);
      expect(() => readTraceEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '-1' }, () => undefined)).to.throw(ConfigError);
    });

    it('refuses a malformed endpoint', () => {
      expect(() => readTraceEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, () => undefined)).to.throw(ConfigError);
      expect(() => readTraceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }, () => undefined)).to.throw(ConfigError);
    });
  });
});
