import { afterAll } from 'vitest';
import { testPostgres } from './collector-fixture.js';

/**
 * The API test files that exercise every sub-store (HTM, alerts,
 * diagnostics, PHI, approval, trends, the registry and the audit trail),
 * run again here with the collector on PostgreSQL: the fixture gives each
 * collector a fresh database in a throw-away cluster. Any other API test
 * file runs on PostgreSQL the same way: MEDTEL_TEST_STORE=postgres npx vitest run <file>.
 */
// Without the PostgreSQL server binaries the fixture fails saying what to install (.ci/run does): never a silent SQLite run.
process.env.MEDTEL_TEST_STORE = 'postgres';
afterAll(async () => {
  if (process.env.MEDTEL_TEST_STORE === 'postgres') (await testPostgres()).remove();
});

await import('./api.test.js');
await import('./htm-api.test.js');
await import('./alerts-api.test.js');
await import('./diagnostics-api.test.js');
await import('./phi-open.test.js');
await import('./device-approval.test.js');
await import('./trend-api.test.js');
// gateway-provisioning.test.ts is left out: its CLI half writes a config with store.path (SQLite) by hand.
