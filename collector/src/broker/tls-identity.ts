import { TLSSocket } from 'node:tls';

/**
 * What a connection's TLS client certificate says, as the broker needs it:
 * none presented, presented but not trusted (with OpenSSL's reason: expired,
 * unknown CA, ...), or trusted with the names it carries (subject CN and
 * DNS/URI subject alternative names).
 */
export type PeerCertificate =
  | { kind: 'none' }
  | { kind: 'untrusted'; reason: string; subject?: string }
  | { kind: 'trusted'; names: string[]; subject: string; fingerprint256: string; validTo: string };

export function peerCertificate(conn: unknown): PeerCertificate {
  if (!(conn instanceof TLSSocket)) return { kind: 'none' };
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { kind: 'none' };
  const cn = cert.subject?.CN;
  const subject = Array.isArray(cn) ? cn.join(',') : (cn ?? '');
  if (!conn.authorized) return { kind: 'untrusted', reason: String(conn.authorizationError ?? 'not authorized'), subject };
  const names = new Set<string>(Array.isArray(cn) ? cn : cn ? [cn] : []);
  for (const entry of (cert.subjectaltname ?? '').split(',')) {
    const m = entry.trim().match(/^(DNS|URI):(.+)$/);
    if (m) names.add(m[2] as string);
  }
  return { kind: 'trusted', names: [...names], subject, fingerprint256: cert.fingerprint256, validTo: cert.valid_to };
}

/** A certificate names a gateway if its CN or a DNS SAN is the id, or a URI SAN is `urn:medtel:gateway:<id>`. */
export function certificateNames(cert: PeerCertificate & { kind: 'trusted' }, gateway: string): boolean {
  return cert.names.some((n) => n === gateway || n === `urn:medtel:gateway:${gateway}`);
}
