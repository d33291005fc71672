import { LOG_LEVELS, parseDuration } from '@medtel/shared';
import type { Command } from 'commander';
import { parseHostPort, UsageError } from './pump-options.js';
import type { SerialSimOptions } from './serial/serial-sim.js';

/**
 * The flags every serial simulator shares (`medtel-sim ventilator|ecg|xray`): where
 * the line is, line faults, stalls and unplugs. Rejections name the flag.
 */
export interface SerialCliFlags {
  pty?: string;
  tty?: string;
  tcp?: string;
  seed?: string;
  garbage?: string;
  badChecksum?: string;
  truncate?: string;
  drop?: string;
  stallAfter?: string;
  stallFor?: string;
  unplugAfter?: string;
  unplugFor?: string;
  logLevel?: string;
}

export function addSerialFlags(cmd: Command): Command {
  return cmd
    .option('--pty <link>', 'create a pty pair with socat; the agent opens <link>')
    .option('--tty <path>', 'serve an existing tty (e.g. one end of your own socat pair, or a real port)')
    .option('--tcp <host:port>', 'listen like a terminal server (raw bytes over TCP)')
    .option('--garbage <p>', 'probability (0..1) of random bytes before a frame')
    .option('--bad-checksum <p>', 'probability (0..1) of a frame with a wrong checksum')
    .option('--truncate <p>', 'probability (0..1) of a frame cut short')
    .option('--drop <p>', 'probability (0..1) of a frame never sent')
    .option('--stall-after <duration>', 'go mute after this long (default: never)')
    .option('--stall-for <duration>', 'stay mute this long (default: for ever)')
    .option('--unplug-after <duration>', 'pull the cable after this long: pty link removed / TCP client dropped')
    .option('--unplug-for <duration>', 'and plug it back after this long (default 5s)')
    .option('--seed <n>', 'seed for noise and faults (default: random, logged at start)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info');
}

function probability(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!(text.trim() !== '' && v >= 0 && v <= 1)) throw new UsageError(flag, text, 'a probability between 0 and 1');
  return v;
}

function seconds(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text) / 1000;
  } catch {
    throw new UsageError(flag, text, 'a duration such as 500ms, 10s or 2m');
  }
}

export function parseSerialFlags(flags: SerialCliFlags): { options: SerialSimOptions; logLevel: string } {
  const given = [flags.pty, flags.tty, flags.tcp].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('--pty', undefined, 'give exactly one of --pty <link>, --tty <path> or --tcp <host:port>');
  const link =
    flags.tcp !== undefined ? { tcp: parseHostPort('--tcp', flags.tcp) } : flags.tty !== undefined ? { tty: flags.tty } : { pty: flags.pty as string };
  const logLevel = flags.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError('--log-level', logLevel, LOG_LEVELS.join(', '));
  if (flags.seed !== undefined && !/^\d{1,10}$/.test(flags.seed)) throw new UsageError('--seed', flags.seed, 'an integer between 0 and 4294967295');
  const faults = Object.fromEntries(
    (
      [
        ['garbage', probability('--garbage', flags.garbage)],
        ['badChecksum', probability('--bad-checksum', flags.badChecksum)],
        ['truncate', probability('--truncate', flags.truncate)],
        ['drop', probability('--drop', flags.drop)],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  const timing = Object.fromEntries(
    (
      [
        ['stallAfterS', seconds('--stall-after', flags.stallAfter)],
        ['stallForS', seconds('--stall-for', flags.stallFor)],
        ['unplugAfterS', seconds('--unplug-after', flags.unplugAfter)],
        ['unplugForS', seconds('--unplug-for', flags.unplugFor)],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  return { options: { link, faults, ...timing, ...(flags.seed !== undefined ? { seed: Number(flags.seed) } : {}) }, logLevel };
}

export { seconds as parseSeconds };
