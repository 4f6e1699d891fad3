#!/usr/bin/env node
// Root `npm run test:pack`: proves the published tarballs work as a user installs them.
// Packs @isolsim/core and @isolsim/remote-stats with `npm pack` (built first by the npm script),
// installs both tarballs into a fresh directory outside the repository (offline: core has no
// runtime dependencies), extracts the first ```ts block of packages/remote-stats/README.md, and
// runs it there. Each `console.log(...)` of the example whose comment starts with figures
// (`// 0 (linux-4.9 alone: 9, ...)`, `// 63: ...`) must print exactly those figures, so the test
// fails when the README example breaks or its documented output goes stale.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['packages/core', 'packages/remote-stats'];
const README = 'packages/remote-stats/README.md';

/** The first fenced ```ts (or ```js) block of a markdown text. */
export function firstCodeBlock(markdown) {
  const m = /^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```/m.exec(markdown);
  if (!m) throw new Error('no ```ts code block found');
  return m[1];
}

/**
 * For each `console.log(` statement of the example, in order: the figures its trailing comment
 * promises (`// 0 0` → "0 0"), or null when the comment does not start with figures.
 */
export function expectedOutputs(code) {
  const out = [];
  for (const line of code.split('\n')) {
    if (!/^\s*console\.log\(/.test(line)) continue;
    const comment = /\/\/\s*(.*)$/.exec(line)?.[1] ?? '';
    const figures = /^(-?\d+(?:\.\d+)?(?:\s+-?\d+(?:\.\d+)?)*)(?=$|[\s:(,;])/.exec(comment.trim());
    out.push(figures ? figures[1] : null);
  }
  return out;
}

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`);
  }
  return r.stdout;
}

function main() {
  const work = mkdtempSync(join(tmpdir(), 'isolsim-pack-test-'));
  if (!relative(ROOT, work).startsWith('..')) throw new Error(`temp dir ${work} lies inside the repository`);
  try {
    const tarballs = PACKAGES.map((p) => {
      const [info] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, p)));
      const files = info.files.map((f) => f.path);
      if (!files.includes('dist/index.js') || !files.includes('dist/index.d.ts')) {
        throw new Error(`${info.name}: tarball lacks dist/index.js or dist/index.d.ts (run the build first)`);
      }
      if (files.some((f) => f.startsWith('src/'))) throw new Error(`${info.name}: tarball ships src/`);
      console.log(`pack-test: packed ${info.filename} (${files.length} files, ${info.size} bytes)`);
      return join(work, info.filename);
    });

    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module' }, null, 2));
    sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', ...tarballs], work);
    for (const name of ['@isolsim/core', '@isolsim/remote-stats']) {
      const dir = join(work, 'node_modules', name);
      if (!existsSync(dir) || lstatSync(dir).isSymbolicLink()) throw new Error(`${name} is not installed from its tarball in ${work}`);
    }

    const source = firstCodeBlock(readFileSync(join(ROOT, README), 'utf8'));
    const ts = createRequire(import.meta.url)('typescript');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    }).outputText;
    writeFileSync(join(work, 'example.mjs'), js);
    writeFileSync(
      join(work, 'capture.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        "import { format } from 'node:util';",
        'const calls = [];',
        'const log = console.log;',
        'console.log = (...args) => { calls.push(format(...args)); log(...args); };',
        "process.on('exit', () => writeFileSync(new URL('./calls.json', import.meta.url), JSON.stringify(calls)));",
        '',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', './capture.mjs', 'example.mjs'], { cwd: work, encoding: 'utf8' });
    process.stdout.write(run.stdout);
    if (run.status !== 0) throw new Error(`the README example of ${README} failed (exit ${run.status}):\n${run.stderr}`);

    const calls = JSON.parse(readFileSync(join(work, 'calls.json'), 'utf8'));
    const expected = expectedOutputs(source);
    if (calls.length !== expected.length) {
      throw new Error(`the example made ${calls.length} console.log calls, its source has ${expected.length}`);
    }
    let checked = 0;
    expected.forEach((want, i) => {
      if (want === null) return;
      if (calls[i] !== want) throw new Error(`console.log #${i + 1} of ${README} printed "${calls[i]}", its comment says "${want}"`);
      checked++;
    });
    console.log(`pack-test: ok: ${README} example ran from the installed tarballs; ${checked} documented figures match`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    console.error(`pack-test: FAIL: ${error.message}`);
    process.exitCode = 1;
  }
}
