import { ConfigError, parseDuration } from '@medtel/shared';
import { Command } from '../drivers/medibus/frame.js';
import type { Profile, IdentityField } from './schema.js';

/**
 * Checks a profile's `identify:` section at load and turns it into a probe
 * plan. This is where "probing is read-only" is enforced for profiles: a
 * MEDIBUS request must be one of the id/read requests below, Modbus reads are
 * the identity registers (table holding/input: functions 03/04, never a
 * write), and a listen-only stream sends nothing at all.
 */

export interface LineSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** Serial families are probed on ports; `opcua` (and Modbus without line settings) only on listed network endpoints. */
export type IdentifyFamily = 'medtel-ecg' | 'medibus' | 'modbus' | 'opcua';

export interface IdentifyPlan {
  /** listen: the device streams and is recognised by its frames; probe: one read-only request. */
  method: 'listen' | 'probe';
  family: IdentifyFamily;
  order: number;
  lines: Array<{ text: string; settings: LineSettings }>;
  listenMs: number;
  /** MEDIBUS: the command byte of the id request. */
  command?: number;
  unitIds: number[];
  timeoutMs: number;
  match: Partial<Record<IdentityField, string>>;
}

/** The only MEDIBUS requests a probe may send: they read, they change nothing on the device. */
export const MEDIBUS_PROBE_REQUESTS: Record<string, number> = { 'device-id': Command.deviceId };

const PARITY = { N: 'none', E: 'even', O: 'odd' } as const;

export function parseLineSettings(text: string): LineSettings {
  const m = /^(\d+) ([78])([NEO])([12])$/.exec(text.trim());
  if (!m) throw new Error(`line settings "${text}": expected e.g. 19200 8E1`);
  return { baudRate: Number(m[1]), dataBits: Number(m[2]) as 7 | 8, parity: PARITY[m[3] as 'N' | 'E' | 'O'], stopBits: Number(m[4]) as 1 | 2 };
}

export function formatLineSettings(s: LineSettings): string {
  return `${s.baudRate} ${s.dataBits}${s.parity[0]?.toUpperCase()}${s.stopBits}`;
}

export function unitRange(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let u = a; u <= (b ?? a); u++) out.add(u);
  }
  return [...out];
}

export function planIdentify(profile: Profile, file: string): IdentifyPlan | undefined {
  const id = profile.identify;
  if (!id) return undefined;
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${file}: identify.${field}: ${message}`, file, `identify.${field}`);
  };
  const family = (['medtel-ecg', 'medibus', 'modbus', 'opcua'] as const).find((f) => profile.protocols.includes(f));
  if (!family) fail('match', `plug-and-play identifies serial, Modbus and OPC UA devices only; profile protocols are ${profile.protocols.join(', ')}`);
  const fam = family as IdentifyFamily;
  const matchFields = Object.keys(id.match) as IdentityField[];
  if (matchFields.length === 0) fail('match', 'give at least one identity field that must match (model...)');
  for (const field of matchFields) if (!profile.identity[field]) fail(`match.${field}`, `the profile has no identity.${field} to read it from`);
  // Without a serial, the same device on another port would be a new device: refuse rather than duplicate.
  if (!profile.identity.serial) fail('match', 'identify needs identity.serial, so a device keeps its id when it moves to another port');
  const driverLine = (profile.driver as { line?: Partial<LineSettings> } | undefined)?.line;
  // A network-only model has no line: OPC UA always, Modbus when neither identify.lines nor driver.line
  // names one (then it is identified on listed Modbus TCP hosts only, never on a serial port).
  const networkOnly = fam === 'opcua' || (fam === 'modbus' && !id.lines && !driverLine?.baudRate);
  if (fam === 'opcua' && id.lines) fail('lines', 'an OPC UA server has no serial line; remove lines');
  const lineTexts = networkOnly
    ? []
    : (id.lines ??
      (driverLine?.baudRate
        ? [formatLineSettings({ dataBits: 8, parity: 'none', stopBits: 1, ...driverLine } as LineSettings)]
        : fail('lines', 'give the line settings to try, e.g. ["19200 8E1"] (or driver.line)')));
  const lines = (lineTexts as string[]).map((text, i) => {
    try {
      return { text, settings: parseLineSettings(text) };
    } catch (err) {
      return fail(`lines[${i}]`, (err as Error).message);
    }
  });
  const plan: IdentifyPlan = {
    method: fam === 'medtel-ecg' ? 'listen' : 'probe',
    family: fam,
    order: id.order,
    lines,
    listenMs: 0,
    unitIds: [],
    timeoutMs: parseDuration(id.timeout),
    match: id.match,
  };
  if (fam === 'opcua') {
    // Identification reads the profile's identity nodes (Read service only): nothing to request, no units.
    if (id.listen || id.request || id.unitIds)
      fail(id.listen ? 'listen' : id.request ? 'request' : 'unitIds', 'an OPC UA server is identified by reading its identity nodes: give match only');
  } else if (fam === 'medtel-ecg') {
    // The stream has no command channel: the agent never writes to it.
    if (id.request || id.unitIds) fail(id.request ? 'request' : 'unitIds', 'a listen-only stream takes no requests; give listen: <duration>');
    if (!id.listen) fail('listen', 'give how long to listen for the identifying frame, e.g. 6s');
    plan.listenMs = parseDuration(id.listen as string);
  } else if (fam === 'medibus') {
    if (id.listen || id.unitIds) fail(id.listen ? 'listen' : 'unitIds', 'a MEDIBUS device is polled: give request: device-id');
    const command = MEDIBUS_PROBE_REQUESTS[id.request ?? ''];
    if (command === undefined)
      fail(
        'request',
        `found "${id.request ?? ''}", expected one of ${Object.keys(MEDIBUS_PROBE_REQUESTS).join(', ')} (probing may only send read-only requests)`,
      );
    plan.command = command;
  } else {
    if (id.listen || id.request) fail(id.listen ? 'listen' : 'request', 'Modbus identification reads the identity registers: give unitIds');
    // On a listed Modbus TCP host the unit ids come from discovery.modbusTcp; a serial line needs them here.
    if (!id.unitIds && !networkOnly) fail('unitIds', 'give the unit ids to ask, e.g. "1-4"');
    plan.unitIds = id.unitIds ? unitRange(id.unitIds) : [];
    if (plan.unitIds.some((u) => u < 1 || u > 247)) fail('unitIds', 'unit ids are 1-247');
    if (plan.unitIds.length > 32) fail('unitIds', `${plan.unitIds.length} unit ids; at most 32 (each unanswered id costs a timeout)`);
  }
  return plan;
}
