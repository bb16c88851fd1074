import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createProgram } from '../../src/cli.js';
import { longFlag } from '../../src/config/config-field.js';
import { CONTROLLER_CONFIG_FIELDS } from '../../src/config/controller-config.js';
import { DEMO_CONFIG_FIELDS } from '../../src/config/demo-config.js';
import { DEFAULT_SERVER_CONFIG, SERVER_CONFIG_FIELDS, serverConfigSchema } from '../../src/config/server-config.js';
import { loadConfigFile } from '../../src/config/config-file.js';
import { resolveConfig } from '../../src/config/resolve-config.js';

const doc = readFileSync(new URL('../../../../docs/cli.md', import.meta.url), 'utf8');

/** The part of docs/cli.md about one command. */
function section(command: string): string {
  const start = doc.indexOf(`## \`tierkv ${command}\``);
  expect(start, `docs/cli.md has a section for tierkv ${command}`).to.be.greaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/cli.md', () => {
  for (const [command, fields] of [['server', SERVER_CONFIG_FIELDS], ['controller', CONTROLLER_CONFIG_FIELDS], ['demo', DEMO_CONFIG_FIELDS]] as const) {
    it(`documents every flag and env var of tierkv ${command}`, () => {
      const text = section(command);
      for (const field of fields) {
        expect(text, longFlag(field)).to.contain(`\`${longFlag(field)}`);
        if (field.env) expect(text, field.env).to.contain(`\`${field.env}\``);
      }
    });
  }

  it('documents every option commander knows, for every command', () => {
    for (const command of createProgram().commands) {
      const text = section(command.name());
      for (const option of command.options) expect(text, `${command.name()} ${option.long}`).to.contain(`\`${option.long}`);
    }
  });

  it('its config file examples are valid server configurations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierkv-cli-doc-'));
    try {
      for (const [lang, ext] of [['yaml', 'yaml'], ['json', 'json']] as const) {
        const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc);
        expect(block, `a ${lang} example`).to.not.equal(null);
        const file = join(dir, `example.${ext}`);
        writeFileSync(file, block![1]!);
        const config = resolveConfig(serverConfigSchema, SERVER_CONFIG_FIELDS, { defaults: DEFAULT_SERVER_CONFIG, env: {}, file: loadConfigFile(file) });
        expect(config.l1.size).to.equal(4 * 1024 ** 3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
