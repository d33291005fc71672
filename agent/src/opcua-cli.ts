import { dirname, resolve } from 'node:path';
import { ConfigError } from '@medtel/shared';
import type { Command } from 'commander';
import { loadAgentConfig } from './config.js';
import { OpcuaConnectionSchema, SECURITY_MODES, type OpcuaConnection } from './drivers/opcua/config.js';

/**
 * `medtel-agent opcua trust|browse`: help for connecting a real OPC UA server
 * (docs/opcua.md). Both use the agent's PKI under its stateDir (from -c, or
 * --state-dir), so a certificate trusted here is trusted by the running
 * agent. node-opcua is imported only when one of them runs.
 */

interface StateFlags {
  config?: string;
  stateDir?: string;
}

function stateDirOf(flags: StateFlags): { stateDir: string; baseDir: string; devices: Array<{ id: string; connection: Record<string, unknown> }> } {
  if (flags.config) {
    const config = loadAgentConfig(flags.config);
    const baseDir = dirname(resolve(flags.config));
    return { stateDir: resolve(baseDir, flags.stateDir ?? config.stateDir), baseDir, devices: config.devices };
  }
  if (flags.stateDir) return { stateDir: resolve(flags.stateDir), baseDir: process.cwd(), devices: [] };
  throw new ConfigError('give -c <agent.yaml> (or --state-dir <dir>): the trusted certificates live in the agent state directory', 'command line');
}

export function addOpcuaCommands(program: Command, fail: (err: unknown) => never): void {
  const opcua = program.command('opcua').description('connect OPC UA servers: trust their certificates, browse their address space');

  opcua
    .command('trust')
    .description("fetch a server's certificate, print its thumbprint and trust it (compare the thumbprint with the device's own display)")
    .argument('<endpoint>', 'opc.tcp://host:port/path')
    .option('-c, --config <file>', 'agent config (its stateDir holds the PKI)')
    .option('--state-dir <dir>', 'the agent state directory, instead of -c')
    .option('--thumbprint <sha1>', 'trust only a certificate with this SHA-1 thumbprint')
    .action(async (endpoint: string, flags: StateFlags & { thumbprint?: string }) => {
      try {
        const { stateDir } = stateDirOf(flags);
        const { trustServer } = await import('./drivers/opcua/trust.js');
        const r = await trustServer(endpoint, stateDir, flags.thumbprint);
        process.stdout.write(`${endpoint}: certificate SHA-1 ${r.thumbprint} ${r.already ? 'was already trusted' : `trusted (in ${r.file})`}\n`);
        process.exit(0);
      } catch (err) {
        if (err instanceof ConfigError) fail(err);
        process.stderr.write(`medtel-agent: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });

  opcua
    .command('browse')
    .description('print the address space (browse paths, data types, values, methods) to help write a profile')
    .argument('<endpoint>', 'opc.tcp://host:port/path')
    .argument('[path]', 'browse path below the Objects folder, e.g. Device/Magnet')
    .option('-c, --config <file>', 'agent config: its PKI, and the security and identity of a device with this endpoint')
    .option('--state-dir <dir>', 'the agent state directory, instead of -c')
    .option('--security <mode>', `${SECURITY_MODES.join(' | ')} (Basic256Sha256 when not None)`)
    .option('--depth <n>', 'levels to descend', '4')
    .action(async (endpoint: string, path: string | undefined, flags: StateFlags & { security?: string; depth: string }) => {
      try {
        const { stateDir, baseDir, devices } = stateDirOf(flags);
        const fromConfig = devices.find((d) => d.connection.protocol === 'opcua' && d.connection.endpoint === endpoint)?.connection;
        const { Value } = await import('@sinclair/typebox/value');
        const connection = Value.Default(OpcuaConnectionSchema, structuredClone(fromConfig ?? { protocol: 'opcua', endpoint })) as OpcuaConnection;
        if (flags.security) {
          if (!(SECURITY_MODES as readonly string[]).includes(flags.security))
            throw new ConfigError(`--security: found "${flags.security}", expected ${SECURITY_MODES.join(', ')}`, 'command line');
          const mode = flags.security as OpcuaConnection['security']['mode'];
          connection.security = { mode, policy: mode === 'None' ? 'None' : 'Basic256Sha256' };
        }
        const depth = Number(flags.depth);
        if (!(Number.isInteger(depth) && depth >= 1 && depth <= 20)) throw new ConfigError(`--depth: found "${flags.depth}", expected 1..20`, 'command line');
        const { browseServer } = await import('./drivers/opcua/browse.js');
        const lines: string[] = [];
        await browseServer({ connection, stateDir, baseDir, timeoutMs: 5000, path: path ? path.split('/').filter(Boolean) : [], depth }, (l) => lines.push(l));
        process.stdout.write(`${lines.join('\n')}\n`);
        process.exit(0);
      } catch (err) {
        if (err instanceof ConfigError) fail(err);
        process.stderr.write(`medtel-agent: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
