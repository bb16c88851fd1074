import { LOWER_IS_BETTER_UNITS } from '../scenario.js';
import type { BenchReport, SubjectResult } from './bench-report.js';
import { formatRatio, formatValue } from './format.js';

const GIB = 1024 ** 3;

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function goalText(s: SubjectResult): string {
  if (s.goal === undefined) return '';
  if (s.goalKind === 'ratio') return `≥ ${s.goal}`;
  return `${s.goalKind === 'min' ? '≥' : '≤'} ${formatValue(s.goal, s.unit)}`;
}

function verdict(s: SubjectResult): string {
  if (s.goalMet === undefined) return '';
  return s.goalMet ? 'met' : '**not met**';
}

/** The report header: machine, Node, date, mode and peer versions. */
export function markdownHeader(report: BenchReport): string {
  const m = report.machine;
  const peers = Object.entries(report.peers)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const load = m.loadAverage;
  const busy = Math.max(load.start, load.end) > m.cores ? ' (busier than its cores: absolute figures are noisy, ratios less so)' : '';
  return [
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / GIB).toFixed(1)} GiB RAM, ${m.os}; load average ${load.start.toFixed(1)} at start, ${load.end.toFixed(1)} at end${busy}`,
    `- Node ${m.node}; run ${report.date}; ${report.quick ? 'quick' : 'full'} mode, ${report.repeat} repetition(s) after ${report.warmup} warm-up; ${report.durationS.toFixed(0)} s in all`,
    `- Peers: ${peers}`,
    ...(report.quick ? ['- Quick mode proves that every scenario works; with no warm-up (code not yet optimised by the JIT) and short slices its figures and goal verdicts are indicative only.'] : []),
  ].join('\n');
}

/**
 * One row per subject: median, spread (min – max over repetitions), and for compared subjects
 * the median of the per-repetition ratios with its own spread, the goal and whether it is met.
 */
export function markdownTable(report: BenchReport): string {
  const rows: string[] = [
    '| Scenario | Subject | Median | Min – max | Compared to | Ratio (min – max) | Goal | Result |',
    '|---|---|---:|---:|---|---:|---:|---|',
  ];
  for (const sc of report.scenarios) {
    if (sc.status !== 'ok') {
      rows.push(`| ${sc.name} | *${sc.status}*: ${escape(sc.reason ?? '')} | | | | | | ${sc.status === 'failed' ? '**failed**' : 'skipped'} |`);
      continue;
    }
    for (const s of sc.subjects) {
      const better = LOWER_IS_BETTER_UNITS.has(s.unit) ? ' ↓' : '';
      const ratio = s.ratio ? `${formatRatio(s.ratio.median)} (${formatRatio(s.ratio.min)} – ${formatRatio(s.ratio.max)})` : '';
      const subject = s.note ? `${escape(s.subject)} <br><sub>${escape(s.note)}</sub>` : escape(s.subject);
      rows.push(
        `| ${sc.name} | ${subject} | ${formatValue(s.spread.median, s.unit)}${better} | ${formatValue(s.spread.min, s.unit)} – ${formatValue(s.spread.max, s.unit)} | ${s.reference ? escape(s.reference) : ''} | ${ratio} | ${goalText(s)} | ${verdict(s)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** Goals and their outcome, one line each (for the console summary). */
export function goalSummary(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const sc of report.scenarios) {
    for (const s of sc.subjects) {
      if (s.goalMet === undefined) continue;
      const figure = s.goalKind === 'ratio' ? `ratio ${formatRatio(s.ratio?.median ?? Number.NaN)} vs ${s.reference}` : formatValue(s.spread.median, s.unit);
      lines.push(`${s.goalMet ? 'met    ' : 'NOT MET'} ${sc.name}: ${s.subject}: ${figure} (goal ${goalText(s)})`);
    }
  }
  return lines;
}

export function markdownReport(report: BenchReport): string {
  return `${markdownHeader(report)}\n\n${markdownTable(report)}\n`;
}
