// `prepack` of every published package (run in the package's directory by npm pack/publish):
// builds it afresh (dist/ removed first, so files of deleted sources never ship, and a pack never
// ships an empty dist/), and copies the repository's LICENSE in.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
rmSync(join(process.cwd(), 'dist'), { recursive: true, force: true });
const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: process.cwd(), stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
copyFileSync(join(root, 'LICENSE'), join(process.cwd(), 'LICENSE'));
