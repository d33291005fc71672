import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInstalledAgent } from './installed-agent.js';
import { tempDir } from './helpers.js';

/**
 * The offline bundle a gateway without internet gets: built from this
 * checkout, unpacked elsewhere, installed with its own installer into a
 * scratch root, and run from there with nothing from the checkout.
 */

const ROOT = resolve(import.meta.dirname, '..');
const dir = tempDir();
afterAll(() => dir.remove());

describe('npm run bundle', () => {
  it('makes a tarball with production dependencies only, which installs and runs on its own', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--out', join(dir.path, 'out')], { encoding: 'utf8' });
    const tarball = out.split('\n')[0] as string;
    expect(tarball).toMatch(new RegExp(`medtel-0\\.1\\.0-linux-${process.arch}\\.tar\\.gz$`));
    expect(out).toMatch(/[\d.]+ MiB, sha256 [0-9a-f]{64}/);

    const unpacked = join(dir.path, 'unpacked');
    execFileSync('mkdir', ['-p', unpacked]);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const [name] = readdirSync(unpacked);
    const bundle = join(unpacked, name as string);
    // Development tools stay behind; native modules come built.
    for (const dev of ['vitest', 'typescript', '@biomejs/biome']) expect(existsSync(join(bundle, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(bundle, 'agent/src'))).toBe(false);
    // The dashboard ships whole (page, stylesheet, compiled modules, uPlot), without its sources.
    for (const file of ['collector/web/index.html', 'collector/web/app.css', 'collector/dist/web/main.js', 'node_modules/uplot/dist/uPlot.esm.js'])
      expect(existsSync(join(bundle, file)), file).toBe(true);
    expect(existsSync(join(bundle, 'collector/web/src'))).toBe(false);
    const sqlite = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], {
      cwd: bundle,
      encoding: 'utf8',
    });
    expect(sqlite.status, sqlite.stderr).toBe(0);

    const root = join(dir.path, 'root');
    const install = spawnSync('bash', [join(bundle, 'systemd/install.sh'), '--from', bundle, '--root', root, '--gateway-id', 'gw-offline'], {
      encoding: 'utf8',
    });
    expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
    const check = checkInstalledAgent(root);
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const collector = spawnSync(process.execPath, [join(root, 'opt/medtel/current/collector/dist/cli.js'), '--help'], { encoding: 'utf8' });
    expect(collector.stdout).toContain('medtel-collector');
  }, 120_000);
});
