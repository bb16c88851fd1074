import { hostname } from 'node:os';
import { expect } from 'chai';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import { FakeStorage } from '../helpers/fake-storage.js';
import { ServerFixture } from '../helpers/server-fixture.js';

describe('TierkvServer.instanceId', () => {
  const fixtures: ServerFixture[] = [];
  afterEach(async () => {
    for (const f of fixtures.splice(0)) await f.close();
  });

  it('with port 0 carries the port actually bound, so two servers on one host differ', async () => {
    const a = await new ServerFixture().start({ port: 0 });
    fixtures.push(a);
    const b = await new ServerFixture().start({ port: 0 });
    fixtures.push(b);
    const port = (endpoint: string) => endpoint.slice(endpoint.lastIndexOf(':') + 1);
    expect(a.server.instanceId).to.equal(`tierkv-server@${hostname()}:${port(a.server.endpoint)}`);
    expect(a.server.instanceId).to.not.match(/:0$/);
    expect(a.server.instanceId).to.not.equal(b.server.instanceId);
  });

  it('is refused before start(), when no port is bound yet', () => {
    const server = new TierkvServer({ storage: new FakeStorage().asStorageManager(), port: 0, httpPort: null });
    expect(() => server.instanceId).to.throw(/after start\(\)/);
  });
});
