import { expect } from 'chai';
import { ControllerClient } from '@tierkv/controller';
import { ConfigError } from '@tierkv/core';
import { createProgram } from '../../src/cli.js';
import { resolveControllerCommandConfig } from '../../src/commands/controller.js';
import { startControllerStack } from '../../src/runtime/controller-stack.js';

async function configOf(args: readonly string[], env: Record<string, string> = {}) {
  const program = createProgram();
  const command = program.commands.find((c) => c.name() === 'controller')!;
  command.action(() => undefined);
  await program.parseAsync(['node', 'tierkv', 'controller', ...args]);
  return resolveControllerCommandConfig(command, env);
}

describe('tierkv controller --query-port', () => {
  it('opens the plain-TCP query listener, which answers a ControllerClient lookup', async () => {
    const config = await configOf(['--pull-port', '0', '--router-port', '0', '--http-port', '0', '--query-port', '0', '--metrics-exporter', 'none']);
    const lines: string[] = [];
    const stack = await startControllerStack(config, { log: (l) => lines.push(l) });
    try {
      const query = stack.addresses.query;
      expect(query).to.match(/^tierkv\+tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join('\n')).to.include(query);
      const client = new ControllerClient({ query: query!, timeoutMs: 10_000 });
      try {
        expect(await client.lookup({ hashes: ['0123456789abcdef', 'fedcba9876543210'] }, { modelName: 'm' })).to.deep.equal([]);
      } finally {
        client.close();
      }
    } finally {
      await stack.close();
    }
  });

  it('is read from TIERKV_CONTROLLER_QUERY_PORT, and off by default', async () => {
    expect((await configOf([], { TIERKV_CONTROLLER_QUERY_PORT: '9400' })).queryPort).to.equal(9400);
    expect((await configOf([])).queryPort).to.equal(undefined);
  });

  it('is refused together with --token (plain TCP has no authentication)', async () => {
    const config = await configOf(['--pull-port', '0', '--router-port', '0', '--http-port', '0', '--query-port', '0', '--token', 'secret-token-123', '--metrics-exporter', 'none']);
    let err: unknown;
    try {
      const stack = await startControllerStack(config);
      await stack.close();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).message).to.match(/queryPort/);
  });
});
