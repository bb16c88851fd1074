#!/usr/bin/env node
// Prints the hottest frames of a V8 .cpuprofile (from `node --cpu-prof`): self time and inclusive
// time per function, as a share of all samples. Used for the explanations in docs/benchmarks.md.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/bench/dist/cli.js --only l1.small-ops --repeat 1 --warmup 0 --no-docs --json /tmp/p.json
//   node packages/bench/scripts/cpu-profile-top.mjs /tmp/prof/*.cpuprofile [--top 25] [--filter storage]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
let top = 25;
let filter;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--filter') filter = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: cpu-profile-top.mjs <file.cpuprofile>… [--top N] [--filter substring-of-url]');
  process.exit(2);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfSamples = new Map();
  for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const label = (n) => {
    const f = n.callFrame;
    const url = f.url ? relative(process.cwd(), f.url.replace(/^file:\/\//, '')) : '';
    return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of selfSamples) {
    const node = byId.get(id);
    const l = label(node);
    self.set(l, (self.get(l) ?? 0) + count);
    // Inclusive: every distinct function on the stack of these samples, once per stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = label(byId.get(cur));
      if (seen.has(cl)) continue;
      seen.add(cl);
      inclusive.set(cl, (inclusive.get(cl) ?? 0) + count);
    }
  }
  const show = (title, map) => {
    console.log(`\n${title} (${file}, ${total} samples)`);
    const rows = [...map].filter(([l]) => !filter || l.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [l, c] of rows) console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${l}`);
  };
  show('self time', self);
  show('inclusive time', inclusive);
}
