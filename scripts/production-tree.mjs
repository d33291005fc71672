#!/usr/bin/env node
/**
 * The production tree: compiled JavaScript of the chosen workspaces plus their
 * production dependencies, assembled from a built checkout. One definition for
 * everything that ships: the offline bundle (scripts/bundle.mjs) and the
 * container images (collector/Dockerfile and agent/Dockerfile run this script
 * in their build stage), so a test that starts the collector from this tree
 * runs what the image runs.
 *
 * Nothing is downloaded: node_modules is what `npm ci` already installed (and
 * built natively for this CPU), copied and pruned with `npm prune --omit=dev`.
 * Workspaces left out are dropped from the copied package.json first, so their
 * dependencies are pruned too (the collector image carries no serial or OPC UA
 * libraries).
 *
 *   node scripts/production-tree.mjs --out DIR [--workspaces shared,collector]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ALL_WORKSPACES = ['shared', 'simulators', 'agent', 'collector'];

/** Native modules' build intermediates and sources: only the built .node files are needed to run. */
const NATIVE_BUILD_LEFTOVERS = ['better-sqlite3/deps', 'better-sqlite3/src', 'better-sqlite3/build/Release/obj.target', 'better-sqlite3/build/Release/.deps'];

/**
 * Copies the workspaces' package.json, dist and profiles and the root
 * node_modules into `stage` (emptied first), then prunes development
 * dependencies. Throws if the checkout is not built.
 */
export function assembleProductionTree(stage, { workspaces = ALL_WORKSPACES, root = ROOT, log = () => {} } = {}) {
  for (const ws of workspaces) if (!existsSync(join(root, ws, 'dist'))) throw new Error(`${ws}/dist is missing: run npm run build first`);
  if (!existsSync(join(root, 'node_modules'))) throw new Error('node_modules is missing: run npm ci first');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  pkg.workspaces = pkg.workspaces.filter((ws) => workspaces.includes(ws));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  cpSync(join(root, 'package-lock.json'), join(stage, 'package-lock.json'));
  for (const ws of workspaces) {
    for (const part of ['package.json', 'dist', 'profiles', 'node_modules']) {
      const from = join(root, ws, part);
      if (existsSync(from)) cpSync(from, join(stage, ws, part), { recursive: true, verbatimSymlinks: true });
    }
  }
  // The dashboard's page and stylesheet (its modules are compiled into collector/dist/web; its sources stay out).
  if (workspaces.includes('collector')) {
    for (const file of ['index.html', 'app.css']) cpSync(join(root, 'collector', 'web', file), join(stage, 'collector', 'web', file));
  }

  log('copying dependencies (workspace links kept as links)');
  cpSync(join(root, 'node_modules'), join(stage, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  // Links to workspaces left out would dangle; prune would not know them.
  for (const ws of ALL_WORKSPACES.filter((w) => !workspaces.includes(w))) rmSync(join(stage, 'node_modules/@medtel', ws), { force: true });
  log('pruning development dependencies');
  execFileSync('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: stage,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (const junk of NATIVE_BUILD_LEFTOVERS) rmSync(join(stage, 'node_modules', junk), { recursive: true, force: true });
  // Prune leaves the @scope folders of what it removed behind, empty.
  for (const entry of readdirSync(join(stage, 'node_modules'))) {
    const dir = join(stage, 'node_modules', entry);
    if (entry.startsWith('@') && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
  return stage;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, workspaces: { type: 'string', default: ALL_WORKSPACES.join(',') } } });
  if (!values.out) {
    process.stderr.write('Usage: node scripts/production-tree.mjs --out DIR [--workspaces shared,collector]\n');
    process.exit(2);
  }
  const workspaces = values.workspaces.split(',').filter(Boolean);
  const unknown = workspaces.filter((ws) => !ALL_WORKSPACES.includes(ws));
  if (unknown.length) {
    process.stderr.write(`production-tree: unknown workspace ${unknown.join(', ')} (have ${ALL_WORKSPACES.join(', ')})\n`);
    process.exit(2);
  }
  try {
    const out = assembleProductionTree(resolve(values.out), { workspaces, log: (text) => process.stderr.write(`production-tree: ${text}\n`) });
    process.stdout.write(`${out}\n`);
  } catch (err) {
    process.stderr.write(`production-tree: ${err.message}\n`);
    process.exit(1);
  }
}
