import { ConfigError } from '@tierkv/core';
import { DEFAULT_CONTROLLER_OPTIONS } from '../controller/controller-options.js';

/** Hosts a controller may bind that mean "every interface": not an address a worker can dial. */
const WILDCARD_HOSTS = new Set(['*', '0.0.0.0', '::', '[::]', '[::0]', '[0:0:0:0:0:0:0:0]']);

const TCP = /^tcp:\/\/(.+):([0-9]+)$/;

/**
 * The PULL endpoint a worker should dial, from what the controller advertised in its register
 * reply (its bound endpoint) and the ROUTER URL the worker reached it at. A wildcard bind
 * (`tcp://*:9300`, `0.0.0.0`, `::`) takes the router's host with the advertised port; a controller
 * that advertised nothing (an older one) gets the router's host with the default PULL port.
 */
export function resolvePullEndpoint(advertised: string | undefined, router: string): string {
  const a = advertised === undefined ? undefined : TCP.exec(advertised);
  if (advertised !== undefined && (!a || !WILDCARD_HOSTS.has(a[1]!))) return advertised;
  const r = TCP.exec(router);
  if (!r) {
    throw new ConfigError('worker.controller.pull', `the controller's ROUTER endpoint ${JSON.stringify(router)} is not tcp://<host>:<port>, so its PULL endpoint cannot be derived; set it explicitly`);
  }
  return `tcp://${r[1]!}:${a ? a[2]! : DEFAULT_CONTROLLER_OPTIONS.pullPort}`;
}
