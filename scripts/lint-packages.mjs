#!/usr/bin/env node
// Root `npm run lint:packages`: checks that every packages/* workspace is publishable.
// For each one (built first by the npm script): the publishing fields isolsim requires
// (`exports` with `types` first, `files`, `sideEffects: false`, `engines`, `license`, a README),
// then `publint --strict` and `attw --pack . --profile esm-only` (@arethetypeswrong/cli).
// Exits non-zero when any package fails; prints one line per package.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'node_modules', '.bin');

/** Directories of packages/* that have a package.json, sorted. */
export function listPackages(root = ROOT) {
  const parent = join(root, 'packages');
  return readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(parent, e.name, 'package.json')))
    .map((e) => join(parent, e.name))
    .sort();
}

/** Problems with a manifest's publishing fields (empty when it is fine). */
export function checkManifest(pkg, dir) {
  const problems = [];
  if (pkg.private) problems.push('"private": true (packages/* are published)');
  if (pkg.type !== 'module') problems.push('"type" must be "module" (ESM-only)');
  const dot = pkg.exports?.['.'];
  if (!dot || typeof dot !== 'object') problems.push('"exports" needs a "." entry with conditions');
  else {
    const keys = Object.keys(dot);
    if (keys[0] !== 'types') problems.push(`"exports"."." must list "types" first (found: ${keys.join(', ')})`);
    if (!dot.import && !dot.default) problems.push('"exports"."." needs "import" or "default"');
  }
  if (!Array.isArray(pkg.files) || pkg.files.length === 0) problems.push('"files" must list what is published');
  if (pkg.sideEffects !== false) problems.push('"sideEffects" must be false');
  if (!pkg.engines?.node) problems.push('"engines.node" is missing');
  if (!pkg.license) problems.push('"license" is missing');
  if (!existsSync(join(dir, 'README.md'))) problems.push('README.md is missing');
  return problems;
}

function run(tool, args, cwd) {
  const r = spawnSync(join(BIN, tool), args, { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function main() {
  let failed = 0;
  const packages = listPackages();
  for (const dir of packages) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const name = pkg.name ?? relative(ROOT, dir);
    const problems = checkManifest(pkg, dir);
    const publint = run('publint', ['--strict'], dir);
    if (!publint.ok) problems.push(`publint:\n${publint.output.trim()}`);
    const attw = run('attw', ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'], dir);
    if (!attw.ok) problems.push(`attw:\n${attw.output.trim()}`);
    if (problems.length === 0) console.log(`ok    ${name}`);
    else {
      failed++;
      console.log(`FAIL  ${name}`);
      for (const p of problems) console.log(`  - ${p}`);
    }
  }
  console.log(`lint:packages: ${packages.length - failed} of ${packages.length} packages publishable`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
