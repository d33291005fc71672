/**
 * API roles and the permission table. The table is data, not scattered `if`s:
 * the route guard reads it, and the docs are rendered from it
 * (`permissionsTableMarkdown()`), so what is enforced and what is documented
 * cannot drift apart.
 */

/** Ordered from least to most privileged; each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'technician', 'clinician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` is `min` or ranks above it. */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min);
}

/** Action name -> the least role allowed to do it. */
export const PERMISSIONS = {
  'registry:read': 'viewer',
  'telemetry:read': 'viewer',
  'alerts:read': 'viewer',
  'registry:write': 'technician',
  'registry:approve': 'technician',
  'calibration:write': 'technician',
  'maintenance:write': 'technician',
  'diagnostics:run': 'technician',
  'alerts:ack': 'technician',
  'alerts:configure': 'technician',
  'phi:open': 'clinician',
  'audit:read': 'admin',
  'gateways:manage': 'admin',
  'users:manage': 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

/** One line per permission for the generated docs; the compiler insists every permission has one. */
export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'registry:read': 'list and read devices and gateways',
  'telemetry:read': 'read readings, alarms, gaps and pseudonymous patient subjects (no identities)',
  'alerts:read': 'list alerts and follow the live stream of alerts and readings',
  'registry:write': 'create, edit and retire devices in the registry',
  'registry:approve': 'approve (binding asset tag, location, department) or reject devices the gateways discovered by themselves',
  'calibration:write': 'record calibrations (as-found, as-left); a reason is required',
  'maintenance:write': 'record preventive maintenance and repairs',
  'diagnostics:run': 'send diagnostic commands to a device through its gateway',
  'alerts:ack': 'acknowledge and resolve alerts; a reason is required',
  'alerts:configure': 'create, edit and delete alert rules',
  'phi:open': 'read protected health information (every read is audited)',
  'audit:read': 'read the audit trail',
  'gateways:manage': 'add and remove gateways and their secrets',
  'users:manage': 'manage users and their roles',
};

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

/** Whether `role` may perform `permission`. */
export function can(role: Role, permission: Permission): boolean {
  return roleAtLeast(role, PERMISSIONS[permission]);
}

/**
 * The permission table as Markdown: one row per permission, one column per
 * role. Paste into docs (or generate them) instead of writing it by hand.
 */
export function permissionsTableMarkdown(): string {
  const header = `| permission | allows | minimum role | ${ROLES.join(' | ')} |`;
  const rule = `|---|---|---|${ROLES.map(() => ':-:').join('|')}|`;
  const rows = (Object.keys(PERMISSIONS) as Permission[]).map(
    (p) => `| \`${p}\` | ${PERMISSION_DESCRIPTIONS[p]} | ${PERMISSIONS[p]} | ${ROLES.map((r) => (can(r, p) ? 'yes' : '-')).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n') + '\n';
}
