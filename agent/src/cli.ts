#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, MEDTEL_VERSION } from '@medtel/shared';
import { Agent, planDevices } from './agent.js';
import { loadAgentConfig } from './config.js';
import { OutboxOpenError } from './outbox.js';

/** Errors a user can fix: one line, exit 2 for config, 1 otherwise; no stack trace. */
function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`medtel-agent: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof OutboxOpenError) {
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
    try {
      agent = new Agent({ config: loadAgentConfig(opts.config), configFile: opts.config });
      await agent.start();
    } catch (err) {
      fail(err);
    }
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) process.exit(1); // second signal: do not wait
      stopping = true;
      agent.logger.info({ signal }, 'stopping');
      agent.stop().then(
        () => process.exit(0),
        (err) => {
          agent.logger.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });

program
  .command('check')
  .description('validate the config and every device profile it uses, then exit')
  .requiredOption('-c, --config <file>', 'agent config (YAML)')
  .action((opts: { config: string }) => {
    try {
      const config = loadAgentConfig(opts.config);
      const devices = planDevices(config, opts.config);
      process.stdout.write(`${opts.config}: ok (${devices.length} device${devices.length === 1 ? '' : 's'})\n`);
    } catch (err) {
      fail(err);
    }
  });

program.parseAsync(process.argv).catch(fail);
