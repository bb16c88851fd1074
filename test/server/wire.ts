// Hand-built protocol frames for tests that send what a TierkvClient never would. Kept apart from
// @tierkv/server's internals on purpose: this is the documented wire format (docs/server.md).
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

/** Frames of a request: the 8-byte prelude ('TK', version 1, kind 0, u32 LE id), the msgpack header, chunks. */
export function request(id: number, header: object, chunks: Uint8Array[] = []): Uint8Array[] {
  const prelude = Buffer.alloc(8);
  prelude.write('TK', 0, 'latin1');
  prelude[2] = 1;
  prelude[3] = 0;
  prelude.writeUInt32LE(id, 4);
  return [prelude, packr.pack(header), ...chunks];
}

export function decodeHeaderForTest(frame: Uint8Array): Record<string, unknown> {
  return unpackr.unpack(frame) as Record<string, unknown>;
}
