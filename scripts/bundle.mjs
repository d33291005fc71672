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
 * already installed here, with the development ones pruned (scripts/production-tree.mjs,
 * which the container images use too).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, assembleProductionTree } from './production-tree.mjs';

const root = ROOT;

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

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const name = `medtel-${version}-linux-${process.arch}`;
const out = resolve(values.out);
const stage = join(out, name);
say(`staging ${name}`);
try {
  assembleProductionTree(stage, { log: say });
} catch (err) {
  fail(err.message);
}
cpSync(join(root, 'README.md'), join(stage, 'README.md'));
for (const dir of ['docs', 'systemd']) cpSync(join(root, dir), join(stage, dir), { recursive: true });

const tarball = join(out, `${name}.tar.gz`);
say(`writing ${tarball}`);
execFileSync('tar', ['-czf', tarball, '-C', out, name]);
rmSync(stage, { recursive: true, force: true });
const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
const mib = (statSync(tarball).size / 2 ** 20).toFixed(1);
process.stdout.write(`${tarball}\n${mib} MiB, sha256 ${sha256}\n`);
