import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentMetrics } from '@medtel/agent';
import { createCollectorMetrics } from '@medtel/collector';
import { createMetricsRegistry, type Registry } from '@medtel/shared';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/**
 * docs/metrics.md is what operators build dashboards and alerts from: every metric the agent and
 * the collector register is in it with its type and labels, and it names none that does not exist.
 * The registries are the ones the programs create (createAgentMetrics, createCollectorMetrics).
 */
interface Described {
  name: string;
  type: string;
  labels: string[];
}

async function describeRegistry(registry: Registry): Promise<Described[]> {
  return Promise.all(
    // The array's declared type is a plain object; at run time these are prom-client's metric instances.
    (registry.getMetricsAsArray() as unknown as Array<{ get(): Promise<{ name: string; type: unknown }>; labelNames?: string[] }>).map(async (metric) => {
      const { name, type } = await metric.get();
      const labels = (metric.labelNames ?? []).slice().sort();
      return { name, type: String(type), labels };
    }),
  );
}

/** Rows of the doc's tables whose first cell is a metric name: name -> { type, labels }. */
function documentedRows(markdown: string): Map<string, { type: string; labels: string[] }> {
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`(medtel_[a-z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const labels = (cells[3] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
    rows.set(name, { type: cells[2] ?? '', labels });
  }
  return rows;
}

describe('docs/metrics.md', async () => {
  const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const rows = documentedRows(doc);
  // Node's process metrics (prom-client defaults, prefixed medtel_) are described in prose, not row by row.
  const defaults = new Set((await describeRegistry(createMetricsRegistry('defaults'))).map((m) => m.name));
  const registered = [...(await describeRegistry(createAgentMetrics().registry)), ...(await describeRegistry(createCollectorMetrics().registry))];
  const own = registered.filter((m) => !defaults.has(m.name));

  it('documents every metric the agent and the collector register, with its type and labels', () => {
    expect(own.length).toBeGreaterThan(30);
    const wrong = own.flatMap((m) => {
      const row = rows.get(m.name);
      if (!row) return [`${m.name}: registered, not documented`];
      if (row.type !== m.type || row.labels.join() !== m.labels.join())
        return [`${m.name}: documented as ${row.type} [${row.labels}], registered as ${m.type} [${m.labels}]`];
      return [];
    });
    expect(wrong).toEqual([]);
  });

  it('names no metric that does not exist', () => {
    const exists = new Set(registered.map((m) => m.name));
    const mentioned = new Set(doc.match(/\bmedtel_[a-z0-9_]+/g) ?? []);
    const unknown = [...mentioned].filter((name) => !exists.has(name) && !name.endsWith('_'));
    expect(unknown, 'named in docs/metrics.md but registered by neither program').toEqual([]);
  });
});
