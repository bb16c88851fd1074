import type { Socket } from 'node:net';
import { messageBuffers } from './stream-framing.js';

/**
 * Writes framed messages to one socket, corked until the current microtasks have run: every
 * message issued in one turn of the event loop (a client's pipelined requests, the replies to one
 * read's requests) leaves in a single `writev` instead of one syscall each.
 */
export class TurnWriter {
  #corked = false;

  constructor(private readonly socket: Socket) {}

  /** Writes `frames` as one message; `done` runs once its last buffer was handed to the kernel. */
  write(frames: readonly Uint8Array[], done: (err?: Error | null) => void): void {
    this.writeBuffers(messageBuffers(frames), done);
  }

  /** The same for a message already laid out by `messageBuffers`. */
  writeBuffers(buffers: readonly Uint8Array[], done: (err?: Error | null) => void): void {
    const socket = this.socket;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    for (let i = 0; i < buffers.length - 1; i++) socket.write(buffers[i]!);
    socket.write(buffers[buffers.length - 1]!, done);
  }
}
