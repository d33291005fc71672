import { readFileSync } from 'node:fs';
import type { TSchema, Static } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { describeValueError } from './schema-errors.js';

/**
 * A mistake in a config file: `message` is one line naming the file, the field
 * and what to write instead. CLIs print it and exit 2, without a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Reads YAML from `file`, fills defaults, validates against `schema`. */
export function loadConfigFile<S extends TSchema>(file: string, schema: S, prepare?: (raw: unknown) => unknown): Static<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new ConfigError(`${file}: cannot read config: ${why}`, file);
  }
  return parseConfigText(text, file, schema, prepare);
}

/** As loadConfigFile, for text already in hand; `file` is only used in messages. */
/** `prepare` may rewrite the parsed YAML before validation (a short form of a setting, e.g. `store: postgres://…`). */
export function parseConfigText<S extends TSchema>(text: string, file: string, schema: S, prepare?: (raw: unknown) => unknown): Static<S> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    // The first line of a pretty error, without its position (we put that in front) or the source excerpt.
    const text = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${where}: not valid YAML: ${text}`, file);
  }
  const raw: unknown = doc.toJS() ?? {};
  return validateConfig(prepare ? prepare(raw) : raw, file, schema);
}

/** Fills defaults and validates an already-parsed object (also used for CLI-built configs). */
export function validateConfig<S extends TSchema>(raw: unknown, file: string, schema: S): Static<S> {
  const value = Value.Default(schema, structuredClone(raw));
  const error: ValueError | undefined = Value.Errors(schema, value).First();
  if (error) {
    const { field, text } = describeValueError(error);
    throw new ConfigError(`${file}: ${text}`, file, field);
  }
  return value as Static<S>;
}
