import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

describe('generated docs', () => {
  it('docs/permissions.md is the permission table the collector enforces (regenerate: node scripts/gen-permissions-doc.mjs)', async () => {
    const { permissionsDoc } = await import(join(ROOT, 'scripts', 'gen-permissions-doc.mjs'));
    expect(readFileSync(join(ROOT, 'docs', 'permissions.md'), 'utf8')).toBe(permissionsDoc());
  });
});
