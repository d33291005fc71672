import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';
import { gatewayCredentialContract } from './gateway-credential-contract.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

gatewayCredentialContract('SQLite file on disk', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir.path, 'collector.db');
  return { store: new SqliteStore(file), reopen: async () => new SqliteStore(file) };
});
