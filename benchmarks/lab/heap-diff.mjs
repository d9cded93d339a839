// Compares two V8 heap snapshots by constructor: which kinds of object grew between them.
//   node benchmarks/lab/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [rows]
// Prints the count and self size deltas of the kinds that grew most (V8 node type + name).
import { readFileSync } from 'node:fs';

function countByKind(file) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    // Strings and numbers are named by their contents: group them by type only.
    const name = ['string', 'concatenated string', 'sliced string', 'number', 'hidden', 'code'].includes(type) ? '' : strings[nodes[i + nameAt]].slice(0, 80);
    const key = `${type}:${name}`;
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
