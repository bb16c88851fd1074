import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { thrownBy } from '@tierkv/test-utils';
import { loadConfigFile } from '../../src/config/config-file.js';
import { resolveConfig, type ConfigSources } from '../../src/config/resolve-config.js';
import { DEFAULT_SERVER_CONFIG, SERVER_CONFIG_FIELDS, serverConfigSchema, type ServerConfig } from '../../src/config/server-config.js';
import { DEFAULT_DEMO_CONFIG, DEMO_CONFIG_FIELDS, demoConfigSchema } from '../../src/config/demo-config.js';
import { CONTROLLER_CONFIG_FIELDS, DEFAULT_CONTROLLER_CONFIG, controllerConfigSchema } from '../../src/config/controller-config.js';

function server(sources: Partial<ConfigSources> = {}): ServerConfig {
  return resolveConfig(serverConfigSchema, SERVER_CONFIG_FIELDS, { defaults: DEFAULT_SERVER_CONFIG, env: {}, ...sources });
}

const configError = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

describe('server configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-cli-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return loadConfigFile(path);
  };

  it('defaults: 256 MiB L1, LRU, fs L2 under ./.tierkv, loopback', () => {
    const c = server();
    expect(c.l1).to.deep.equal({ size: 256 * 1024 ** 2, eviction: 'clock', watermark: 0.8, evictionRatio: 0.1 });
    expect(c.l2.fs).to.deep.include({ enabled: true, path: './.tierkv/l2' });
    expect(c.server.host).to.equal('127.0.0.1');
    expect(c.server.httpHost).to.equal('127.0.0.1');
    expect(c.metrics.exporters).to.equal(undefined);
  });

  it('precedence: flags > env > config file > defaults, per field', () => {
    const yaml = file('c.yaml', 'l1:\n  size: 1GiB\n  watermark: 0.5\nserver:\n  port: 9000\n  httpPort: 9001\n');
    const c = server({
      file: yaml,
      env: { TIERKV_L1_SIZE: '2GiB', TIERKV_PORT: '9100' },
      flags: { 'l1.size': '3GiB' },
    });
    expect(c.l1.size).to.equal(3 * 1024 ** 3); // flag beats env and file
    expect(c.server.port).to.equal(9100); // env beats file
    expect(c.server.httpPort).to.equal(9001); // file beats default
    expect(c.l1.watermark).to.equal(0.5);
    expect(c.l1.evictionRatio).to.equal(0.1); // default
  });

  it('reads JSON config files with native types', () => {
    const json = file('c.json', JSON.stringify({ l1: { size: 8388608 }, l2: { fs: { enabled: false, budget: '10GiB' } }, metrics: { exporters: ['prometheus', 'otlp'] } }));
    const c = server({ file: json });
    expect(c.l1.size).to.equal(8388608);
    expect(c.l2.fs.enabled).to.equal(false);
    expect(c.l2.fs.budget).to.equal(10 * 1024 ** 3);
    expect(c.metrics.exporters).to.deep.equal(['prometheus', 'otlp']);
  });

  it('an empty env value does not override lower layers', () => {
    expect(server({ env: { TIERKV_L1_SIZE: '' } }).l1.size).to.equal(256 * 1024 ** 2);
  });

  it('a bad flag names the flag and the allowed values', () => {
    const err = configError(() => server({ flags: { 'l1.eviction': 'lfu' } }));
    expect(err.field).to.equal('--eviction');
    expect(err.message).to.match(/unknown value "lfu"; allowed values: clock, lru/);
  });

  it('a bad env var names the variable', () => {
    const err = configError(() => server({ env: { TIERKV_L1_SIZE: '4XB' } }));
    expect(err.field).to.equal('TIERKV_L1_SIZE');
    expect(err.message).to.match(/invalid size "4XB".*KiB, MiB, GiB/);
  });

  it('a bad port names the field and the range', () => {
    const err = configError(() => server({ flags: { 'server.port': '70000' } }));
    expect(err.message).to.match(/--port: .*\[0, 65535\].*"70000"/);
  });

  it('a bad file value names the field and the file', () => {
    const err = configError(() => server({ file: file('bad.yaml', 'l1:\n  watermark: 1.5\n') }));
    expect(err.field).to.match(/^l1\.watermark \(in .*bad\.yaml\)$/);
    expect(err.message).to.match(/\(0, 1\].*1\.5/);
  });

  it('an unknown file field is an error listing the allowed fields', () => {
    const err = configError(() => server({ file: file('typo.yaml', 'l1:\n  sise: 4GiB\n') }));
    expect(err.field).to.equal('l1.sise');
    expect(err.message).to.match(/unknown field in .*typo\.yaml; allowed fields of l1: size, eviction, watermark, evictionRatio/);
  });

  it('a __proto__ key in a config file is refused, and Object.prototype stays clean', () => {
    for (const [name, text] of [
      ['proto.json', '{"l1": {"__proto__": {"injected": true}}}'],
      ['proto.yaml', '__proto__:\n  injected: true\n'],
      ['ctor.json', '{"constructor": {"prototype": {"injected": true}}}'],
    ] as const) {
      const err = configError(() => server({ file: file(name, text) }));
      expect(err.message).to.match(/reserved name/);
      expect(err.message).to.not.match(/injected/);
      expect(({} as Record<string, unknown>)['injected']).to.equal(undefined);
    }
  });

  it('an L1 size beyond the machine\'s memory is refused, naming the flag and the memory', () => {
    const err = configError(() => server({ flags: { 'l1.size': '64TiB' } }));
    expect(err.message).to.match(/--l1-size/).and.match(/too large/).and.match(/GiB of memory/);
  });

  it('reports every bad field at once', () => {
    const err = configError(() => server({ flags: { 'l1.size': 'big', 'server.port': '-1' } }));
    expect(err.message).to.contain('--l1-size').and.to.contain('--port');
  });

  it('rejects a bad exporter list and a bad URL', () => {
    expect(configError(() => server({ flags: { 'metrics.exporters': 'prometheus,zipkin' } })).message).to.match(/zipkin.*prometheus, otlp, console, none/);
    expect(configError(() => server({ flags: { 'l2.redis.url': 'http://x' } })).message).to.match(/redis:\/\/ or rediss:\/\//);
    expect(configError(() => server({ env: { TIERKV_CONTROLLER_URL: 'localhost:7410' } })).field).to.equal('TIERKV_CONTROLLER_URL');
  });

  it('file errors: missing file, bad YAML, not a mapping', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yaml'))).to.throw(ConfigError, /--config: cannot read config file .*no such file/);
    writeFileSync(join(dir, 'broken.yaml'), 'l1: [\n');
    expect(() => loadConfigFile(join(dir, 'broken.yaml'))).to.throw(ConfigError, /not valid YAML/);
    writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
    expect(() => loadConfigFile(join(dir, 'list.yaml'))).to.throw(ConfigError, /must contain a mapping/);
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => loadConfigFile(join(dir, 'broken.json'))).to.throw(ConfigError, /not valid JSON/);
  });

  it('booleans accept true/false/yes/no/1/0 from env', () => {
    expect(server({ env: { TIERKV_FS_ENABLED: 'no' } }).l2.fs.enabled).to.equal(false);
    expect(server({ env: { TIERKV_FS_ENABLED: '1' } }).l2.fs.enabled).to.equal(true);
    expect(configError(() => server({ env: { TIERKV_FS_ENABLED: 'maybe' } })).field).to.equal('TIERKV_FS_ENABLED');
  });

  it('every field has a unique flag and env var', () => {
    for (const fields of [SERVER_CONFIG_FIELDS, DEMO_CONFIG_FIELDS, CONTROLLER_CONFIG_FIELDS]) {
      const flags = fields.map((f) => f.flags.split(' ')[0]);
      expect(new Set(flags).size).to.equal(flags.length);
      const envs = fields.flatMap((f) => (f.env ? [f.env] : []));
      expect(new Set(envs).size).to.equal(envs.length);
    }
  });
});

