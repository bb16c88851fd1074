import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createServer } from 'node:net';
import { freePort } from '@tierkv/test-utils';
import { runCli } from './helpers/run-cli.js';

describe('tierkv: help, version and configuration errors', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).to.equal(0);
    for (const cmd of ['server', 'controller', 'demo', 'bench']) expect(r.stdout).to.match(new RegExp(`^\\s+${cmd} `, 'm'));
  });

  it('--help works on every command', async () => {
    for (const [cmd, flag] of [['server', '--l1-size'], ['controller', '--router-port'], ['demo', '--duration'], ['bench', '--quick']] as const) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, `${cmd} --help`).to.equal(0);
      expect(r.stdout).to.contain(flag);
    }
  });

  it('bench --list runs the bench package', async () => {
    const r = await runCli(['bench', '--list']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n').length).to.be.greaterThan(0);
    expect(r.stdout).to.match(/^[a-z0-9-]+\.[a-z0-9.-]+\s+\S/m);
  });

  it('--version prints the version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
  });

  const expectConfigError = (r: { code: number | null; stderr: string }, field: RegExp, allowed: RegExp) => {
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^tierkv: invalid configuration: /);
    expect(r.stderr, r.stderr).to.match(field);
    expect(r.stderr).to.match(allowed);
    expect(r.stderr, 'no stack trace').to.not.match(/\n\s+at /);
  };

  it('a bad size names the flag and the units', async () => {
    expectConfigError(await runCli(['server', '--l1-size', '4XB']), /--l1-size/, /KiB, MiB, GiB/);
  });

  it('an unknown eviction policy names the allowed values', async () => {
    expectConfigError(await runCli(['server', '--eviction', 'fifo']), /--eviction/, /allowed values: clock, lru/);
  });

  it('an unknown transport names the allowed values, and --transport tcp refuses --token', async () => {
    expectConfigError(await runCli(['server', '--transport', 'udp']), /--transport/, /allowed values: zeromq, tcp/);
    expectConfigError(await runCli(['server', '--transport', 'tcp', '--token', 'a-long-enough-shared-secret-0123456789']), /--token/, /--transport tcp has no authentication/);
  });

  it('a bad port names the flag and the range', async () => {
    expectConfigError(await runCli(['server', '--port', '99999']), /--port/, /\[0, 65535\]/);
  });

  it('a bad env var names the variable', async () => {
    expectConfigError(await runCli(['server'], { env: { TIERKV_WATERMARK: 'high' } }), /TIERKV_WATERMARK/, /\(0, 1\]/);
  });

  it('a bad YAML field names the field and the file', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'l1:\n  size: 1GiB\n  eviction: random\n');
    expectConfigError(await runCli(['server', '--config', file]), /l1\.eviction \(in .*bad\.yaml\)/, /allowed values: clock, lru/);
  });

  it('an unknown YAML field lists the allowed fields', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'server:\n  prot: 1234\n');
    expectConfigError(await runCli(['server', '--config', file]), /server\.prot/, /allowed fields of server: host, port/);
  });

  it('bad Redis cluster nodes and settings name the flag or field', async () => {
    expectConfigError(await runCli(['server', '--redis-cluster', '10.0.0.1']), /--redis-cluster: invalid address "10\.0\.0\.1"/, /host:port such as/);
    expectConfigError(await runCli(['server', '--redis-cluster', '10.0.0.1:7000,10.0.0.2:70000']), /--redis-cluster: invalid address "10\.0\.0\.2:70000"/, /\[1, 65535\]/);
    expectConfigError(await runCli(['server', '--redis-cluster', ',']), /--redis-cluster: expected at least one host:port/, /host:port such as/);
    expectConfigError(await runCli(['server', '--redis-cluster', 'a:1', '--redis-url', 'redis://b:2']), /--redis-cluster/, /not both/);
    expectConfigError(await runCli(['server'], { env: { TIERKV_REDIS_KEY_PREFIX: 'x{1}:' } }), /TIERKV_REDIS_KEY_PREFIX/, /without "\{" or "\}"/);
    expectConfigError(await runCli(['server', '--redis-ttl', '1.5']), /--redis-ttl/, /whole seconds/);
    expectConfigError(await runCli(['server', '--redis-checksum', 'md5']), /--redis-checksum/, /allowed values: xxh3, crc32, none/);
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, 'l2:\n  redis:\n    cluster: ["10.0.0.1:7000", "nope"]\n');
    expectConfigError(await runCli(['server', '--config', file]), /l2\.redis\.cluster \(in .*cluster\.yaml\): invalid address "nope"/, /host:port/);
  });

  it('Redis settings reach the resolved configuration (--print-config)', async () => {
    const file = join(dir, 'redis.yaml');
    writeFileSync(file, 'l2:\n  redis:\n    cluster: ["10.0.0.1:7000", { host: 10.0.0.2, port: 7001 }]\n    ttlSeconds: 60\n');
    const r = await runCli(['server', '--config', file, '--redis-key-prefix', 'prod:', '--redis-cluster', '10.0.0.3:7002,[::1]:7003', '--print-config'], { env: { TIERKV_REDIS_TIMEOUT_MS: '500' } });
    expect(r.code, r.stderr).to.equal(0);
    const config = JSON.parse(r.stdout) as { l2: { redis: Record<string, unknown> } };
    expect(config.l2.redis).to.deep.equal({
      cluster: [{ host: '10.0.0.3', port: 7002 }, { host: '::1', port: 7003 }],
      keyPrefix: 'prod:',
      ttlSeconds: 60,
      operationTimeoutMs: 500,
    });
  });

  it('a bad demo flag is named too', async () => {
    expectConfigError(await runCli(['demo', '--clients', 'many']), /--clients/, /\[1, 256\]/);
    expectConfigError(await runCli(['controller', '--http-port', 'x']), /--http-port/, /\[0, 65535\]/);
  });

  it('an unknown option is a usage error (exit 2)', async () => {
    const r = await runCli(['server', '--l1-sise', '4GiB']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unknown option '--l1-sise'/);
  });

  it('flags beat env beat the config file (--print-config)', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'l1:\n  size: 1GiB\n  watermark: 0.7\nserver:\n  port: 7000\n');
    const r = await runCli(['server', '--config', file, '--l1-size', '2GiB', '--print-config'], { env: { TIERKV_L1_SIZE: '3GiB', TIERKV_PORT: '7100' } });
    expect(r.code).to.equal(0);
    const config = JSON.parse(r.stdout) as { l1: { size: number; watermark: number }; server: { port: number } };
    expect(config.l1.size).to.equal(2 * 1024 ** 3);
    expect(config.server.port).to.equal(7100);
    expect(config.l1.watermark).to.equal(0.7);
  });

  it('a port in use names the port and the flag', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const r = await runCli(['server', '--no-fs', '--port', '0', '--http-port', String(port)], { cwd: dir });
      expectConfigError(r, /--http-port: port \d+ is already in use/, /choose another with --http-port/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
