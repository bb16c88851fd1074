import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { resolvePullEndpoint } from '../../src/worker-client/pull-endpoint.js';

describe('resolvePullEndpoint', () => {
  it('keeps an advertised endpoint with a concrete host', () => {
    expect(resolvePullEndpoint('tcp://10.0.0.2:39300', 'tcp://ctl.example:39301')).to.equal('tcp://10.0.0.2:39300');
  });

  it('a wildcard bind takes the router host and the advertised port', () => {
    for (const bound of ['tcp://0.0.0.0:39300', 'tcp://*:39300', 'tcp://[::]:39300']) {
      expect(resolvePullEndpoint(bound, 'tcp://ctl.example:39301'), bound).to.equal('tcp://ctl.example:39300');
    }
    expect(resolvePullEndpoint('tcp://0.0.0.0:39300', 'tcp://[::1]:39301')).to.equal('tcp://[::1]:39300');
  });

  it('nothing advertised (an older controller): the router host with the default PULL port', () => {
    expect(resolvePullEndpoint(undefined, 'tcp://127.0.0.1:39301')).to.equal('tcp://127.0.0.1:9300');
  });

  it('a wildcard with a router that is not tcp://host:port is a ConfigError asking for the endpoint', () => {
    expect(() => resolvePullEndpoint('tcp://0.0.0.0:1', 'ipc:///tmp/ctl')).to.throw(ConfigError, /set it explicitly/);
  });
});
