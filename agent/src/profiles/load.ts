import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEVICE_TYPES, loadConfigFile, lookupTerm, lookupUnit, parseDuration, type MetricDescriptor, type PhiField } from '@medtel/shared';
import { type IdentifyPlan, planIdentify } from './identify.js';
import { ProfileSchema, type Profile, type ProfileDiagnostic } from './schema.js';

export type { IdentityField } from './schema.js';

/** The profiles shipped with the agent: agent/profiles/ (next to dist/). */
export const BUILTIN_PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

/** A profile with every IEEE 11073 reference resolved to codes, ready for the transform. */
export interface ResolvedProfile extends Profile {
  file: string;
  deviceCode?: number;
  descriptors: Map<string, MetricDescriptor>;
  alarmCodes: Map<string, { code?: number; refId?: string }>;
  /** Diagnostic tests by name, with their time limit in milliseconds. */
  tests: Map<string, ProfileDiagnostic & { timeoutMs: number }>;
  /** Metric id -> the patient field it holds (metrics marked `phi:`); never readings. */
  phiFields: Map<string, PhiField>;
  /** How plug-and-play recognises this model (from `identify:`), checked read-only at load. */
  identifyPlan?: IdentifyPlan;
}

/** Finds a profile by name (searching `extraDir` first) or by path. */
export function findProfileFile(nameOrPath: string, extraDir?: string, baseDir = process.cwd()): string | undefined {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) {
    const file = isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
    return existsSync(file) ? file : undefined;
  }
  for (const dir of [extraDir && resolve(baseDir, extraDir), BUILTIN_PROFILES_DIR]) {
    if (!dir) continue;
    const file = join(dir, `${nameOrPath}.yaml`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export function loadProfile(file: string): ResolvedProfile {
  const profile = loadConfigFile(file, ProfileSchema);
  const descriptors = new Map<string, MetricDescriptor>();
  profile.metrics.forEach((metric, i) => {
    if (descriptors.has(metric.id)) throw new ConfigError(`${file}: metrics[${i}].id: "${metric.id}" is used twice`, file, `metrics[${i}].id`);
    const descriptor: MetricDescriptor = { metric: metric.id };
    if (metric.mdc) {
      const term = lookupTerm(metric.mdc);
      if (!term)
        throw new ConfigError(
          `${file}: metrics[${i}].mdc: unknown code "${metric.mdc}"; use a reference id listed in shared/src/mdc.ts`,
          file,
          `metrics[${i}].mdc`,
        );
      descriptor.code = term.code;
      descriptor.refId = term.refId;
    }
    const unitRef = metric.unit ?? (metric.mdc ? lookupTerm(metric.mdc)?.unit : undefined);
    if (unitRef) {
      const unit = lookupUnit(unitRef);
      if (!unit) throw new ConfigError(`${file}: metrics[${i}].unit: unknown unit "${unitRef}"; use an MDC_DIM_ reference id`, file, `metrics[${i}].unit`);
      descriptor.unit = unit.symbol;
      descriptor.unitCode = unit.code;
    }
    descriptors.set(metric.id, descriptor);
  });
  const phiFields = new Map<string, PhiField>();
  profile.metrics.forEach((metric, i) => {
    if (!metric.phi) return;
    if ([...phiFields.values()].includes(metric.phi))
      throw new ConfigError(`${file}: metrics[${i}].phi: "${metric.phi}" is marked on two metrics`, file, `metrics[${i}].phi`);
    phiFields.set(metric.id, metric.phi);
  });
  if (phiFields.size > 0 && ![...phiFields.values()].includes('mrn')) {
    throw new ConfigError(
      `${file}: metrics: patient fields are marked phi but none is "phi: mrn"; the pseudonymous subject id is derived from the MRN`,
      file,
      'metrics',
    );
  }
  const alarmCodes = new Map<string, { code?: number; refId?: string }>();
  profile.alarms.forEach((alarm, i) => {
    if (!descriptors.has(alarm.metric) || phiFields.has(alarm.metric)) {
      throw new ConfigError(`${file}: alarms[${i}].metric: "${alarm.metric}" is not one of this profile's metrics`, file, `alarms[${i}].metric`);
    }
    const term = alarm.mdc ? lookupTerm(alarm.mdc) : undefined;
    if (alarm.mdc && !term) throw new ConfigError(`${file}: alarms[${i}].mdc: unknown code "${alarm.mdc}"`, file, `alarms[${i}].mdc`);
    alarmCodes.set(alarm.id, term ? { code: term.code, refId: term.refId } : {});
  });
  const tests = new Map<string, ProfileDiagnostic & { timeoutMs: number }>();
  profile.diagnostics.forEach((test, i) => {
    if (tests.has(test.name)) throw new ConfigError(`${file}: diagnostics[${i}].name: "${test.name}" is used twice`, file, `diagnostics[${i}].name`);
    tests.set(test.name, { ...test, timeoutMs: parseDuration(test.timeout) });
  });
  const deviceCode = DEVICE_TYPES[profile.type];
  const identifyPlan = planIdentify(profile, file);
  return { ...profile, file, descriptors, alarmCodes, tests, phiFields, ...(deviceCode ? { deviceCode } : {}), ...(identifyPlan ? { identifyPlan } : {}) };
}
