// A hostile ZMTP 3.0 peer written by hand with node:net: greeting, NULL handshake, then the header
// of one frame announcing `announced` bytes, and a stall. Only what the attack needs (RFC 23/ZMTP).
import { connect, type Socket } from 'node:net';

/** The 64-byte greeting: signature, version 3.0, mechanism NULL, as-server 0, filler. */
function greeting(): Buffer {
  const g = Buffer.alloc(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.write('NULL', 12, 'ascii');
  return g;
}

/** The NULL mechanism's READY command with one property, Socket-Type. */
function ready(socketType: string): Buffer {
  const name = Buffer.from('Socket-Type');
  const value = Buffer.from(socketType);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(value.length);
  const body = Buffer.concat([Buffer.from([5]), Buffer.from('READY'), Buffer.from([name.length]), name, len, value]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/** A long message frame's header (flags 0x02: long size, last frame) announcing `size` bytes. */
function frameHeader(size: bigint): Buffer {
  const h = Buffer.alloc(9);
  h[0] = 0x02;
  h.writeBigUInt64BE(size, 1);
  return h;
}

export interface StalledPeer {
  readonly socket: Socket;
  /** Resolves when the other side closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

/**
 * Connects to `tcp://host:port` as a `socketType` peer, announces a frame of `announced` bytes,
 * writes `sent` bytes of it and stalls (never finishes the frame, never reads beyond the handshake).
 */
export function stalledPeer(endpoint: string, socketType: string, announced: bigint, sent = 4096): StalledPeer {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`not a tcp endpoint: ${endpoint}`);
  const socket = connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''));
  let done = false;
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => ((done = true), resolve())));
  socket.write(greeting());
  socket.write(ready(socketType));
  socket.write(frameHeader(announced));
  socket.write(Buffer.alloc(sent, 0x5a));
  return { socket, closed, isClosed: () => done };
}

/** Resident and ArrayBuffer memory now, in MiB (after a GC when exposed). */
export function memoryMiB(): { rss: number; arrayBuffers: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: Math.round(m.rss / 2 ** 20), arrayBuffers: Math.round(m.arrayBuffers / 2 ** 20) };
}
