import { Socket } from 'node:net';

/** node:net's `onread`: reads land in the buffer `buffer()` returns; `callback` gets each read. */
export interface OnRead {
  buffer(): Uint8Array;
  callback(bytes: number, buf: Uint8Array): boolean;
}

/**
 * Re-wraps a socket that `net.Server` accepted paused (`pauseOnConnect`) so that its reads land in
 * buffers the caller chooses, as `onread` gives a client socket; `net.Server` has no such option.
 * Without it every read is a fresh 64 KiB buffer that the frame reader then copies from; with it
 * the kernel writes a chunk frame straight into the buffer the frame ends up in.
 *
 * Takes the accepted socket's handle (`_handle`, which Node 20, 22 and 24 keep there); the old
 * socket is destroyed without closing it, which also ends its count in the server. Returns
 * undefined, leaving `socket` as it was, where the handle is not there to take.
 */
export function adoptWithOnread(socket: Socket, onread: OnRead): Socket | undefined {
  const s = socket as Socket & { _handle?: object | null };
  const handle = s._handle;
  if (handle === null || typeof handle !== 'object' || typeof (handle as { readStart?: unknown }).readStart !== 'function') return undefined;
  const adopted = new Socket({ handle: handle as never, readable: true, writable: true, onread } as ConstructorParameters<typeof Socket>[0]);
  s._handle = null;
  socket.destroy();
  return adopted;
}
