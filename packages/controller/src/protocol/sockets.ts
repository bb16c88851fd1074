/** `tcp://host:port`, with port 0 meaning "any free port" (ZeroMQ's `*`). */
export function tcpEndpoint(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `tcp://${h}:${port === 0 ? '*' : port}`;
}

/** Whether a rejected receive/send is a timeout (EAGAIN) rather than a broken socket. */
export function isTimeout(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'EAGAIN';
}

/** ZeroMQ's error when the socket was closed while an operation was pending. */
export function isClosed(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'EBADF' || code === 'ENOTSOCK' || code === 'ETERM';
}
