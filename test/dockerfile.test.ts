import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/**
 * No container engine runs here, so the images cannot be built in CI: this
 * reads the Dockerfiles and checks the rules docs/container.md promises, and
 * runs the HEALTHCHECK command itself against a real HTTP server.
 */

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by FROM. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const stages: Stage[] = [];
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [{ op: 'FROM', args }] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') });
  }
  return stages;
}
const all = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);
const execForm = (args: string) => JSON.parse(args.replace(/^CMD\s+/, '')) as string[];

const IMAGES = [
  { workspace: 'collector', port: 8080, workspaces: 'shared,collector' },
  { workspace: 'agent', port: 9464, workspaces: 'shared,agent' },
] as const;

describe.each(IMAGES)('$workspace/Dockerfile', ({ workspace, port, workspaces }) => {
  const stages = parseDockerfile(readFileSync(join(ROOT, workspace, 'Dockerfile'), 'utf8'));
  const [build, runtime] = stages as [Stage, Stage];

  it('builds in one stage (native modules for the target platform) and ships the production tree in another', () => {
    expect(stages).toHaveLength(2);
    expect(build.name).toBe('build');
    // --platform=$BUILDPLATFORM would build better-sqlite3 for the wrong CPU under buildx.
    expect(all(build, 'FROM')[0]).not.toMatch(/--platform/);
    const runs = all(build, 'RUN').join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toContain('npm run build');
    expect(runs).toContain(`scripts/production-tree.mjs --workspaces ${workspaces} --out /out`);
    // Only the pruned tree (and an empty state directory) reaches the runtime image.
    for (const copy of all(runtime, 'COPY')) expect(copy).toMatch(/^--from=build /);
    expect(all(runtime, 'COPY')[0]).toMatch(/ \/out \/app$/);
  });

  it('runs without a shell as a numeric non-root user', () => {
    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/nodejs20-debian12/);
    // Distroless has no shell: nothing in the runtime stage may need one.
    expect(all(runtime, 'RUN')).toEqual([]);
    const [user] = all(runtime, 'USER');
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user?.split(':')[0])).toBeGreaterThan(0);
    expect(execForm(all(runtime, 'ENTRYPOINT')[0] as string)).toEqual(['/nodejs/bin/node', `/app/${workspace}/dist/cli.js`]);
    expect(execForm(all(runtime, 'CMD')[0] as string)[0]).toBe('run');
  });

  it('labels the image with its version, revision and source from build arguments', () => {
    const args = all(runtime, 'ARG').map((a) => a.split('=')[0]);
    const labels = all(runtime, 'LABEL').join(' ');
    for (const [label, arg] of [
      ['version', 'VERSION'],
      ['revision', 'REVISION'],
      ['source', 'SOURCE'],
    ]) {
      expect(labels).toContain(`org.opencontainers.image.${label}="\${${arg}}"`);
      expect(args).toContain(arg);
    }
  });

  it('has a HEALTHCHECK on /healthz that works without curl', async () => {
    const [healthcheck = ''] = all(runtime, 'HEALTHCHECK');
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD ')));
    expect(command.slice(0, 2)).toEqual(['/nodejs/bin/node', '-e']);
    expect(command[2]).toContain(`http://127.0.0.1:${port}/healthz`);

    // Run the same script with this machine's node against a server that is healthy, then not.
    let status = 200;
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    const check = () => {
      const child = spawn(process.execPath, ['-e', command[2] as string], { env: { ...process.env, MEDTEL_HEALTHCHECK_URL: url }, stdio: 'ignore' });
      return new Promise<number | null>((r) => child.once('exit', r));
    };
    try {
      expect(await check()).toBe(0);
      status = 503;
      expect(await check()).toBe(1);
    } finally {
      server.close();
    }
    const down = spawnSync(process.execPath, ['-e', command[2] as string], { env: { ...process.env, MEDTEL_HEALTHCHECK_URL: 'http://127.0.0.1:1/healthz' } });
    expect(down.status).toBe(1);
  });
});

describe('.dockerignore', () => {
  it('keeps host builds and dependencies (possibly for another CPU) out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '.git', '**/*.db']) expect(ignored).toContain(pattern);
  });
});
