import { MemoryLayout } from '@tierkv/core';

/**
 * The demo's chunk layout: K and V of `chunkTokens` tokens in float16, as wide as `chunkBytes`
 * allows (`float16[2, tokens, width]`); a flat byte layout when the sizes do not divide.
 */
export function demoLayout(chunkTokens: number, chunkBytes: number): MemoryLayout {
  const perTokenBytes = 2 * 2; // K and V, 2 bytes each
  if (chunkBytes % (perTokenBytes * chunkTokens) === 0) {
    return new MemoryLayout([[2, chunkTokens, chunkBytes / (perTokenBytes * chunkTokens)]], ['float16']);
  }
  return MemoryLayout.bytes(chunkBytes);
}
