#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, MEDTEL_VERSION, stopOnSignals } from '@medtel/shared';
import { startCollector } from './collector.js';
import { loadCollectorConfig } from './config.js';
import { generateSecret, hashSecret } from './secrets.js';

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
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
    try {
      collector = await startCollector(loadCollectorConfig(opts.config));
    } catch (err) {
      fail(err);
    }
    stopOnSignals(() => collector.stop(), collector.logger);
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

program.parseAsync(process.argv).catch(fail);
