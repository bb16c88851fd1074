/**
 * A ROUTER receives `[identity, payload]` from a DEALER that sends bare payloads, and
 * `[identity, '', payload]` from a REQ or a DEALER that mimics one. The payload is always the last
 * frame; the reply goes back in the same layout so either peer can parse it.
 */
export interface RouterFrames {
  readonly identity: Buffer;
  /** The frames between identity and payload (empty, or one empty delimiter), echoed in the reply. */
  readonly envelope: readonly Buffer[];
  readonly payload: Buffer;
}

export function parseRouterFrames(frames: readonly Buffer[]): RouterFrames | undefined {
  if (frames.length < 2) return undefined;
  return { identity: frames[0]!, envelope: frames.slice(1, -1), payload: frames[frames.length - 1]! };
}
