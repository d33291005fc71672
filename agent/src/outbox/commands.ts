import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '@medtel/shared';
import type { AgentConfig } from '../config.js';
import { Outbox } from './outbox.js';

/** `medtel-agent outbox ...`: look into and trim a gateway's outbox from a shell. */

function outboxFile(config: AgentConfig, configFile: string): string {
  return join(resolve(dirname(resolve(configFile)), config.stateDir), 'outbox.db');
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const age = (createdAt: number | null) => (createdAt === null ? '-' : `${((Date.now() - createdAt) / 1000).toFixed(0)} s`);

export function outboxStats(config: AgentConfig, configFile: string, json: boolean): string {
  const outbox = Outbox.open(outboxFile(config, configFile), { site: config.gateway.site, gateway: config.gateway.id, readonly: true });
  try {
    const s = outbox.stats();
    if (json) return JSON.stringify(s);
    const kinds = Object.entries(s.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return [
      `messages waiting: ${s.rows}${kinds ? ` (${kinds})` : ''}`,
      `size:             ${mib(s.bytes)} of ${config.outbox.maxBytes}`,
      `oldest:           ${age(s.oldestCreatedAt)} old`,
    ].join('\n');
  } finally {
    outbox.close();
  }
}

export function outboxPeek(config: AgentConfig, configFile: string, limit: number, bodies: boolean): string {
  const outbox = Outbox.open(outboxFile(config, configFile), { site: config.gateway.site, gateway: config.gateway.id, readonly: true });
  try {
    const rows = outbox.peek(limit);
    if (rows.length === 0) return 'the outbox is empty';
    return rows
      .map(
        (r) =>
          `${String(r.seq).padStart(8)}  p${r.priority}  ${r.kind.padEnd(6)}  ${(r.device ?? '-').padEnd(16)}  ${String(r.bytes).padStart(6)} B  ${age(r.createdAt).padStart(8)}  ${r.topic}${bodies ? `\n          ${r.body}` : ''}`,
      )
      .join('\n');
  } finally {
    outbox.close();
  }
}

/** Needs the agent stopped (it takes the state directory's lock). Reports what it removed as gaps. */
export function outboxPurge(config: AgentConfig, configFile: string, olderThan: string): string {
  const cutoff = Date.now() - parseDuration(olderThan);
  const outbox = Outbox.open(outboxFile(config, configFile), { site: config.gateway.site, gateway: config.gateway.id });
  try {
    const { messages, readings } = outbox.purgeOlderThan(cutoff);
    return `purged ${messages} message${messages === 1 ? '' : 's'} (${readings} readings) older than ${olderThan}; gap messages queued so the collector records what is missing`;
  } finally {
    outbox.close();
  }
}
