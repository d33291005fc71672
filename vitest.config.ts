import { defineConfig } from 'vitest/config';

// Tests import the workspaces' compiled output (dist/) through their package
// names, exactly as the CLIs run; `npm test` builds first.
export default defineConfig({
  test: {
    include: ['{shared,agent,collector,simulators}/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
