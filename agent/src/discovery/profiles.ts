import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type Logger } from '@medtel/shared';
import type { AgentConfig } from '../config.js';
import { BUILTIN_PROFILES_DIR, loadProfile, type ResolvedProfile } from '../profiles/load.js';

/**
 * The profiles plug-and-play tries: every profile with an `identify:` section
 * in the profiles directory and the built-in ones (a profile in profilesDir
 * replaces a built-in one of the same name), or only those named in
 * discovery.profiles. A broken profile nobody named is skipped with a warning,
 * so an unrelated file cannot stop the agent.
 */
export function identifiableProfiles(config: AgentConfig, baseDir: string, logger?: Logger): ResolvedProfile[] {
  const files = new Map<string, string>();
  for (const dir of [BUILTIN_PROFILES_DIR, config.profilesDir && resolve(baseDir, config.profilesDir)]) {
    if (!dir) continue;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (/\.ya?ml$/.test(name)) files.set(name.replace(/\.ya?ml$/, ''), join(dir, name));
  }
  const wanted = config.discovery.profiles;
  const out: ResolvedProfile[] = [];
  wanted?.forEach((name, i) => {
    if (!files.has(name))
      throw new ConfigError(
        `discovery.profiles[${i}]: no profile "${name}" (looked in ${config.profilesDir ?? 'the built-in profiles'})`,
        'config',
        `discovery.profiles[${i}]`,
      );
  });
  for (const [name, file] of files) {
    if (wanted && !wanted.includes(name)) continue;
    try {
      const profile = loadProfile(file);
      if (profile.identifyPlan) out.push(profile);
      else if (wanted) throw new ConfigError(`discovery.profiles: "${name}" has no identify section`, 'config', 'discovery.profiles');
    } catch (err) {
      if (wanted) throw err;
      logger?.warn({ file, err: (err as Error).message }, 'profile skipped for plug-and-play');
    }
  }
  return out;
}
