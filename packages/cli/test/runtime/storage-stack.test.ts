import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { openStorage } from '../../src/runtime/storage-stack.js';

describe('openStorage', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tierkv-cli-stack-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an fs path that is a plain file is a ConfigError naming l2.fs.path (not an unexpected EEXIST)', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const err = await openStorage({ l1: { size: 2 ** 20, eviction: 'lru' }, chunkTokens: 256, fs: { path: file } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).message).to.match(/l2\.fs\.path/).and.match(/not a directory/);
  });
});
