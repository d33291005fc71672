#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, Keyring, KeyringError, MEDTEL_VERSION, stopOnSignals, parseDuration, startTracing, logTracing } from '@medtel/shared';
import { Agent, planDevices } from './agent.js';
import { loadAgentConfig } from './config.js';
import { devicesList, devicesScan, ServiceRunningError } from './discovery/cli-commands.js';
import { keyringFile, keysInit, keysList, keysRotate } from './keys-command.js';
import { addOpcuaCommands } from './opcua-cli.js';
import { OutboxOpenError } from './outbox/index.js';
import { outboxPeek, outboxPurge, outboxStats } from './outbox/commands.js';

/** Errors a user can fix: one line, exit 2 for config, 1 otherwise; no stack trace. */
function fail(err: unknown): never {
  if (err instanceof ConfigError || err instanceof KeyringError) {
    process.stderr.write(`medtel-agent: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof OutboxOpenError || err instanceof ServiceRunningError) {
    process.stderr.write(`medtel-agent: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const program = new Command('medtel-agent')
  .description('Reads medical devices on this gateway and forwards their data to the medtel collector.')
  .version(MEDTEL_VERSION);

program
  .command('run')
  .description('run the agent in the foreground (as the systemd service does)')
  .requiredOption('-c, --config <file>', 'agent config (YAML)')
  .action(async (opts: { config: string }) => {
    let agent: Agent;
    // Before anything that makes spans; off (no SDK loaded) unless OTEL_* asks for it.
    const tracing = await startTracing({ serviceName: 'medtel-agent' });
    try {
      agent = new Agent({ config: loadAgentConfig(opts.config), configFile: opts.config });
      await agent.start();
    } catch (err) {
      fail(err);
    }
    logTracing(tracing, agent.logger);
    stopOnSignals(async () => {
      await agent.stop();
      await tracing.shutdown();
    }, agent.logger);
  });

program
  .command('check')
  .description('validate the config and every device profile it uses, then exit')
  .requiredOption('-c, --config <file>', 'agent config (YAML)')
  .action((opts: { config: string }) => {
    try {
      const config = loadAgentConfig(opts.config);
      const devices = planDevices(config, opts.config);
      // The keyring too: a mode others can read is refused here rather than at the service's start.
      const keyring = config.phi ? Keyring.load(keyringFile({ config: opts.config }), { countUsage: false }) : undefined;
      const phi = keyring ? `, PHI keyring ok, active key ${keyring.activeKid}` : '';
      process.stdout.write(`${opts.config}: ok (${devices.length} device${devices.length === 1 ? '' : 's'}${phi})\n`);
    } catch (err) {
      fail(err);
    }
  });

const outbox = program.command('outbox').description("look into or trim this gateway's outbox (messages waiting for the collector)");
const configOption = ['-c, --config <file>', 'agent config (YAML)'] as const;

outbox
  .command('stats')
  .description('how many messages wait, how big, how old')
  .requiredOption(...configOption)
  .option('--json', 'print JSON')
  .action((opts: { config: string; json?: boolean }) => {
    try {
      process.stdout.write(`${outboxStats(loadAgentConfig(opts.config), opts.config, opts.json ?? false)}\n`);
    } catch (err) {
      fail(err);
    }
  });

outbox
  .command('peek')
  .description('the next messages to be sent, in sending order')
  .requiredOption(...configOption)
  .option('-n, --limit <n>', 'how many', '20')
  .option('--bodies', 'also print each stored payload')
  .action((opts: { config: string; limit: string; bodies?: boolean }) => {
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1) fail(new ConfigError(`--limit: found "${opts.limit}", expected a whole number >= 1`, 'command line'));
    try {
      process.stdout.write(`${outboxPeek(loadAgentConfig(opts.config), opts.config, limit, opts.bodies ?? false)}\n`);
    } catch (err) {
      fail(err);
    }
  });

outbox
  .command('purge')
  .description('delete unsent messages older than a duration (stop the agent first); the collector is told by gap messages')
  .requiredOption(...configOption)
  .requiredOption('--older-than <duration>', 'e.g. 2d, 12h')
  .action((opts: { config: string; olderThan: string }) => {
    try {
      parseDuration(opts.olderThan);
    } catch (err) {
      fail(new ConfigError(`--older-than: ${(err as Error).message}`, 'command line'));
    }
    try {
      process.stdout.write(`${outboxPurge(loadAgentConfig(opts.config), opts.config, opts.olderThan)}\n`);
    } catch (err) {
      fail(err);
    }
  });

const keys = program.command('keys').description("this gateway's PHI keyring: AES-256 keys by id and the site pseudonym key (docs/phi.md)");
const keyringOptions = (cmd: Command) =>
  cmd.option('--keyring <file>', 'keyring file').option('-c, --config <file>', 'agent config whose phi.keyring names the file');

keyringOptions(keys.command('init').description('create a keyring (mode 0600) with a first key and a site pseudonym key; never overwrites')).action(
  (opts: { keyring?: string; config?: string }) => {
    try {
      process.stdout.write(`${keysInit(keyringFile(opts))}
`);
    } catch (err) {
      fail(err);
    }
  },
);

keyringOptions(keys.command('rotate').description('add a new active key; the old one is kept (retired) so old data stays openable')).action(
  (opts: { keyring?: string; config?: string }) => {
    try {
      process.stdout.write(`${keysRotate(keyringFile(opts))}
`);
    } catch (err) {
      fail(err);
    }
  },
);

keyringOptions(keys.command('list').description('key ids, dates, which is active, encryptions counted (no key material)'))
  .option('--json', 'print JSON')
  .action((opts: { keyring?: string; config?: string; json?: boolean }) => {
    try {
      process.stdout.write(`${keysList(keyringFile(opts), opts.json ?? false)}
`);
    } catch (err) {
      fail(err);
    }
  });
addOpcuaCommands(program, fail);

const devices = program.command('devices').description('what is attached to this gateway: plug-and-play identification (docs/plug-and-play.md)');

devices
  .command('scan')
  .description('probe the watched serial ports (read-only) and print what each would be identified as; the service must be stopped')
  .requiredOption(...configOption)
  .option('--json', 'print JSON')
  .action(async (opts: { config: string; json?: boolean }) => {
    try {
      process.stdout.write(`${await devicesScan(loadAgentConfig(opts.config), opts.config, opts.json ?? false)}\n`);
    } catch (err) {
      fail(err);
    }
  });

devices
  .command('list')
  .description("configured and discovered devices with their status, from the running agent's local HTTP endpoint")
  .requiredOption(...configOption)
  .option('--json', 'print JSON')
  .action(async (opts: { config: string; json?: boolean }) => {
    try {
      process.stdout.write(`${await devicesList(loadAgentConfig(opts.config), opts.json ?? false)}\n`);
    } catch (err) {
      fail(err);
    }
  });

program.parseAsync(process.argv).catch(fail);
