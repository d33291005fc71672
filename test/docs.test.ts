import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/** Documents generated from code: each script exports its generator and writes the file when run. */
const GENERATED = [
  { doc: 'docs/permissions.md', script: 'gen-permissions-doc.mjs', generator: 'permissionsDoc', source: 'the permission table the collector enforces' },
  { doc: 'docs/config-reference.md', script: 'gen-config-doc.mjs', generator: 'configReferenceDoc', source: 'the config schemas the programs validate with' },
];

describe('generated docs', () => {
  for (const { doc, script, generator, source } of GENERATED) {
    it(`${doc} is ${source} (regenerate: node scripts/${script})`, async () => {
      const module = (await import(join(ROOT, 'scripts', script))) as Record<string, () => string>;
      expect(readFileSync(join(ROOT, doc), 'utf8')).toBe(module[generator]?.());
    });
  }
});
