import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and no whitespace, so the same
 * value always gives the same bytes (and the same hash) whatever order its
 * keys were built in. Values JSON cannot carry faithfully (NaN, Infinity,
 * bigint, cycles) are refused rather than silently turned into null: an audit
 * entry must say exactly what was stored.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Dates and the like, as JSON.stringify would.
    return write((value as { toJSON: () => unknown }).toJSON(), ancestors);
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError('canonical JSON: bigint has no JSON form; convert it to a string first');
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError('canonical JSON: the value contains a cycle');
      ancestors.add(value);
      let out: string;
      if (Array.isArray(value)) {
        // As JSON.stringify: holes, undefined and functions in arrays become null.
        out = `[${value.map((item) => (item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : write(item, ancestors))).join(',')}]`;
      } else {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record)
          .filter((k) => record[k] !== undefined && typeof record[k] !== 'function' && typeof record[k] !== 'symbol')
          .sort();
        out = `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], ancestors)}`).join(',')}}`;
      }
      ancestors.delete(value);
      return out;
    }
    default:
      throw new TypeError(`canonical JSON: a ${typeof value} has no JSON form`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
