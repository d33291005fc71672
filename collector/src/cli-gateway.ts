import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ConfigError, ID_PATTERN } from '@medtel/shared';
import { loadCollectorConfig } from './config.js';
import { generateSecret, hashSecret } from './secrets.js';
import type { CredentialOutcome, GatewayAuthMode } from './store/gateway-credential-store.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/**
 * `medtel-collector gateway ...`: provisioning against the collector's store
 * (safe while the collector runs: SQLite WAL; a running collector notices a
 * revocation or rotation within mqtt.credentialCheckEvery and closes the
 * gateway's sessions). Changes are audited as `cli:<os user>`.
 */
function actor() {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { sub: `cli:${user}`, role: 'system' as const };
}

function explain(id: string, outcome: CredentialOutcome & { ok: false }): string {
  switch (outcome.reason) {
    case 'exists':
      return `gateway "${id}" already exists (use rotate-secret for a new secret)`;
    case 'revoked':
      return `gateway "${id}" is revoked; a revoked id is not reused: provision the box under a new id`;
    case 'not_found':
      return `no gateway "${id}" (see \`medtel-collector gateway list\`)`;
    case 'stale':
      return `gateway "${id}" changed meanwhile (now version ${outcome.current})`;
  }
}

export function registerGatewayCommands(program: Command, fail: (err: unknown) => never): void {
  const gateway = program.command('gateway').description('provision, rotate, revoke and list gateway credentials');
  const withStore = async <T>(config: string | undefined, run: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openStore(loadCollectorConfig(config));
    try {
      return await run(store);
    } finally {
      await store.close();
    }
  };
  const checkId = (id: string) => {
    if (!new RegExp(ID_PATTERN).test(id)) fail(new ConfigError(`gateway id "${id}": expected 1-64 letters, digits, _ or -`, 'command line'));
  };
  const refuse: (message: string) => never = (message) => {
    process.stderr.write(`medtel-collector: ${message}\n`);
    process.exit(1);
  };

  gateway
    .command('add <id>')
    .description('provision a gateway; prints its new secret once (only its scrypt hash is stored)')
    .option('-c, --config <file>', 'collector config (YAML), for store.path')
    .option('--site <site>', 'the only site the gateway may publish under')
    .option('--auth <mode>', 'secret, certificate (TLS client certificate naming the id) or both', 'secret')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (id: string, opts: { config?: string; site?: string; auth: string; reason?: string }) => {
      checkId(id);
      if (!['secret', 'certificate', 'both'].includes(opts.auth))
        fail(new ConfigError(`--auth: found "${opts.auth}", expected secret, certificate or both`, 'command line'));
      const auth = opts.auth as GatewayAuthMode;
      const secret = auth === 'certificate' ? undefined : generateSecret();
      try {
        const outcome = await withStore(opts.config, async (store) =>
          store.gatewayCredentials.add({ id, site: opts.site ?? null, auth, secretHash: secret ? await hashSecret(secret) : null }, actor(), opts.reason),
        );
        if (!outcome.ok) refuse(explain(id, outcome));
        process.stdout.write(
          secret
            ? `gateway ${id} added (auth: ${auth}).\nsecret: ${secret}\nThis secret is shown once: put it in the gateway's collector.secretFile now.\n`
            : `gateway ${id} added (auth: certificate): issue its certificate with \`medtel-collector pki issue-gateway ${id}\`.\n`,
        );
      } catch (err) {
        fail(err);
      }
    });

  gateway
    .command('rotate-secret <id>')
    .description("replace a gateway's secret; prints the new one once; its live sessions are closed")
    .option('-c, --config <file>', 'collector config (YAML), for store.path')
    .option('--reason <text>', 'recorded in the audit trail')
    .action(async (id: string, opts: { config?: string; reason?: string }) => {
      const secret = generateSecret();
      try {
        const hash = await hashSecret(secret);
        const outcome = await withStore(opts.config, (store) => store.gatewayCredentials.rotateSecret(id, hash, actor(), opts.reason));
        if (!outcome.ok) refuse(explain(id, outcome));
        process.stdout.write(`gateway ${id}: new secret (version ${outcome.credential.version}).\nsecret: ${secret}\nThis secret is shown once.\n`);
      } catch (err) {
        fail(err);
      }
    });

  gateway
    .command('revoke <id>')
    .description('revoke a gateway for good: refused from now on, and a running collector closes its sessions within seconds')
    .option('-c, --config <file>', 'collector config (YAML), for store.path')
    .option('--reason <text>', 'recorded in the audit trail (e.g. "box stolen from ward 3")')
    .action(async (id: string, opts: { config?: string; reason?: string }) => {
      try {
        const outcome = await withStore(opts.config, (store) => store.gatewayCredentials.revoke(id, actor(), opts.reason));
        if (!outcome.ok) refuse(explain(id, outcome));
        process.stdout.write(`gateway ${id} revoked at ${new Date(outcome.credential.revokedAt as number).toISOString()}\n`);
      } catch (err) {
        fail(err);
      }
    });

  gateway
    .command('list')
    .description('list gateway credentials (never the secrets)')
    .option('-c, --config <file>', 'collector config (YAML), for store.path')
    .option('--json', 'one JSON array')
    .action(async (opts: { config?: string; json?: boolean }) => {
      try {
        const items = await withStore(opts.config, (store) => store.gatewayCredentials.list());
        const view = items.map((c) => ({
          id: c.id,
          site: c.site,
          auth: c.auth,
          state: c.revokedAt ? 'revoked' : 'active',
          updatedAt: new Date(c.updatedAt).toISOString(),
          version: c.version,
        }));
        if (opts.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else for (const v of view) process.stdout.write(`${v.id}\t${v.state}\t${v.auth}\t${v.site ?? '-'}\tv${v.version}\t${v.updatedAt}\n`);
      } catch (err) {
        fail(err);
      }
    });
}
