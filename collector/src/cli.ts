#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, Keyring, KeyringError, MEDTEL_VERSION, stopOnSignals, startTracing, logTracing } from '@medtel/shared';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog, type AuditVerifyResult, describeVerifyResult } from './audit/index.js';
import { KeyFileError, ROLES, isRole, issueToken, loadOrCreateSigningKey, parseTtl } from './auth/index.js';
import { registerGatewayCommands } from './cli-gateway.js';
import { registerPkiCommands } from './cli-pki.js';
import { startCollector } from './collector.js';
import { loadCollectorConfig } from './config.js';
import { PhiOpener } from './phi/opener.js';
import { generateSecret, hashSecret } from './secrets.js';
import { describeStore, openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

function fail(err: unknown): never {
  if (err instanceof ConfigError || err instanceof KeyFileError || err instanceof KeyringError) {
    process.stderr.write(`medtel-collector: ${err.message}\n`);
    process.exit(2);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
    process.stderr.write(
      `medtel-collector: cannot listen on ${e.address ?? ''}:${e.port ?? ''}: ${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}; change mqtt.port or http.port\n`,
    );
    process.exit(1);
  }
  throw err;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

const program = new Command('medtel-collector').description('MQTT broker, store, device registry and web API for medtel gateways.').version(MEDTEL_VERSION);

program
  .command('run')
  .description('run the collector in the foreground; every setting has a default (loopback, ./data)')
  .option('-c, --config <file>', 'collector config (YAML)')
  .action(async (opts: { config?: string }) => {
    let collector: Awaited<ReturnType<typeof startCollector>>;
    // Before anything that makes spans; off (no SDK loaded) unless OTEL_* asks for it.
    const tracing = await startTracing({ serviceName: 'medtel-collector' });
    try {
      collector = await startCollector(loadCollectorConfig(opts.config));
    } catch (err) {
      fail(err);
    }
    logTracing(tracing, collector.logger);
    stopOnSignals(
      async () => {
        await collector.stop();
        await tracing.shutdown();
        // Bounded: a replica behind a balancer is replaced, not waited for; gateways re-send what was not acknowledged.
      },
      collector.logger,
      { deadlineMs: 15_000 },
    );
  });

program
  .command('hash-secret')
  .description('print the scrypt hash of a gateway secret read from standard input, for gateways[].secretHash')
  .option('--generate', 'generate a new random secret; print it and its hash')
  .action(async (opts: { generate?: boolean }) => {
    const secret = opts.generate ? generateSecret() : await readStdin();
    if (!secret) {
      process.stderr.write('medtel-collector: hash-secret: no secret on standard input (or use --generate)\n');
      process.exit(2);
    }
    const hash = await hashSecret(secret);
    process.stdout.write(opts.generate ? `secret: ${secret}\nsecretHash: ${hash}\n` : `${hash}\n`);
  });

program
  .command('check')
  .description('validate the config and exit')
  .option('-c, --config <file>', 'collector config (YAML)')
  .action((opts: { config?: string }) => {
    try {
      const config = loadCollectorConfig(opts.config);
      process.stdout.write(`${opts.config ?? '(defaults)'}: ok (${config.gateways.length} gateway${config.gateways.length === 1 ? '' : 's'})\n`);
    } catch (err) {
      fail(err);
    }
  });

const token = program.command('token').description('API tokens');
token
  .command('issue')
  .description("print a bearer token signed with this collector's key (for local users and scripts)")
  .option('-c, --config <file>', 'collector config (YAML), for auth.keyFile')
  .requiredOption('--sub <name>', 'who the token is for (recorded in the audit trail)')
  .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
  .option('--ttl <duration>', 'lifetime, e.g. 30m, 8h, 7d (at most 30d)', '8h')
  .action(async (opts: { config?: string; sub: string; role: string; ttl: string }) => {
    if (!isRole(opts.role)) fail(new ConfigError(`--role: found "${opts.role}", expected one of ${ROLES.join(', ')}`, 'command line'));
    let ttl: number;
    try {
      ttl = parseTtl(opts.ttl);
    } catch (err) {
      fail(new ConfigError(`--ttl: ${(err as Error).message}`, 'command line'));
    }
    try {
      const config = loadCollectorConfig(opts.config);
      const key = await loadOrCreateSigningKey(config.auth.keyFile);
      process.stdout.write(`${await issueToken(key, { sub: opts.sub, role: opts.role, ttl })}\n`);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('audit')
  .description('audit trail commands')
  .command('verify')
  .description('check the hash chain of the audit trail: finds edited, inserted, deleted or reordered entries (exit 1 if broken)')
  .option('-c, --config <file>', 'collector config (YAML), for store.path')
  .action(async (opts: { config?: string }) => {
    let config: ReturnType<typeof loadCollectorConfig>;
    try {
      config = loadCollectorConfig(opts.config);
    } catch (err) {
      fail(err);
    }
    let result: AuditVerifyResult;
    if (config.store.url) {
      // PostgreSQL: verify reads one snapshot, so it can run while replicas append.
      let store: Store | undefined;
      try {
        store = await openStore(config);
        result = await store.audit.verify();
      } catch (err) {
        process.stderr.write(`medtel-collector: audit verify: cannot open the store: ${(err as Error).message}\n`);
        process.exit(2);
      } finally {
        await store?.close();
      }
    } else {
      let db: Database.Database;
      try {
        db = new Database(config.store.path, { readonly: true, fileMustExist: true });
      } catch (err) {
        process.stderr.write(`medtel-collector: audit verify: cannot open the store: ${(err as Error).message}\n`);
        process.exit(2);
      }
      result = new AuditLog(db).verify();
      db.close();
    }
    process.stdout.write(`${describeVerifyResult(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });

program
  .command('migrate')
  .description(
    "bring the store (SQLite file or PostgreSQL) to this version's schema and exit; `run` does it too, this is for a deploy step before replicas start",
  )
  .option('-c, --config <file>', 'collector config (YAML), for store')
  .action(async (opts: { config?: string }) => {
    try {
      const config = loadCollectorConfig(opts.config);
      const store = await openStore(config);
      await store.close();
      process.stdout.write(`store migrated: ${describeStore(config)}\n`);
    } catch (err) {
      if (err instanceof ConfigError) fail(err);
      process.stderr.write(`medtel-collector: migrate: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('phi')
  .description('sealed patient data (docs/phi.md)')
  .command('open')
  .description('open a sealed patient record with a keyring held here; the open is written to the audit trail first (for integration engines)')
  .option('-c, --config <file>', 'collector config (YAML), for store.path')
  .requiredOption('--keyring <file>', 'the PHI keyring (mode 0600)')
  .option('--envelope <id>', 'envelope id (GET /api/v1/subjects lists them)')
  .option('--device <id>', 'instead of --envelope: the newest envelope of this device')
  .requiredOption('--reason <text>', 'why the identity is needed (audited)')
  .requiredOption('--actor <name>', 'who is opening (audited, with the OS user)')
  .action(async (opts: { config?: string; keyring: string; envelope?: string; device?: string; reason: string; actor: string }) => {
    if ((opts.envelope === undefined) === (opts.device === undefined)) fail(new ConfigError('give --envelope <id> or --device <id>', 'command line'));
    if (opts.envelope !== undefined && !/^[1-9]\d*$/.test(opts.envelope))
      fail(new ConfigError(`--envelope: found "${opts.envelope}", expected an envelope id`, 'command line'));
    let store: Store | undefined;
    try {
      const keyring = Keyring.load(resolve(opts.keyring), { countUsage: false });
      store = await openStore(loadCollectorConfig(opts.config));
      let id = Number(opts.envelope);
      if (opts.device !== undefined) {
        const [latest] = await store.phi.subjects({ deviceId: opts.device, limit: 1 });
        if (!latest?.envelopeId) throw new ConfigError(`--device: no sealed patient record for "${opts.device}"`, 'command line');
        id = latest.envelopeId;
      }
      const result = await new PhiOpener(store.phi, keyring).open(id, { sub: `cli:${opts.actor} (${userInfo().username})`, role: 'system' }, opts.reason);
      if (!result.ok) {
        process.stderr.write(`medtel-collector: phi open: ${result.message}\n`);
        process.exitCode = result.kind === 'failed' ? 1 : 2;
        return;
      }
      const e = result.envelope;
      process.stdout.write(`${JSON.stringify({ envelopeId: e.id, device: e.deviceId, subject: e.subject, kid: e.envelope.kid, patient: result.record })}\n`);
    } catch (err) {
      fail(err);
    } finally {
      await store?.close();
    }
  });
registerGatewayCommands(program, fail);
registerPkiCommands(program);

program.parseAsync(process.argv).catch(fail);
