import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';

/**
 * The agent's OPC UA PKI: <stateDir>/opcua-pki (never node-opcua's default
 * in the user's home). It holds the agent's own application certificate
 * (created on first use) and the server certificates it trusts, in
 * trusted/certs. An unknown server certificate is refused and lands in
 * rejected/ — moving it to trusted/certs, or `medtel-agent opcua trust`,
 * trusts it. Only demo mode accepts unknown certificates.
 *
 * This module imports node-opcua: load it lazily (see index.ts).
 */

export function pkiFolder(stateDir: string): string {
  return join(stateDir, 'opcua-pki');
}

const managers = new Map<string, Promise<OPCUACertificateManager>>();

/** One certificate manager per PKI folder and trust mode (several devices share it, as node-opcua expects). */
export function certificateManager(stateDir: string, acceptAny: boolean): Promise<OPCUACertificateManager> {
  const rootFolder = pkiFolder(stateDir);
  const key = `${rootFolder}|${acceptAny}`;
  let manager = managers.get(key);
  if (!manager) {
    mkdirSync(rootFolder, { recursive: true });
    const m = new OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: acceptAny, name: 'PKI' });
    manager = m.initialize().then(() => m);
    managers.set(key, manager);
  }
  return manager;
}

/** Reads a PEM or DER certificate file to DER bytes. */
export function readCertificate(file: string): Buffer {
  const bytes = readFileSync(file);
  const text = bytes.toString('latin1');
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return pem ? Buffer.from((pem[1] as string).replace(/\s+/g, ''), 'base64') : bytes;
}

/** Trusts the certificates the device config lists (trustedServerCertificates), before connecting. */
export async function trustConfiguredCertificates(manager: OPCUACertificateManager, files: string[], baseDir: string): Promise<void> {
  for (const file of files) {
    const path = resolve(baseDir, file);
    if (!existsSync(path)) throw new Error(`trusted server certificate ${path} does not exist`);
    await manager.trustCertificate(readCertificate(path));
  }
}