describe('demo and controller configuration', () => {
  it('demo defaults follow DESIGN.md (256 MiB L1, ./.tierkv, metrics on 127.0.0.1)', () => {
    const c = resolveConfig(demoConfigSchema, DEMO_CONFIG_FIELDS, { defaults: DEFAULT_DEMO_CONFIG, env: {} });
    expect(c.l1.size).to.equal(256 * 1024 ** 2);
    expect(c.dataDir).to.equal('./.tierkv');
    expect(c.metrics.host).to.equal('127.0.0.1');
    expect(c.duration).to.equal(20);
    expect(c.chunkBytes).to.equal(128 * 1024);
  });

  it('demo flags: duration, clients, bad values named', () => {
    const c = resolveConfig(demoConfigSchema, DEMO_CONFIG_FIELDS, { defaults: DEFAULT_DEMO_CONFIG, env: {}, flags: { duration: '3', clients: '2' } });
    expect(c.duration).to.equal(3);
    expect(c.clients).to.equal(2);
    expect(() => resolveConfig(demoConfigSchema, DEMO_CONFIG_FIELDS, { defaults: DEFAULT_DEMO_CONFIG, env: {}, flags: { clients: '0' } })).to.throw(ConfigError, /--clients/);
  });

  it('controller env vars apply', () => {
    const c = resolveConfig(controllerConfigSchema, CONTROLLER_CONFIG_FIELDS, { defaults: DEFAULT_CONTROLLER_CONFIG, env: { TIERKV_CONTROLLER_HTTP_PORT: '8000', TIERKV_CONTROLLER_AUTH_TOKEN: 's3cret' } });
    expect(c.httpPort).to.equal(8000);
    expect(c.authToken).to.equal('s3cret');
    expect(c.routerPort).to.equal(9301);
  });
});
