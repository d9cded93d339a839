// Objects in a later heap snapshot of a process that an earlier one of the same process did not have
// (V8 keeps node ids stable across one process's snapshots), grouped by kind, with a retainer path each.
//   node benchmarks/lab/heap-new-objects.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [kinds] [depth]
import { readFileSync } from 'node:fs';

const load = (file) => JSON.parse(readFileSync(file, 'utf8'));
const [beforeFile, afterFile, kindsArg = '15', depthArg = '8'] = process.argv.slice(2);
const before = load(beforeFile);
const after = load(afterFile);
const meta = after.snapshot.meta;
const nf = meta.node_fields.length;
const ef = meta.edge_fields.length;
const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
const [edgeTypeAt, edgeNameAt, toAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];

const oldIds = new Set();
for (let i = 0; i < before.nodes.length; i += nf) oldIds.add(before.nodes[i + idAt]);

const { nodes, edges, strings } = after;
const count = nodes.length / nf;
const label = (n) => `${nodeTypes[nodes[n * nf + typeAt]]}:${strings[nodes[n * nf + nameAt]].slice(0, 60)}`;
// Reverse edges: who points at each node (weak edges left out: they do not retain).
const retainers = Array.from({ length: count }, () => []);
for (let n = 0, e = 0; n < count; n++) {
  for (let k = 0; k < nodes[n * nf + edgeCountAt]; k++, e += ef) {
    const type = edgeTypes[edges[e + edgeTypeAt]];
    if (type === 'weak') continue;
    const name = type === 'element' || type === 'hidden' ? `[${edges[e + edgeNameAt]}]` : strings[edges[e + edgeNameAt]];
    retainers[edges[e + toAt] / nf].push({ from: n, name });
  }
}
const groups = new Map();
for (let n = 0; n < count; n++) {
  const type = nodeTypes[nodes[n * nf + typeAt]];
  if (oldIds.has(nodes[n * nf + idAt]) || ['code', 'hidden', 'synthetic', 'object shape'].includes(type)) continue;
  const key = label(n);
  const group = groups.get(key) ?? { count: 0, size: 0, sample: n };
  group.count += 1;
  group.size += nodes[n * nf + sizeAt];
  groups.set(key, group);
}
// One retainer path per kind: follow the first retainer that is not itself new code or a shape, to `depth`.
for (const [key, group] of [...groups].sort((a, b) => b[1].count - a[1].count).slice(0, Number(kindsArg))) {
  const path = [];
  const seen = new Set();
  for (let n = group.sample, d = 0; d < Number(depthArg); d++) {
    seen.add(n);
    const next = retainers[n].find((r) => !seen.has(r.from) && !['code', 'object shape', 'hidden'].includes(nodeTypes[nodes[r.from * nf + typeAt]]));
    if (next === undefined) break;
    path.push(`.${next.name} <- ${label(next.from)}`);
    n = next.from;
  }
  console.log(`${String(group.count).padStart(6)} new ${key} (${group.size} B)\n        ${path.join('\n        ')}`);
}
