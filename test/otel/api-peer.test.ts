import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));

// One API copy per process is what makes the global provider work: every package, @tierkv/otel and
// the CLI included, must take the host's @opentelemetry/api (a peer), never bring its own.
describe('@opentelemetry/api is a peer dependency of every package', () => {
  for (const dir of readdirSync(packagesDir)) {
    it(dir, () => {
      const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      expect(pkg['dependencies']?.['@opentelemetry/api'], 'not a dependency').to.equal(undefined);
      expect(pkg['peerDependencies']?.['@opentelemetry/api']).to.equal('>=1.3.0 <2');
      expect(pkg['peerDependenciesMeta']?.['@opentelemetry/api'], 'required, not optional: tierkv imports it').to.equal(undefined);
    });
  }
});
