import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli, tempDir } from '../../test/helpers.js';

/** `medtel-agent keys init|rotate|list` as an installer runs them. */
const dir = tempDir('medtel-keys-cli-');
afterAll(() => dir.remove());
const file = join(dir.path, 'keyring.json');

async function run(...args: string[]): Promise<{ code: number | null; out: string }> {
  const p = startCli('agent', ['keys', ...args]);
  const code = await p.exited();
  return { code, out: p.output() };
}

describe('medtel-agent keys', () => {
  it('init creates an owner-only keyring and refuses to overwrite it', async () => {
    const init = await run('init', '--keyring', file);
    expect(init.code).toBe(0);
    expect(init.out).toMatch(/active key k\d{8}-[0-9a-f]{6}/);
    expect(init.out).toMatch(/Back it up/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await run('init', '--keyring', file);
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/already exists/);
  });

  it('rotate adds an active key and keeps the old one; list shows both without key material', async () => {
    const rotate = await run('rotate', '--keyring', file);
    expect(rotate.code).toBe(0);
    expect(rotate.out).toMatch(/is retired and kept/);
    const list = await run('list', '--keyring', file, '--json');
    expect(list.code).toBe(0);
    const keys = JSON.parse(list.out) as Array<{ kid: string; active: boolean; retired?: string }>;
    expect(keys).toHaveLength(2);
    expect(keys.filter((k) => k.active)).toHaveLength(1);
    expect(keys[0]?.retired).toBeDefined();
    const material = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ key: string }> }).keys.map((k) => k.key);
    const text = await run('list', '--keyring', file);
    for (const m of material) {
      expect(list.out).not.toContain(m);
      expect(text.out).not.toContain(m);
    }
  });

  it('a keyring others can read is refused with the fix (exit 2, one line)', async () => {
    chmodSync(file, 0o644);
    const list = await run('list', '--keyring', file);
    expect(list.code).toBe(2);
    expect(list.out.trim().split('\n')).toHaveLength(1);
    expect(list.out).toContain(`chmod 600 ${file}`);
  });
});
