import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { createProgram } from '../../src/cli.js';
import { resolveControllerCommandConfig } from '../../src/commands/controller.js';

async function parsed(args: readonly string[]) {
  const program = createProgram();
  const command = program.commands.find((c) => c.name() === 'controller')!;
  command.action(() => undefined);
  await program.parseAsync(['node', 'tierkv', 'controller', ...args]);
  return command;
}

describe('tierkv controller --vllm-publisher', () => {
  it('is repeatable and parses name=..,endpoint=..,replay=..,model=..', async () => {
    const command = await parsed([
      '--vllm-publisher', 'name=w1,endpoint=tcp://h1:5557,replay=tcp://h1:5558,model=Qwen/Qwen3-0.6B',
      '--vllm-publisher', 'name=w2,endpoint=tcp://h2:5557,model=Qwen/Qwen3-0.6B,rank=1,block-size=32',
      '--vllm-replay-timeout', '500',
    ]);
    const config = resolveControllerCommandConfig(command, {});
    expect(config.vllmPublishers?.map((p) => [p.name, p.endpoint, p.replayEndpoint, p.model, p.dataParallelRank, p.blockSize])).to.deep.equal([
      ['w1', 'tcp://h1:5557', 'tcp://h1:5558', 'Qwen/Qwen3-0.6B', 0, 16],
      ['w2', 'tcp://h2:5557', undefined, 'Qwen/Qwen3-0.6B', 1, 32],
    ]);
    expect(config.vllmReplayTimeoutMs).to.equal(500);
  });

  it('names the flag in errors', async () => {
    const command = await parsed(['--vllm-publisher', 'name=w1,endpoint=nope,model=m']);
    expect(() => resolveControllerCommandConfig(command, {})).to.throw(ConfigError, /endpoint/);
  });
});
