import type { Contender, Workload } from './contenders.js';
import type { Summary } from './summary.js';

const COLORS: Record<Workload, string> = { page: '#2f6db5', write: '#d9822b', nodb: '#9aaab8' };
// Wide enough for the longer contender labels ("floor: raw sockets, no driver, no HTTP parser") in 12px.
const LABEL_WIDTH = 280;
const BAR_AREA = 520;
const WIDTH = LABEL_WIDTH + BAR_AREA + 90;
const BAR = 10;

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x: number, y: number, content: string, attrs = ''): string => `<text x="${x}" y="${y}" ${attrs}>${escape(content)}</text>`;
const rect = (x: number, y: number, width: number, height: number, fill: string): string =>
  `<rect x="${x}" y="${y}" width="${Math.max(width, 0.5).toFixed(1)}" height="${height}" fill="${fill}"/>`;

/**
 * A two-panel SVG: median req/s per contender and route, then the most database
 * connections each contender held. Plain SVG text, no dependencies.
 */
export function renderChart(summaries: readonly Summary[], contenders: readonly Pick<Contender, 'id' | 'label'>[], workloads: readonly Workload[], caption: string): string {
  const shown = contenders.filter((c) => summaries.some((s) => s.contender === c.id));
  const find = (id: string, w: Workload): Summary | undefined => summaries.find((s) => s.contender === id && s.workload === w);
  const maxRps = Math.max(...summaries.map((s) => s.rps), 1);
  const connections = (id: string): number => Math.max(0, ...summaries.filter((s) => s.contender === id).map((s) => s.maxConnections));
  const maxConnections = Math.max(...shown.map((c) => connections(c.id)), 1);
  const parts: string[] = [];
  let y = 30;
  parts.push(text(10, y, 'Median req/s by route (pgbench: transactions/s = pages/s)', 'font-weight="bold"'));
  y += 12;
  workloads.forEach((w, i) => {
    parts.push(rect(LABEL_WIDTH + i * 90, y, 10, 10, COLORS[w]), text(LABEL_WIDTH + i * 90 + 14, y + 9, `/${w}`));
  });
  y += 22;
  for (const contender of shown) {
    const bars = workloads.filter((w) => find(contender.id, w) !== undefined);
    const rowHeight = bars.length * (BAR + 2) + 8;
    const isOurs = contender.id.startsWith('pcluster');
    parts.push(text(LABEL_WIDTH - 8, y + rowHeight / 2, contender.label, `text-anchor="end"${isOurs ? ' font-weight="bold"' : ''}`));
    bars.forEach((w, i) => {
      const s = find(contender.id, w)!;
      const width = (s.rps / maxRps) * BAR_AREA;
      const top = y + i * (BAR + 2);
      parts.push(rect(LABEL_WIDTH, top, width, BAR, COLORS[w]), text(LABEL_WIDTH + width + 4, top + BAR - 1, s.rps.toFixed(0), 'font-size="10"'));
    });
    y += rowHeight;
  }
  y += 24;
  parts.push(text(10, y, 'Most database connections held during a run (any route; sampled every 100 ms)', 'font-weight="bold"'));
  y += 14;
  for (const contender of shown) {
    const count = connections(contender.id);
    const width = (count / maxConnections) * BAR_AREA;
    const isOurs = contender.id.startsWith('pcluster');
    parts.push(
      text(LABEL_WIDTH - 8, y + 11, contender.label, `text-anchor="end"${isOurs ? ' font-weight="bold"' : ''}`),
      rect(LABEL_WIDTH, y + 2, width, 12, isOurs ? '#2f6db5' : '#7d8b96'),
      text(LABEL_WIDTH + width + 4, y + 12, String(count), 'font-size="10"'),
    );
    y += 18;
  }
  y += 16;
  parts.push(text(10, y, caption, 'font-size="10" fill="#555"'));
  const height = y + 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
