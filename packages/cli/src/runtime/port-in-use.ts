import { ConfigError } from '@tierkv/core';

/** A port a command binds, and the flag that moves it. */
export interface BoundPort {
  readonly port: number;
  readonly flag: string;
  /** `zmq` for ZeroMQ sockets, `http` for node:http and node:net listeners (their errors look alike). */
  readonly kind: 'zmq' | 'http';
}

/**
 * Turns "address in use" from ZeroMQ (`err.address` = `tcp://host:port`) or node:http
 * (`err.port`) into a ConfigError naming the address and the flag to change; other errors pass.
 */
export function explainBindError(err: unknown, ports: readonly BoundPort[]): unknown {
  const e = err as { code?: string; address?: string; port?: number; syscall?: string } | null;
  if (!e || e.code !== 'EADDRINUSE') return err;
  let port: number | undefined;
  let kind: BoundPort['kind'];
  if (typeof e.address === 'string' && e.address.startsWith('tcp://')) {
    port = Number(e.address.slice(e.address.lastIndexOf(':') + 1));
    kind = 'zmq';
  } else {
    port = e.port;
    kind = 'http';
  }
  const match = ports.find((p) => p.kind === kind && p.port === port) ?? ports.find((p) => p.kind === kind && p.port !== 0);
  if (!match) return err;
  return new ConfigError(match.flag, `port ${match.port} is already in use (another tierkv process?); choose another with ${match.flag} <port> (0 = any free port)`, { cause: err });
}
