import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { Backoff, ConfigError, DURATION_PATTERN, parseConfigText, parseDuration } from '../dist/index.js';

const Schema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
    poll: Type.String({ pattern: DURATION_PATTERN, default: '1s', expected: 'a duration such as 5s' }),
    nested: Type.Object(
      { level: Type.Union([Type.Literal('info'), Type.Literal('debug')], { default: 'info' }) },
      { additionalProperties: false, default: {} },
    ),
    list: Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: false }), { default: [] }),
  },
  { additionalProperties: false },
);

function errorOf(text: string): ConfigError {
  try {
    parseConfigText(text, 'site.yaml', Schema);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  it('fills defaults, including nested objects', () => {
    expect(parseConfigText('name: pump', 'site.yaml', Schema)).toEqual({ name: 'pump', port: 502, poll: '1s', nested: { level: 'info' }, list: [] });
  });

  it.each([
    ['port: 70000\nname: a', 'site.yaml: port: found 70000, expected an integer >= 1 and <= 65535'],
    ['name: a\nport: "502"', 'site.yaml: port: found "502", expected an integer >= 1 and <= 65535'],
    ['name: a\npoll: soon', 'site.yaml: poll: found "soon", expected a duration such as 5s'],
    ['name: a\nnested: { level: loud }', 'site.yaml: nested.level: found "loud", expected one of "info", "debug"'],
    ['name: a\nlist: [{ id: x, colour: red }]', 'site.yaml: list[0].colour: unknown field'],
    ['name: a\nprot: 1', 'site.yaml: prot: unknown field'],
    ['port: 1', 'site.yaml: name: missing'],
  ])('names file and field for %j', (text, message) => {
    expect(errorOf(text).message).toContain(message);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorOf('name: [unclosed').message).toMatch(/^site\.yaml:1:\d+: not valid YAML/);
  });

  it('refuses duplicate keys', () => {
    expect(errorOf('name: a\nname: b').message).toMatch(/not valid YAML/);
  });
});

describe('durations and backoff', () => {
  it('parses the units people write', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration(42)).toBe(42);
    expect(() => parseDuration('5 seconds')).toThrow(/invalid duration "5 seconds"/);
  });

  it('backs off exponentially within bounds, with jitter, and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
    const low = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0);
    low.next();
    expect(low.next()).toBe(50);
  });
});
