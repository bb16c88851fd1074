import { expect } from 'chai';
import { controllerOptionsFromEnv, resolveControllerOptions, DEFAULT_CONTROLLER_OPTIONS } from '../../src/controller/controller-options.js';
import { resolveWorkerClientOptions } from '../../src/worker-client/worker-client-options.js';
import { MAX_KEYS_PER_FRAME, MAX_MESSAGE_BYTES } from '../../src/protocol/validation.js';

describe('controller options', () => {
  it('resolves defaults on loopback', () => {
    const o = resolveControllerOptions();
    expect(o).to.include({ host: '127.0.0.1', httpHost: '127.0.0.1', pullPort: 9300, routerPort: 9301, httpPort: 9302, heartbeatPort: undefined });
    expect(o.workerTimeoutMs).to.equal(DEFAULT_CONTROLLER_OPTIONS.workerTimeoutMs);
  });

  it('names the bad option', () => {
    expect(() => resolveControllerOptions({ pullPort: 70_000 })).to.throw(/controller\.pullPort/);
    expect(() => resolveControllerOptions({ workerTimeoutMs: 0 })).to.throw(/controller\.workerTimeoutMs/);
    expect(() => resolveControllerOptions({ authToken: '' })).to.throw(/controller\.authToken/);
    // A typo is refused, never silently ignored (a controller meant to need a token would run open).
    expect(() => resolveControllerOptions({ authTokn: 'secret' } as never)).to.throw(/controller\.authTokn.*did you mean authToken/);
  });

  it('reads TIERKV_CONTROLLER_* variables, leaving unset ones out', () => {
    const o = controllerOptionsFromEnv({
      TIERKV_CONTROLLER_HOST: '0.0.0.0',
      TIERKV_CONTROLLER_PULL_PORT: '7000',
      TIERKV_CONTROLLER_HTTP_PORT: 'off',
      TIERKV_CONTROLLER_AUTH_TOKEN: 't',
      TIERKV_CHUNK_SIZE: '16',
    });
    expect(o).to.deep.equal({ host: '0.0.0.0', pullPort: 7000, httpPort: false, authToken: 't', chunkSize: 16 });
    expect(() => controllerOptionsFromEnv({ TIERKV_CONTROLLER_ROUTER_PORT: 'abc' })).to.throw(/TIERKV_CONTROLLER_ROUTER_PORT/);
  });

  it('validates worker client options', () => {
    const controller = { pull: 'tcp://127.0.0.1:1', router: 'tcp://127.0.0.1:2' };
    expect(resolveWorkerClientOptions({ controller, instanceId: 'a' })).to.include({ workerId: 0, location: 'l1', batchSize: 512 });
    expect(() => resolveWorkerClientOptions({ controller, instanceId: '' })).to.throw(/worker\.instanceId/);
    expect(() => resolveWorkerClientOptions({ controller: {} as never, instanceId: 'a' })).to.throw(/worker\.controller/);
    expect(() => resolveWorkerClientOptions({ controller, instanceId: 'a', batchSize: 0 })).to.throw(/worker\.batchSize/);
    // A batch is one frame; the controller refuses frames of more keys.
    expect(() => resolveWorkerClientOptions({ controller, instanceId: 'a', syncBatchSize: MAX_KEYS_PER_FRAME + 1 })).to.throw(/worker\.syncBatchSize/);
  });

  it('bounds every socket\'s frames by the largest legal message', () => {
    expect(resolveControllerOptions({}).maxMessageBytes).to.equal(MAX_MESSAGE_BYTES);
    expect(MAX_MESSAGE_BYTES).to.be.within(MAX_KEYS_PER_FRAME * 9, 64 * 2 ** 20);
    expect(resolveControllerOptions({ maxMessageBytes: 1 << 20 }).maxMessageBytes).to.equal(1 << 20);
    expect(() => resolveControllerOptions({ maxMessageBytes: 0 })).to.throw(/controller\.maxMessageBytes/);
    expect(() => resolveControllerOptions({ pullHighWaterMark: 1.5 })).to.throw(/controller\.pullHighWaterMark/);
  });
});
