import type { DemoStats } from './demo-stats.js';
import { bytesRate, count, formatSize, ms, percent, rate } from './format.js';

export interface SummaryInput {
  readonly stats: DemoStats;
  readonly elapsedS: number;
  readonly clients: number;
  readonly seed: number;
  readonly chunkBytes: number;
  /** Rows about state at the end: `L1 usage` → `12 MiB of 256 MiB, 98 chunks`. */
  readonly tiers: readonly { label: string; value: string }[];
  /** Where to look: `Prometheus` → URL. */
  readonly endpoints: readonly { name: string; url: string }[];
  /** Lines shown under the table (degraded parts, hints). */
  readonly notes?: readonly string[];
}

/** Renders rows as a two-column table with a box around it. */
export function renderTable(title: string, rows: readonly (readonly [string, string])[]): string {
  const left = Math.max(...rows.map(([k]) => k.length));
  const right = Math.max(title.length - left - 3, ...rows.map(([, v]) => v.length));
  const width = left + right + 3;
  const line = (a: string, b: string) => `│ ${a.padEnd(left)} │ ${b.padEnd(right)} │`;
  return [
    `┌${'─'.repeat(width + 2)}┐`,
    `│ ${title.padEnd(width)} │`,
    `├${'─'.repeat(left + 2)}┬${'─'.repeat(right + 2)}┤`,
    ...rows.map(([k, v]) => line(k, v)),
    `└${'─'.repeat(left + 2)}┴${'─'.repeat(right + 2)}┘`,
  ].join('\n');
}

/** The final summary of `tierkv demo`: requests, hit ratio per tier, bytes moved, throughput, where the metrics are. */
export function renderSummary(input: SummaryInput): string {
  const { stats: s, elapsedS: t } = input;
  const total = s.lookedUpChunks;
  const rows: [string, string][] = [
    ['duration', `${t.toFixed(1)} s, ${input.clients} client${input.clients === 1 ? '' : 's'}, seed ${input.seed}`],
    ['requests', `${count(s.requests)} (${rate(s.requests, t)} req/s), ${count(s.failedRequests)} failed`],
    ['BUSY retried', `${count(s.busyRetries)} times (with backoff; a request fails only when its retries run out)`],
    ...(s.routeLookups + s.routeLookupErrors > 0
      ? [
          [
            'routed by controller',
            `${count(s.routeLookups)} lookups (${ms(s.routeLookups ? s.routeLookupMs / s.routeLookups : undefined)} avg), ` +
              `${count(s.routePredictedChunks)} chunks held per its answers${s.routeLookupErrors ? `, ${count(s.routeLookupErrors)} lookups failed` : ''}`,
          ] as [string, string],
        ]
      : []),
    ...(s.scoreRequests + s.scoreErrors > 0
      ? [
          [
            'routed by score',
            `${count(s.scoreRequests)} scores (${ms(s.scoreRequests ? s.scoreMs / s.scoreRequests : undefined)} avg), ` +
              `${count(s.scoredRoutes)} requests to the best-scored server, which had ${count(s.scoreHitChunks)} of the ${count(s.scorePredictedChunks)} chunks scored ready ` +
              `(${percent(s.scoreHitChunks, s.scorePredictedChunks)})${s.scoreErrors ? `, ${count(s.scoreErrors)} scores failed` : ''}`,
          ] as [string, string],
        ]
      : []),
    ...(s.serverRequests.length > 1
      ? [['requests by server', Array.from(s.serverRequests, (n, i) => `s${i} ${count(n ?? 0)}`).join(', ')] as [string, string]]
      : []),
    ['chunks looked up', `${count(total)} × ${formatSize(input.chunkBytes)}`],
    ['hit ratio L1', `${percent(s.l1Hits, total)} (${count(s.l1Hits)} chunks)`],
    ['hit ratio L2', `${percent(s.l2Hits, total)} (${count(s.l2Hits)} chunks)`],
    ['miss', `${percent(s.misses, total)} (${count(s.misses)} chunks)`],
    ['bytes retrieved', `${formatSize(s.bytesRetrieved)} (${bytesRate(s.bytesRetrieved, t)})`],
    ['bytes stored', `${formatSize(s.bytesStored)} (${bytesRate(s.bytesStored, t)}), ${count(s.storedChunks)} chunks`],
    ['throughput', `${bytesRate(s.bytesRetrieved + s.bytesStored, t)}`],
    ['latency p50 / p99', `${ms(s.latencyPercentile(50))} / ${ms(s.latencyPercentile(99))} per request`],
    ['verified', s.verifyFailures === 0 ? 'every retrieved byte matched' : `${count(s.verifyFailures)} chunks MISMATCHED`],
    ...input.tiers.map((row) => [row.label, row.value] as [string, string]),
    ...input.endpoints.map((e) => [e.name, e.url] as [string, string]),
  ];
  const notes = [
    ...(input.endpoints.length > 0 ? ['(the endpoints served while the demo ran; `tierkv server` and `tierkv controller` keep them up)'] : []),
    ...(input.notes ?? []),
    ...s.errors.map((e) => `error: ${e}`),
  ];
  return `${renderTable('tierkv demo summary', rows)}${notes.length ? `\n${notes.map((n) => `  ${n}`).join('\n')}` : ''}\n`;
}
