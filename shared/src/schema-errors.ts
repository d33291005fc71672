import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';

/** `/devices/0/connection/port` -> `devices[0].connection.port` */
export function pointerToField(pointer: string): string {
  if (pointer === '' || pointer === '/') return '(top level)';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * What a schema expects, in words. A schema may carry its own `expected` text
 * (e.g. "a duration such as 5s"); unions of literals list their choices.
 */
export function expectedText(schema: TSchema): string {
  if (typeof schema.expected === 'string') return schema.expected;
  const choices = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const);
  if (choices?.every((c) => c !== undefined)) return `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === 'integer' || schema.type === 'number') {
    const bounds = [schema.minimum !== undefined ? `>= ${schema.minimum}` : '', schema.maximum !== undefined ? `<= ${schema.maximum}` : ''].filter(Boolean);
    const noun = schema.type === 'integer' ? 'an integer' : 'a number';
    return bounds.length ? `${noun} ${bounds.join(' and ')}` : noun;
  }
  if (schema.type === 'string') {
    if (schema.minLength) return 'a non-empty string';
    if (schema.pattern) return `a string matching ${schema.pattern}`;
    return 'a string';
  }
  if (schema.type === 'array') return 'a list';
  if (schema.type === 'object') return 'a mapping';
  if (schema.type === 'boolean') return 'true or false';
  return 'a valid value';
}

/** One readable sentence for the first schema error: field, what was found, what is expected. */
export function describeValueError(error: ValueError): { field: string; text: string } {
  const field = pointerToField(error.path);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    // TypeBox reports the unknown key as the value's path tail.
    return { field, text: `${field}: unknown field; check its spelling (allowed: ${Object.keys(error.schema.properties ?? {}).join(', ') || 'none'})` };
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty || error.value === undefined) {
    return { field, text: `${field}: missing; expected ${expectedText(error.schema)}` };
  }
  return { field, text: `${field}: found ${shown(error.value)}, expected ${expectedText(error.schema)}` };
}
