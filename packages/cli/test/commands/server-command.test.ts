import { expect } from 'chai';
import type { Command } from 'commander';
import { ConfigError } from '@tierkv/core';
import { createProgram } from '../../src/cli.js';
import { resolveServerCommandConfig } from '../../src/commands/server.js';
import { resolveDemoCommandConfig } from '../../src/commands/demo.js';

/** Parses argv with the real program but without running the command. */
async function parsed(name: string, args: readonly string[]): Promise<Command> {
  const program = createProgram();
  const command = program.commands.find((c) => c.name() === name)!;
  command.action(() => undefined);
  await program.parseAsync(['node', 'tierkv', name, ...args]);
  return command;
}

describe('command flags feed the config layers', () => {
  it('typed flags win over env; untyped ones (including --no-fs defaults) fall through', async () => {
    const command = await parsed('server', ['--l1-size', '1GiB', '--port', '6000']);
    const config = resolveServerCommandConfig(command, { TIERKV_L1_SIZE: '2GiB', TIERKV_HTTP_PORT: '6001', TIERKV_FS_ENABLED: 'false' });
    expect(config.l1.size).to.equal(1024 ** 3);
    expect(config.server.port).to.equal(6000);
    expect(config.server.httpPort).to.equal(6001);
    expect(config.l2.fs.enabled).to.equal(false);
  });

  it('--no-fs disables the filesystem tier over env', async () => {
    const command = await parsed('server', ['--no-fs']);
    expect(resolveServerCommandConfig(command, { TIERKV_FS_ENABLED: 'true' }).l2.fs.enabled).to.equal(false);
  });

  it('TIERKV_CONFIG names a config file when --config is absent', async () => {
    const command = await parsed('server', []);
    expect(() => resolveServerCommandConfig(command, { TIERKV_CONFIG: '/nonexistent/tierkv.yaml' })).to.throw(ConfigError, /TIERKV_CONFIG: cannot read config file/);
  });

  it('demo flags: --no-controller, --fresh, --data-dir', async () => {
    const command = await parsed('demo', ['--no-controller', '--fresh', '--data-dir', '/tmp/x', '--duration', '1.5']);
    const config = resolveDemoCommandConfig(command, {});
    expect(config.controller.enabled).to.equal(false);
    expect(config.fresh).to.equal(true);
    expect(config.dataDir).to.equal('/tmp/x');
    expect(config.duration).to.equal(1.5);
  });
});
