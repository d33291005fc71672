import { dirname, resolve } from 'node:path';
import { ConfigError, initKeyring, Keyring, rotateKeyring } from '@medtel/shared';
import { loadAgentConfig } from './config.js';

/**
 * `medtel-agent keys init|rotate|list`: the gateway's PHI keyring (docs/phi.md).
 * The file is named by --keyring, or by `phi.keyring` of the agent config.
 * Output never contains key material.
 */
export function keyringFile(opts: { keyring?: string; config?: string }): string {
  if (opts.keyring) return resolve(opts.keyring);
  if (!opts.config) throw new ConfigError('give --keyring <file> or -c <agent config> (its phi.keyring names the file)', 'command line');
  const config = loadAgentConfig(opts.config);
  if (!config.phi)
    throw new ConfigError(`${opts.config}: phi.keyring: not set; add "phi: { keyring: keyring.json }" or pass --keyring`, opts.config, 'phi.keyring');
  return resolve(dirname(resolve(opts.config)), config.phi.keyring);
}

export function keysInit(file: string): string {
  const doc = initKeyring(file);
  return [
    `${file}: new keyring (mode 0600), active key ${doc.active}, with a new site pseudonym key`,
    'Back it up now (offline, encrypted, two custodians): without it sealed patient data cannot be opened.',
    'Every gateway of a site needs the same keyring (copy it, mode 0600) so a patient has one pseudonym site-wide.',
  ].join('\n');
}

export function keysRotate(file: string): string {
  const { previous, active } = rotateKeyring(file);
  return [
    `${file}: active key is now ${active}; ${previous} is retired and kept so data sealed with it can still be opened.`,
    'Restart the agent to seal with the new key; copy the keyring to every holder (other gateways, the collector or opener) and back it up.',
  ].join('\n');
}

export function keysList(file: string, json: boolean): string {
  const keys = Keyring.load(file, { countUsage: false }).list();
  if (json) return JSON.stringify(keys, null, 2);
  const rows = keys.map(
    (k) => `${k.active ? '*' : ' '} ${k.kid.padEnd(18)} created ${k.created}${k.retired ? `  retired ${k.retired}` : ''}  sealed <= ${k.sealed}`,
  );
  return [
    `${file}: ${keys.length} key${keys.length === 1 ? '' : 's'} (* = active; sealed = encryptions on this host, an upper bound counted in blocks of 10,000; GCM allows 2^32 per key)`,
    ...rows,
  ].join('\n');
}
