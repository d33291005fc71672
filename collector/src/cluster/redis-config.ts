import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN, parseDuration } from '@medtel/shared';

const URL_PATTERN = '^rediss?://';

/**
 * `redis:` in collector.yaml. Absent: one collector on its own (SQLite by
 * default), exactly as before. Present: this collector is one of several
 * replicas sharing Redis for the broker's state, live streams and leases
 * (docs/replicas.md). The password never sits in the file: it comes from the
 * environment (REDIS_PASSWORD) or a file, and is never logged.
 */
export const RedisConfigSchema = Type.Union(
  [
    Type.String({ pattern: URL_PATTERN, description: 'redis://[user@]host:port/db' }),
    Type.Object(
      {
        url: Type.String({ pattern: URL_PATTERN, description: 'redis://[user@]host:port/db (rediss:// for TLS)' }),
        passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the Redis password; relative to the config file' })),
        brokerHeartbeat: Type.Optional(
          Type.String({
            pattern: DURATION_PATTERN,
            description: "how often each replica tells the others it is alive; a lost replica's gateway wills are published after 3-4 of these (default 10s)",
          }),
        ),
        leaseTtl: Type.Optional(
          Type.String({
            pattern: DURATION_PATTERN,
            description: "how long a scheduled-job lease outlives its holder: a SIGKILLed holder's jobs move to another replica within this (default 15s)",
          }),
        ),
      },
      { additionalProperties: false, description: 'Redis with a password file or a broker heartbeat' },
    ),
  ],
  {
    expected: 'a redis:// URL, or { url, passwordFile, brokerHeartbeat, leaseTtl }',
    description:
      'Redis shared by several collector replicas (docs/replicas.md): broker sessions, retained messages and wills, live streams, leases. Password from REDIS_PASSWORD or `passwordFile`, never in the URL. Unset: a single collector',
  },
);
export type RedisConfig = Static<typeof RedisConfigSchema>;

/** What the replica code needs, with the password resolved. */
export interface RedisSettings {
  url: string;
  password: string | undefined;
  /** Prefix of the keys and channels medtel itself uses (aedes' own keys are its own). */
  keyPrefix: string;
  brokerHeartbeatMs: number;
  /** TTL of job leases (renewed every third of it). */
  leaseTtlMs: number;
}

/** Resolves `redis:` into settings; `base` is the config file's folder (for passwordFile). */
export function redisSettings(config: RedisConfig, base: string, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const c = typeof config === 'string' ? { url: config } : config;
  const url = new URL(c.url);
  if (url.password)
    throw new ConfigError(
      'redis: the URL carries a password; remove it and set REDIS_PASSWORD or redis.passwordFile (a password in the config file ends up in backups and logs)',
      '(config)',
      'redis',
    );
  let password = env.REDIS_PASSWORD || undefined;
  if ('passwordFile' in c && c.passwordFile) {
    const file = resolve(base, c.passwordFile);
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `redis.passwordFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        '(config)',
        'redis.passwordFile',
      );
    }
  }
  const heartbeat = 'brokerHeartbeat' in c && c.brokerHeartbeat ? parseDuration(c.brokerHeartbeat) : 10_000;
  const leaseTtl = 'leaseTtl' in c && c.leaseTtl ? parseDuration(c.leaseTtl) : 15_000;
  if (leaseTtl < 1000) throw new ConfigError('redis.leaseTtl: must be at least 1s', '(config)', 'redis.leaseTtl');
  return { url: c.url, password, keyPrefix: 'medtel:', brokerHeartbeatMs: heartbeat, leaseTtlMs: leaseTtl };
}

/** The URL without user info, for log lines. */
export function redisUrlForLog(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}
