import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ConfigError, type Logger } from '@medtel/shared';
import type { AgentConfig } from './config.js';

/** What mqtt.js needs for the TLS part of the uplink. */
export interface UplinkTls {
  /** Absent: Node's bundled public CAs (a collector with a publicly trusted certificate). */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** localhost, 127.0.0.0/8 and ::1: the only places plain MQTT may go without allowInsecure. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Checks collector.url against collector.tls / allowInsecure and reads the
 * PEM files. The collector's certificate is always verified, against caFile
 * or else Node's public CAs (mqtt.js rejectUnauthorized stays on); plain mqtt:// to another host than
 * this one is refused unless allowInsecure, and then warned about at every
 * start, because the secret and the data would cross the network in clear.
 */
export function uplinkSecurity(config: AgentConfig, configFile: string, logger: Logger): UplinkTls | undefined {
  const c = config.collector;
  const url = new URL(c.url);
  const base = dirname(resolve(configFile));
  if (url.protocol === 'mqtt:') {
    if (c.tls) logger.warn({ url: `${url.protocol}//${url.host}` }, 'collector.tls is ignored for a plain mqtt:// URL; use mqtts://');
    if (!isLoopbackHost(url.hostname)) {
      if (!c.allowInsecure)
        throw new ConfigError(
          `${configFile}: collector.url: plain mqtt:// to ${url.hostname} would send the gateway secret and data unencrypted; use mqtts:// with collector.tls.caFile (or set collector.allowInsecure: true on a network you trust)`,
          configFile,
          'collector.url',
        );
      logger.warn(
        { url: `${url.protocol}//${url.host}` },
        'INSECURE: plain MQTT to a remote collector (collector.allowInsecure: true); data and secret travel unencrypted',
      );
    }
    return undefined;
  }
  // Without collector.tls the collector's certificate is still verified, against Node's public CAs.
  if (!c.tls) return {};
  const read = (file: string, field: string) => {
    const path = resolve(base, file);
    try {
      return readFileSync(path);
    } catch {
      throw new ConfigError(`${configFile}: collector.tls.${field}: cannot read ${path}`, configFile, `collector.tls.${field}`);
    }
  };
  if (Boolean(c.tls.certFile) !== Boolean(c.tls.keyFile))
    throw new ConfigError(
      `${configFile}: collector.tls: give certFile and keyFile together (the gateway's client certificate)`,
      configFile,
      'collector.tls.keyFile',
    );
  return {
    ...(c.tls.caFile ? { ca: read(c.tls.caFile, 'caFile') } : {}),
    ...(c.tls.certFile && c.tls.keyFile ? { cert: read(c.tls.certFile, 'certFile'), key: read(c.tls.keyFile, 'keyFile') } : {}),
  };
}
