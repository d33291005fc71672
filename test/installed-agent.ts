import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * `medtel-agent check` of the agent install.sh laid down under a scratch root, on the config it
 * wrote. The config names absolute paths (/var/lib/medtel/keyring.json) that only exist under
 * the root, so a copy with those paths moved under the root is checked: the keyring the
 * installer created must pass the agent's own checks (mode, format).
 */
export function checkInstalledAgent(root: string) {
  const moved = join(root, 'agent-under-root.yaml');
  writeFileSync(moved, readFileSync(join(root, 'etc/medtel/agent.yaml'), 'utf8').replaceAll(' /var/lib/medtel/', ` ${root}/var/lib/medtel/`));
  return spawnSync(process.execPath, [join(root, 'opt/medtel/current/agent/dist/cli.js'), 'check', '--config', moved], { encoding: 'utf8' });
}
