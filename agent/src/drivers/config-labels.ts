import { ConfigError } from '@medtel/shared';

/**
 * Re-labels a nested validation error so it names the field inside its file:
 * a schema checked on one part of a file reports "(top level)" or "rate", and
 * the user needs "metrics[2].read.rate".
 */
export function within<T>(fn: () => T, file: string, prefix: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError && err.message.startsWith(`${file}: `)) {
      const rest = err.message.slice(file.length + 2);
      const nested = rest.startsWith('(top level)') ? rest.slice('(top level)'.length) : `.${rest}`;
      throw new ConfigError(`${file}: ${prefix}${nested}`, file, prefix);
    }
    throw err;
  }
}
