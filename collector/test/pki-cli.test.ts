import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli, tempDir } from '../../test/helpers.js';

const dir = tempDir('medtel-pki-cli-');
afterAll(() => dir.remove());
const pki = join(dir.path, 'pki');
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

describe('medtel-collector pki', () => {
  it('init, issue-server and issue-gateway write certificates that verify against the CA, keys 0600', async () => {
    for (const args of [
      ['pki', 'init', '--dir', pki, '--name', 'Test Hospital medtel CA'],
      ['pki', 'issue-server', 'collector.hospital.example', '10.0.0.5', '--dir', pki],
      ['pki', 'issue-gateway', 'gw-icu-1', '--dir', pki],
    ]) {
      const p = startCli('collector', args);
      expect(await p.exited(), p.output()).toBe(0);
    }
    expect(openssl('verify', '-CAfile', join(pki, 'ca.crt'), join(pki, 'server.crt'))).toMatch(/OK/);
    expect(openssl('verify', '-CAfile', join(pki, 'ca.crt'), '-purpose', 'sslclient', join(pki, 'gateways', 'gw-icu-1.crt'))).toMatch(/OK/);
    const server = openssl('x509', '-in', join(pki, 'server.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage');
    expect(server).toMatch(/DNS:collector\.hospital\.example, IP Address:10\.0\.0\.5/);
    expect(server).toMatch(/TLS Web Server Authentication/);
    const gateway = openssl('x509', '-in', join(pki, 'gateways', 'gw-icu-1.crt'), '-noout', '-subject', '-ext', 'subjectAltName');
    expect(gateway).toMatch(/CN ?= ?gw-icu-1/);
    expect(gateway).toMatch(/URI:urn:medtel:gateway:gw-icu-1/);
    for (const key of ['ca.key', 'server.key', 'gateways/gw-icu-1.key']) expect(statSync(join(pki, key)).mode & 0o777).toBe(0o600);
    // A second init would orphan every issued certificate: refused.
    const again = startCli('collector', ['pki', 'init', '--dir', pki]);
    expect(await again.exited()).toBe(1);
    expect(again.output()).toMatch(/a CA is already there/);
  });
});
