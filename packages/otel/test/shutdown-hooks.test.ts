import { expect } from 'chai';
import { installShutdownHooks } from '../src/index.js';

describe('installShutdownHooks', () => {
  it('on SIGTERM runs beforeShutdown, then shutdown, then removes itself (exit: false)', async () => {
    const calls: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const before = process.listenerCount('SIGTERM');
    installShutdownHooks(
      {
        shutdown: async () => {
          calls.push('shutdown');
          done();
        },
      },
      { exit: false, beforeShutdown: () => void calls.push('before') },
    );
    expect(process.listenerCount('SIGTERM')).to.equal(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    await finished;
    await new Promise((r) => setImmediate(r));
    expect(calls).to.deep.equal(['before', 'shutdown']);
    expect(process.listenerCount('SIGTERM')).to.equal(before);
  });

  it('the returned function removes the hooks', () => {
    const before = process.listenerCount('SIGINT');
    const uninstall = installShutdownHooks({ shutdown: async () => undefined }, { exit: false });
    expect(process.listenerCount('SIGINT')).to.equal(before + 1);
    uninstall();
    expect(process.listenerCount('SIGINT')).to.equal(before);
  });
});

describe('installShutdownHooks in a real process', () => {
  it('SIGTERM makes the final OTLP export and exits with 143', async function () {
    this.timeout(20_000);
    const { spawn } = await import('node:child_process');
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const { startOtlpReceiver, otlpPoints } = await import('@tierkv/test-utils/otlp-receiver');
    const receiver = await startOtlpReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'tierkv-hooks-'));
    try {
      const dist = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;
      const script = join(dir, 'child.mjs');
      writeFileSync(
        script,
        `import { startTelemetry, installShutdownHooks } from ${JSON.stringify(dist)};
         const handle = await startTelemetry({ env: {}, serviceName: 'child', exporters: ['otlp'],
           otlp: { endpoint: ${JSON.stringify(receiver.url)} }, exportIntervalMillis: 600000 });
         installShutdownHooks(handle);
         handle.meterProvider.getMeter('child').createHistogram('tierkv.telemetry.export.duration').record(0.125);
         console.log('ready');
         setInterval(() => {}, 1000);`,
      );
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).to.equal(143);
      expect(receiver.exports).to.have.length(1);
      const point = otlpPoints(receiver.exports[0]!.request).find((p) => p.scope === 'child');
      expect(point?.sum).to.equal(0.125);
    } finally {
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
