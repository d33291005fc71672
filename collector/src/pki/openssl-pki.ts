import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';

/**
 * A small private CA for sites without their own, driven through the openssl
 * command-line tool: it is on every Linux a collector runs on, it is what
 * hospital PKI teams already read and audit, and node:crypto can make keys but
 * not X.509 certificates (a JS X.509 library would be a new dependency on the
 * security path). Keys are EC P-256, written 0600.
 *
 * Layout of the PKI directory:
 *   ca.crt ca.key                  the CA (keep ca.key offline once gateways are issued)
 *   server.crt server.key          the collector's TLS certificate
 *   gateways/<id>.crt <id>.key     one client certificate per gateway (CN and SAN = id)
 */
export class PkiError extends Error {}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new PkiError('the openssl command is not installed (apt install openssl)');
    throw new PkiError(`openssl ${args[0]} failed: ${e.stderr?.toString().trim().split('\n').pop() ?? e.message}`);
  }
}

function serial(): string {
  // Positive 127-bit serial (RFC 5280: unique, at most 20 octets).
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return `0x${b.toString('hex')}`;
}

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
}

export function pkiPaths(dir: string): PkiPaths {
  return { dir, caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key') };
}

/** Creates the CA. Refuses to overwrite an existing one (that would orphan every issued certificate). */
export function initCa(dir: string, options: { name?: string; days?: number } = {}): PkiPaths {
  const p = pkiPaths(dir);
  if (existsSync(p.caKey)) throw new PkiError(`${p.caKey} exists: a CA is already there (remove it deliberately to start over)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p.caKey,
    '-out',
    p.caCert,
    '-days',
    String(options.days ?? 3650),
    '-set_serial',
    serial(),
    '-subj',
    `/CN=${options.name ?? 'medtel private CA'}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(p.caKey, 0o600);
  return p;
}

/** Issues a leaf certificate signed by the CA; `days` may be negative (an already expired certificate, for tests). */
function issue(p: PkiPaths, out: { cert: string; key: string }, cn: string, extensions: string[], days: number): void {
  if (!existsSync(p.caKey)) throw new PkiError(`no CA in ${p.dir}: run \`medtel-collector pki init\` first`);
  const work = mkdtempSync(join(tmpdir(), 'medtel-pki-'));
  try {
    const csr = join(work, 'req.csr');
    const ext = join(work, 'ext.cnf');
    writeFileSync(ext, `${extensions.join('\n')}\n`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', out.key, '-out', csr, '-subj', `/CN=${cn}`]);
    chmodSync(out.key, 0o600);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      p.caCert,
      '-CAkey',
      p.caKey,
      '-set_serial',
      serial(),
      '-days',
      String(days),
      '-extfile',
      ext,
      '-out',
      out.cert,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The collector's server certificate for the given host names and IP addresses (the names gateways connect to). */
export function issueServer(dir: string, names: string[], options: { days?: number } = {}): { cert: string; key: string } {
  if (names.length === 0) throw new PkiError('give at least one host name or IP address the gateways connect to');
  const out = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  issue(
    pkiPaths(dir),
    out,
    names[0] as string,
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`],
    options.days ?? 825,
  );
  return out;
}

/** A gateway's client certificate: CN, DNS SAN and URI SAN `urn:medtel:gateway:<id>` all name the gateway. */
export function issueGateway(dir: string, id: string, options: { days?: number } = {}): { cert: string; key: string } {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new PkiError(`gateway id "${id}": expected 1-64 letters, digits, _ or -`);
  mkdirSync(join(dir, 'gateways'), { recursive: true, mode: 0o700 });
  const out = { cert: join(dir, 'gateways', `${id}.crt`), key: join(dir, 'gateways', `${id}.key`) };
  issue(
    pkiPaths(dir),
    out,
    id,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
      `subjectAltName=DNS:${id},URI:urn:medtel:gateway:${id}`,
    ],
    options.days ?? 825,
  );
  return out;
}
