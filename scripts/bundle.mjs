#!/usr/bin/env node
/**
 * `npm run bundle`: a self-contained tarball for gateways without internet —
 * compiled JavaScript, device profiles, docs, the systemd units and installer,
 * and the production dependencies already built for this machine's CPU
 * (better-sqlite3 and serialport are native). Unpack it on the gateway and
 * run its `systemd/install.sh --from .` (docs/install-gateway.md).
 *
 * Native modules are built for the machine that runs this: make an arm64
 * bundle on an arm64 machine (a Raspberry Pi class gateway, or an arm64 CI
 * runner). Nothing is downloaded: production dependencies are what `npm ci`
 * already installed here, with the development ones pruned.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKSPACES = ['shared', 'simulators', 'agent', 'collector'];

const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, '.bundle') }, help: { type: 'boolean', short: 'h', default: false } },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bundle [-- --out DIR]\n\nWrites DIR/medtel-<version>-linux-<arch>.tar.gz (default DIR: .bundle/) from this built checkout.\n',
  );
  process.exit(0);
}

const say = (text) => process.stderr.write(`bundle: ${text}\n`);
const fail = (text) => {
  say(text);
  process.exit(1);
};

if (process.platform !== 'linux') fail(`gateways run Linux; this is ${process.platform}`);
for (const ws of WORKSPACES) if (!existsSync(join(root, ws, 'dist'))) fail(`${ws}/dist is missing: run npm run build first`);
if (!existsSync(join(root, 'node_modules'))) fail('node_modules is missing: run npm ci first');

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const name = `medtel-${version}-linux-${process.arch}`;
const out = resolve(values.out);
const stage = join(out, name);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

say(`staging ${name}`);
for (const file of ['package.json', 'package-lock.json', 'README.md']) cpSync(join(root, file), join(stage, file));
for (const dir of ['docs', 'systemd']) cpSync(join(root, dir), join(stage, dir), { recursive: true });
for (const ws of WORKSPACES) {
  for (const part of ['package.json', 'dist', 'profiles', 'node_modules']) {
    const from = join(root, ws, part);
    if (existsSync(from)) cpSync(from, join(stage, ws, part), { recursive: true, verbatimSymlinks: true });
  }
}

// The dashboard's page and stylesheet (its modules are compiled into collector/dist/web; its sources stay out).
for (const file of ['index.html', 'app.css']) cpSync(join(root, 'collector', 'web', file), join(stage, 'collector', 'web', file));

say('copying dependencies (workspace links kept as links)');
cpSync(join(root, 'node_modules'), join(stage, 'node_modules'), { recursive: true, verbatimSymlinks: true });
say('pruning development dependencies');
execFileSync('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
  cwd: stage,
  stdio: ['ignore', 'ignore', 'inherit'],
});
// Native modules' build intermediates and sources are not needed to run (only the .node files are).
for (const junk of ['better-sqlite3/deps', 'better-sqlite3/src', 'better-sqlite3/build/Release/obj.target', 'better-sqlite3/build/Release/.deps']) {
  rmSync(join(stage, 'node_modules', junk), { recursive: true, force: true });
}

const tarball = join(out, `${name}.tar.gz`);
say(`writing ${tarball}`);
execFileSync('tar', ['-czf', tarball, '-C', out, name]);
rmSync(stage, { recursive: true, force: true });
const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
const mib = (statSync(tarball).size / 2 ** 20).toFixed(1);
process.stdout.write(`${tarball}\n${mib} MiB, sha256 ${sha256}\n`);
