import { createRequire } from 'node:module';
import { ConfigError, debugLogger } from '@tierkv/core';

const log = debugLogger('tierkv:xxh3');

/** Which code computes XXH3: the native addon (SIMD, memory speed) or the WebAssembly fallback. */
export type Xxh3Implementation = 'native' | 'wasm';

/**
 * XXH3-64 (seed 0) of a payload, as its 8-byte canonical (big-endian) digest: the bytes the L2
 * formats record. Both implementations compute the same values (the tests compare them).
 */
export interface Xxh3Hasher {
  readonly implementation: Xxh3Implementation;
  digest(data: Uint8Array): Uint8Array;
}

/** Bytes of an XXH3-64 digest. */
export const XXH3_DIGEST_BYTES = 8;

/**
 * Overrides the automatic choice (tests, or a platform whose native addon misbehaves): `native`
 * (fail when it cannot load) or `wasm`. Read when a hasher is first asked for.
 */
export const XXH3_IMPLEMENTATION_ENV = 'TIERKV_XXH3';

interface XxhashAddon {
  XXHash3: { hash(data: Uint8Array): Uint8Array };
}

let nativeHasher: Xxh3Hasher | null | undefined;
let nativeError: unknown;
let wasmHasher: Promise<Xxh3Hasher> | undefined;

/**
 * The native XXH3 (`xxhash-addon`: prebuilt N-API binaries for linux/macOS/Windows on x64 and
 * arm64, glibc and musl, dispatching to SSE2/AVX2/AVX-512 at run time), or undefined when this
 * platform has no prebuilt binary (npm runs no install scripts here, so it is never compiled).
 */
export function nativeXxh3(): Xxh3Hasher | undefined {
  if (nativeHasher === undefined) {
    try {
      const addon = createRequire(import.meta.url)('xxhash-addon') as XxhashAddon;
      const hash = addon.XXHash3.hash.bind(addon.XXHash3);
      nativeHasher = Object.freeze({ implementation: 'native' as const, digest: (data: Uint8Array) => hash(data) });
    } catch (err) {
      nativeError = err;
      nativeHasher = null;
      log('native XXH3 (xxhash-addon) unavailable: %s', String(err));
    }
  }
  return nativeHasher ?? undefined;
}

/** The WebAssembly XXH3 (`hash-wasm`): every platform with WebAssembly, about 7× slower than native. */
export function wasmXxh3(): Promise<Xxh3Hasher> {
  wasmHasher ??= import('hash-wasm').then(async ({ createXXHash3 }) => {
    const state = await createXXHash3();
    return Object.freeze({
      implementation: 'wasm' as const,
      digest: (data: Uint8Array) => state.init().update(data).digest('binary'),
    });
  });
  return wasmHasher;
}

/**
 * The XXH3 to use: native when it loads, else the WebAssembly one (a promise: it compiles first);
 * `TIERKV_XXH3=native|wasm` forces one. Throws ConfigError, synchronously, when a forced native one
 * cannot load or for any other value.
 */
export function selectXxh3(): Xxh3Hasher | Promise<Xxh3Hasher> {
  const forced = process.env[XXH3_IMPLEMENTATION_ENV];
  if (forced === 'wasm') return wasmXxh3();
  if (forced !== undefined && forced !== '' && forced !== 'native') {
    throw new ConfigError(XXH3_IMPLEMENTATION_ENV, `expected 'native', 'wasm' or unset (automatic), got ${JSON.stringify(forced)}`);
  }
  const native = nativeXxh3();
  if (native) return native;
  if (forced === 'native') {
    throw new ConfigError(XXH3_IMPLEMENTATION_ENV, `the native XXH3 (xxhash-addon) does not load on ${process.platform}-${process.arch}: ${String(nativeError)}; unset it to use the WebAssembly one`);
  }
  return wasmXxh3();
}

/** selectXxh3, always as a promise. */
export async function loadXxh3(): Promise<Xxh3Hasher> {
  return selectXxh3();
}

/** Whether `digest` equals the 8 bytes of `expected` at `offset`. */
export function digestEquals(digest: Uint8Array, expected: Uint8Array, offset: number): boolean {
  if (digest.length !== XXH3_DIGEST_BYTES || expected.length < offset + XXH3_DIGEST_BYTES) return false;
  for (let i = 0; i < XXH3_DIGEST_BYTES; i++) if (digest[i] !== expected[offset + i]) return false;
  return true;
}
