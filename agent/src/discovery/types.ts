import type { PortAttempt } from '@medtel/shared';
import type { IdentifyPlan, LineSettings } from '../profiles/identify.js';
import type { IdentityField, ResolvedProfile } from '../profiles/load.js';

/** A port as plug-and-play sees it: the name reported (a by-id link name or tcp://host:port) and what to open. */
export interface PortTarget {
  port: string;
  /** A tty path, or tcp://host:port for a terminal server. */
  path: string;
}

export type Identity = Partial<Record<IdentityField, string>>;

/** How one attempt ended; `matched` carries what the device said about itself (identity fields only, never other bytes). */
export type ProbeResult = { outcome: 'matched'; identity: Identity; unitId?: number } | { outcome: Exclude<PortAttempt['outcome'], 'matched'> };

/** One protocol family's identification: read-only, bounded by the plan's times, closes the port before it resolves. */
export type ProbeFn = (target: PortTarget, profile: ResolvedProfile & { identifyPlan: IdentifyPlan }, line: LineSettings) => Promise<ProbeResult>;

/** A port identified as one profile's model. */
export interface Identification {
  profile: ResolvedProfile;
  identity: Identity;
  method: 'listen' | 'probe';
  /** "19200 8E1"; absent on a terminal server (its line is set on the server). */
  settings?: string;
  line: LineSettings;
  unitId?: number;
}

/** True when every field the profile names in `identify.match` equals what the device reported. */
export function identityMatches(match: Identity, identity: Identity): boolean {
  return Object.entries(match).every(([field, want]) => identity[field as IdentityField]?.trim() === want);
}
