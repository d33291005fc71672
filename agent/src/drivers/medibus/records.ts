/**
 * The data records inside MEDIBUS-style responses. Fixed-width ASCII:
 * measured data 6 characters (2 hex code + 4 value), settings 7 (2 + 5),
 * alarms 15 (priority digit + 2 hex code + 12 text), device id: 4-character id,
 * the name in apostrophes, an 11-character revision, then (medtel simulator and
 * several real devices) the serial number up to the end.
 */

export class RecordError extends Error {}

function fixed(data: string, width: number, what: string): string[] {
  if (data.length % width !== 0) throw new RecordError(`${what}: ${data.length} characters is not a multiple of ${width}`);
  const out: string[] = [];
  for (let i = 0; i < data.length; i += width) out.push(data.slice(i, i + width));
  return out;
}

const HEX2 = /^[0-9A-F]{2}$/;

/** Code (2 upper-case hex) -> value text, for measured data, settings and patient data. */
export function parseValues(data: string, kind: 'measured' | 'settings' | 'patient'): Map<string, string> {
  const width = kind === 'measured' ? 6 : kind === 'settings' ? 7 : 34;
  const out = new Map<string, string>();
  for (const rec of fixed(data, width, kind)) {
    const code = rec.slice(0, 2);
    if (!HEX2.test(code)) throw new RecordError(`${kind}: bad code "${code}"`);
    out.set(code, rec.slice(2).trim());
  }
  return out;
}

export interface AlarmRecord {
  /** Device priority digit, 1 (low) .. 3 (high); 0 = advisory. */
  priority: number;
  code: string;
  text: string;
}

export function parseAlarms(data: string): AlarmRecord[] {
  return fixed(data, 15, 'alarms').map((rec) => {
    const priority = Number(rec[0]);
    const code = rec.slice(1, 3);
    if (!/^\d$/.test(rec[0] as string) || !HEX2.test(code)) throw new RecordError(`alarms: bad record "${rec}"`);
    return { priority, code, text: rec.slice(3).trim() };
  });
}

export interface DeviceIdRecord {
  id: string;
  name: string;
  revision: string;
  serial?: string;
}

export function parseDeviceId(data: string): DeviceIdRecord {
  const m = /^(.{4})'([^']*)'(.{11})(.*)$/.exec(data);
  if (!m) throw new RecordError('device id: expected 4-character id, name in apostrophes and an 11-character revision');
  const serial = (m[4] as string).trim();
  return { id: (m[1] as string).trim(), name: m[2] as string, revision: (m[3] as string).trim(), ...(serial ? { serial } : {}) };
}

/** A value text as a number when it is one ("  7.5" -> 7.5), else the trimmed text ("VC-AC"). */
export function recordValue(text: string): number | string {
  const t = text.trim();
  return /^[-+]?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}
