import { redisL2Scenario as s } from './src/scenarios/redis.ts';
const ctx = { quick: process.argv[2] === 'quick', tmpDir: '/tmp', log: console.log, budgetMs: Number(process.argv[3] ?? 1500), repetition: 1 };
await s.setup!(ctx);
try {
  for (let rep = 0; rep < Number(process.argv[4] ?? 1); rep++) {
    const m = await s.run(ctx);
    const by = new Map(m.map((x) => [x.subject, x.value]));
    for (const x of m) console.log(`${x.subject.padEnd(52)} ${(x.value / 1e9).toFixed(3)} GB/s${x.reference ? `  ratio ${(x.value / by.get(x.reference)!).toFixed(2)}` : ''}`);
    console.log('---');
  }
} finally { await s.teardown!(ctx); }
