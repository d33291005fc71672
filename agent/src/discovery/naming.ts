import type { Identity } from './types.js';

/**
 * A discovered device's id, from its model and serial only: the same device
 * on another port, under another link name or after a restart gets the same
 * id, so its history and registry entry carry on. Characters outside the id
 * pattern become '-'.
 */
export function discoveredDeviceId(profileModel: string, identity: Identity): string {
  const clean = (s: string) =>
    s
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');
  const model = clean((identity.model || profileModel).toLowerCase());
  const serial = clean(identity.serial ?? '');
  return `${model.slice(0, 63 - Math.min(serial.length, 40))}-${serial.slice(0, 40)}`.slice(0, 64);
}

/** `*` and `?` globs for discovery.serial.ignore, matched against the link name and its full path. */
export function globMatches(glob: string, ...candidates: string[]): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return candidates.some((c) => re.test(c));
}
