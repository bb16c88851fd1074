import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

describe('docs/grafana-dashboard.json', () => {
  it('is what packages/otel/scripts/gen-grafana-dashboard.mjs generates (edit the script, then run it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierkv-dashboard-'));
    try {
      const out = join(dir, 'dashboard.json');
      const script = fileURLToPath(new URL('../../packages/otel/scripts/gen-grafana-dashboard.mjs', import.meta.url));
      const res = spawnSync(process.execPath, [script, out], { encoding: 'utf8' });
      expect(res.status, res.stderr).to.equal(0);
      expect(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')).to.equal(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
