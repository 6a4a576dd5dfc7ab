/**
 * Where a live (queued) task's bytes go: heap snapshots before and after submitting N tasks
 * no agent can take (as bench/orchestrator.ts measures them), diffed by constructor name.
 * `node --expose-gc -r @swc-node/register bench/profiles/liveTaskHeap.ts [N=5000]`
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { createNeuroFlux } from '../../src';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

function byName(file: string): Map<string, { size: number; count: number }> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  rmSync(file);
  const fields = data.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = data.snapshot.meta.node_types[0];
  const edgeWidth = data.snapshot.meta.edge_fields.length;
  const edgeTypes = data.snapshot.meta.edge_types[0];
  const edgeCountAt = fields.indexOf('edge_count');
  const nodeName = (i: number): string => {
    const type = types[data.nodes[i + typeAt] as number] as string;
    return type === 'object' || type === 'native' || type === 'closure' ? `${type}:${data.strings[data.nodes[i + nameAt] as number] as string}` : `(${type})`;
  };
  // The first retainer of each node (its owner's name and the edge's name), to tell arrays and plain objects apart.
  const owner = new Map<number, string>();
  let edge = 0;
  for (let i = 0; i < data.nodes.length; i += width) {
    const count = data.nodes[i + edgeCountAt] as number;
    for (let e = 0; e < count; e++, edge += edgeWidth) {
      const to = data.edges[edge + 2] as number;
      if (owner.has(to)) continue;
      const edgeType = edgeTypes[data.edges[edge] as number] as string;
      if (edgeType === 'weak') continue;
      const nameOrIndex = data.edges[edge + 1] as number;
      const label = edgeType === 'element' || edgeType === 'hidden' ? `[${edgeType}]` : String(data.strings[nameOrIndex]);
      owner.set(to, `${nodeName(i)}.${label}`);
    }
  }
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt] as number] as string;
    const name = nodeName(i);
    const key = (type === 'array' || name === 'object:Object' || type === 'hidden' ? `${name} <- ${owner.get(i) ?? '?'}` : name).slice(0, 110);
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += data.nodes[i + sizeAt] as number;
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 5000);
  const nf = createNeuroFlux({ orchestrator: { retention: { maxRecords: 0, maxAgeMs: 0 } } });
  nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 1000, execute: () => undefined });
  await nf.start();
  await nf.orchestrator.submitWorkflowAsync({ tasks: [{ taskId: 'warm', requiredCapabilities: ['absent'] }] }, { requireCapableAgents: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = byName(writeHeapSnapshot('/tmp/live-before.heapsnapshot'));
  await nf.orchestrator.submitWorkflowAsync(
    { tasks: Array.from({ length: n }, (_, i) => ({ taskId: `live${i}`, requiredCapabilities: ['absent'] })) },
    { requireCapableAgents: false },
  );
  gc?.();
  const after = byName(writeHeapSnapshot('/tmp/live-after.heapsnapshot'));
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { size: 0, count: 0 };
    return { key, bytes: (a.size - b.size) / n, count: (a.count - b.count) / n };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  let total = 0;
  for (const row of rows) total += row.bytes;
  console.log(`bytes per live task: ${total.toFixed(0)}`);
  for (const row of rows.slice(0, 60)) console.log(`${row.bytes.toFixed(1).padStart(8)} B  ${row.count.toFixed(2).padStart(6)}/task  ${row.key}`);
  await nf.stop();
}

void main();
