import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { checkInstalledAgent } from './installed-agent.js';

/**
 * The gateway installer run into a scratch root (no systemd as PID 1): every
 * file it lays down, their modes, the rendered unit checked by systemd's own
 * tools, the config accepted by the installed agent, idempotence, uninstall.
 */

const INSTALL = resolve(import.meta.dirname, '..', 'systemd', 'install.sh');
const dir = tempDir();
afterAll(() => dir.remove());

function install(root: string, ...args: string[]) {
  const r = spawnSync('bash', [INSTALL, '--root', root, ...args], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const keyIds = (root: string) =>
  (JSON.parse(readFileSync(join(root, 'var/lib/medtel/keyring.json'), 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('systemd/install.sh --root', () => {
  const root = join(dir.path, 'root');

  it('lays down the app, config, state dir, udev rule and an enabled unit, with tight modes', () => {
    const r = install(root, '--gateway-id', 'gw-icu-3', '--site', 'st-marys', '--collector-url', 'mqtts://collector.example:8883');
    expect(r.code, r.out).toBe(0);
    expect(mode(join(root, 'etc/medtel'))).toBe('750');
    expect(mode(join(root, 'etc/medtel/agent.yaml'))).toBe('640');
    expect(mode(join(root, 'var/lib/medtel'))).toBe('700');
    expect(mode(join(root, 'etc/systemd/system/medtel-agent.service'))).toBe('644');
    expect(mode(join(root, 'etc/udev/rules.d/99-medtel-serial.rules'))).toBe('644');
    expect(readlinkSync(join(root, 'opt/medtel/current'))).toBe('0.1.0');
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/medtel-agent.service')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^medtel:x:\d+:\d+:medtel:\/nonexistent:\/usr\/sbin\/nologin$/m);

    const config = readFileSync(join(root, 'etc/medtel/agent.yaml'), 'utf8');
    expect(config).toContain('id: gw-icu-3');
    expect(config).toContain('site: st-marys');
    expect(config).toContain('url: "mqtts://collector.example:8883"');
    expect(config).toContain('keyring: /var/lib/medtel/keyring.json');
    // The installed agent (not the checkout's) accepts the config it was given, and the keyring the installer made.
    const check = checkInstalledAgent(root);
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toContain('PHI keyring ok');
    // Sources and tests stay behind.
    expect(existsSync(join(root, 'opt/medtel/current/agent/src'))).toBe(false);
  });

  it('creates the PHI keyring owner-only in the state directory, once', () => {
    const keyring = join(root, 'var/lib/medtel/keyring.json');
    expect(mode(keyring)).toBe('600');
    expect(keyIds(root)).toHaveLength(1);
    expect(readFileSync(keyring, 'utf8')).toContain('"pseudonymKey"');
  });

  it('renders a unit that systemd-analyze verifies and rates "OK" for exposure', () => {
    const unit = join(root, 'etc/systemd/system/medtel-agent.service');
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(
      `ExecStart=${execFileSync('bash', ['-c', 'command -v node'], { encoding: 'utf8' }).trim()} /opt/medtel/current/agent/dist/cli.js run`,
    );
    expect(text).not.toMatch(/@[A-Z_]+@/);
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(`${verify.stdout}${verify.stderr}`.replace(/.*multi-user.target.*\n?/g, '')).toBe('');
    expect(verify.status).toBe(0);
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8' }).stdout;
    const score = /Overall exposure level for medtel-agent.service: ([\d.]+) (\w+)/.exec(security);
    expect(score?.[2], security.slice(-300)).toBe('OK');
    expect(Number(score?.[1])).toBeLessThanOrEqual(2.5);
  });

  it('is idempotent: a second run changes nothing it should keep, and installs a secret when given', () => {
    const config = readFileSync(join(root, 'etc/medtel/agent.yaml'), 'utf8');
    const kids = keyIds(root);
    const keyring = readFileSync(join(root, 'var/lib/medtel/keyring.json'), 'utf8');
    const secret = join(dir.path, 'secret');
    writeFileSync(secret, 'a-gateway-secret-0123456789\n');
    const again = install(root, '--gateway-id', 'other-id', '--secret-file', secret);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('kept the existing /etc/medtel/agent.yaml');
    expect(readFileSync(join(root, 'etc/medtel/agent.yaml'), 'utf8')).toBe(config);
    // A new keyring would make everything sealed so far unreadable: the same keys stay.
    expect(again.out).toContain('kept the existing PHI keyring /var/lib/medtel/keyring.json');
    expect(keyIds(root)).toEqual(kids);
    expect(readFileSync(join(root, 'var/lib/medtel/keyring.json'), 'utf8')).toBe(keyring);
    expect(mode(join(root, 'var/lib/medtel/keyring.json'))).toBe('600');
    expect(mode(join(root, 'etc/medtel/gateway.secret'))).toBe('640');
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^medtel:/gm)).toHaveLength(1);
  });

  it('installs the collector CA and a client certificate for mutual TLS and names them in the config', () => {
    const troot = join(dir.path, 'tls-root');
    const pki = join(dir.path, 'pki');
    execFileSync('mkdir', ['-p', pki]);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(pki, 'gw.key'),
        '-out',
        join(pki, 'gw.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=gw-tls',
      ],
      {
        stdio: 'ignore',
      },
    );
    const r = install(
      troot,
      '--gateway-id',
      'gw-tls',
      '--collector-url',
      'mqtts://collector.example:8883',
      '--ca-file',
      join(pki, 'gw.crt'),
      '--cert-file',
      join(pki, 'gw.crt'),
      '--key-file',
      join(pki, 'gw.key'),
    );
    expect(r.code, r.out).toBe(0);
    expect(mode(join(troot, 'etc/medtel/collector-ca.pem'))).toBe('644');
    expect(mode(join(troot, 'etc/medtel/gateway.key'))).toBe('640');
    const config = readFileSync(join(troot, 'etc/medtel/agent.yaml'), 'utf8');
    expect(config).toContain('tls: { caFile: /etc/medtel/collector-ca.pem, certFile: /etc/medtel/gateway.crt, keyFile: /etc/medtel/gateway.key }');
    const check = checkInstalledAgent(troot);
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const half = install(join(dir.path, 'half'), '--cert-file', join(pki, 'gw.crt'));
    expect([half.code, half.out]).toEqual([1, expect.stringContaining('--cert-file and --key-file go together')]);
  });

  it('refuses bad input, naming the option', () => {
    const bad = install(join(dir.path, 'bad'), '--gateway-id', 'icu 3!');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('--gateway-id: "icu 3!" must be 1-64 letters');
    const unknown = install(join(dir.path, 'bad'), '--gatway-id', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('unknown option: --gatway-id');
  });

  it('uninstalls the service and the app but keeps config, the outbox and the keyring; --purge removes them too', () => {
    const kids = keyIds(root);
    writeFileSync(join(root, 'var/lib/medtel/outbox.db'), 'pretend');
    const removed = install(root, '--uninstall');
    expect(removed.code, removed.out).toBe(0);
    expect(existsSync(join(root, 'etc/systemd/system/medtel-agent.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/medtel-agent.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/udev/rules.d/99-medtel-serial.rules'))).toBe(false);
    expect(existsSync(join(root, 'opt/medtel'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/medtel/outbox.db'))).toBe(true);
    expect(keyIds(root)).toEqual(kids);
    expect(mode(join(root, 'var/lib/medtel/keyring.json'))).toBe('600');
    expect(removed.out).toContain('undelivered data');
    const purged = install(root, '--uninstall', '--purge');
    expect(purged.code, purged.out).toBe(0);
    expect(existsSync(join(root, 'etc/medtel'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/medtel'))).toBe(false);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^medtel:/m);
  });

  it('installs the collector unit for single-host installs', () => {
    const croot = join(dir.path, 'collector-root');
    const r = install(croot, '--collector');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('no /etc/medtel/collector.yaml yet');
    const unit = join(croot, 'etc/systemd/system/medtel-collector.service');
    expect(readFileSync(unit, 'utf8')).toContain('/opt/medtel/current/collector/dist/cli.js run --config /etc/medtel/collector.yaml');
    expect(mode(join(croot, 'var/lib/medtel-collector'))).toBe('700');
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8' }).stdout;
    expect(security).toMatch(/Overall exposure level for medtel-collector.service: [\d.]+ OK/);
  });
});
