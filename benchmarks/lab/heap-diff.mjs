// Compares two V8 heap snapshots by constructor: which kinds of object grew between them.
//   node benchmarks/lab/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [rows] [--by-retainer]
// Prints the count and self size deltas of the kinds that grew most (V8 node type + name); with
// --by-retainer, a kind is also told apart by what holds it (the first retainer's edge and kind).
import { readFileSync } from 'node:fs';

const isByRetainer = process.argv.includes('--by-retainer');

function countByKind(file) {
  const { snapshot, nodes, edges, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f));
  const ef = snapshot.meta.edge_fields.length;
  const [edgeTypeAt, edgeNameAt, toAt] = ['type', 'name_or_index', 'to_node'].map((f) => snapshot.meta.edge_fields.indexOf(f));
  const edgeTypes = snapshot.meta.edge_types[0];
  const kindOf = (i) => {
    const type = types[nodes[i + typeAt]];
    // Strings and numbers are named by their contents: group them by type only.
    const name = ['string', 'concatenated string', 'sliced string', 'number', 'hidden', 'code'].includes(type) ? '' : strings[nodes[i + nameAt]].slice(0, 60);
    return `${type}:${name}`;
  };
  const holder = new Map();
  if (isByRetainer) {
    for (let i = 0, e = 0; i < nodes.length; i += fields.length) {
      for (let k = 0; k < nodes[i + edgeCountAt]; k++, e += ef) {
        const type = edgeTypes[edges[e + edgeTypeAt]];
        if (type === 'weak' || holder.has(edges[e + toAt])) continue;
        const edge = ['element', 'hidden'].includes(type) ? '[]' : `.${strings[edges[e + edgeNameAt]]}`.slice(0, 40);
        holder.set(edges[e + toAt], ` <- ${edge} ${kindOf(i)}`);
      }
    }
  }
  const kinds = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const key = kindOf(i) + (holder.get(i) ?? '');
    const kind = kinds.get(key) ?? { count: 0, size: 0 };
    kind.count += 1;
    kind.size += nodes[i + sizeAt];
    total += nodes[i + sizeAt];
    kinds.set(key, kind);
  }
  return { kinds, total };
}

const [beforeFile, afterFile, rows = '30'] = process.argv.slice(2);
const before = countByKind(beforeFile);
const after = countByKind(afterFile);
const deltas = [...after.kinds].map(([key, { count, size }]) => {
  const was = before.kinds.get(key) ?? { count: 0, size: 0 };
  return { key, count: count - was.count, size: size - was.size, now: count };
});
for (const [key, was] of before.kinds) if (!after.kinds.has(key)) deltas.push({ key, count: -was.count, size: -was.size, now: 0 });
console.log(`self size ${(before.total / 1048576).toFixed(1)} MB -> ${(after.total / 1048576).toFixed(1)} MB`);
console.log('  Δcount     Δbytes      now  kind');
for (const d of deltas.sort((a, b) => b.size - a.size).slice(0, Number(rows))) {
  console.log(`${String(d.count).padStart(8)} ${String(d.size).padStart(10)} ${String(d.now).padStart(8)}  ${d.key}`);
}
