import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';
import { discoveryContract } from './discovery-contract.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

discoveryContract('SQLite file on disk', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir.path, 'collector.db');
  return { store: new SqliteStore(file), reopen: async () => new SqliteStore(file) };
});
