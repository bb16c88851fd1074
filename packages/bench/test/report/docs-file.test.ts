import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BEGIN_MARKER, END_MARKER, writeBetweenMarkers } from '../../src/report/docs-file.js';

describe('writeBetweenMarkers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-docs-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces only the block between the markers', async () => {
    const file = join(dir, 'b.md');
    await writeFile(file, `# Title\n\nintro\n\n${BEGIN_MARKER}\nold table\n${END_MARKER}\n\n## After\n`);
    await writeBetweenMarkers(file, 'new table');
    const text = await readFile(file, 'utf8');
    expect(text).to.equal(`# Title\n\nintro\n\n${BEGIN_MARKER}\nnew table\n${END_MARKER}\n\n## After\n`);
  });

  it('appends the markers to a file without them, or creates the file', async () => {
    const file = join(dir, 'new.md');
    await writeBetweenMarkers(file, 'table');
    expect(await readFile(file, 'utf8')).to.equal(`${BEGIN_MARKER}\ntable\n${END_MARKER}\n`);
  });
});
