#!/usr/bin/env node
// Root `npm test`: runs every workspace's tests through turbo, then sums the vitest JSON
// reports into one last line `Tests: N passed, N failed` that CI can read. Exits non-zero
// when a test failed, turbo failed, or a workspace with a "test" script wrote no report.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKSPACE_PARENTS = ['packages', 'apps'];
const REPORT = '.vitest-report.json';

/** Workspaces (dir, name, hasTest) under packages/* and apps/*. */
export function listWorkspaces(root = ROOT) {
  const workspaces = [];
  for (const parent of WORKSPACE_PARENTS) {
    const parentDir = join(root, parent);
    if (!existsSync(parentDir)) continue;
    for (const entry of readdirSync(parentDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(parentDir, entry.name);
      const manifest = join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      workspaces.push({ dir, name: pkg.name ?? entry.name, hasTest: Boolean(pkg.scripts?.test) });
    }
  }
  return workspaces.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Sums the vitest JSON reports of the given workspaces; lists the problems found. */
export function sumReports(workspaces, root = ROOT) {
  let passed = 0;
  let failed = 0;
  const problems = [];
  const failures = [];
  for (const ws of workspaces) {
    const file = join(ws.dir, REPORT);
    if (!existsSync(file)) {
      if (ws.hasTest) problems.push(`${ws.name}: no test report (${relative(root, file)})`);
      continue;
    }
    let report;
    try {
      report = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push(`${ws.name}: unreadable test report ${relative(root, file)}: ${error.message}`);
      continue;
    }
    const p = Number(report.numPassedTests ?? 0);
    const f = Number(report.numFailedTests ?? 0);
    passed += p;
    failed += f;
    failures.push(...failuresOf(ws.name, report, root));
    if (Number(report.numFailedTestSuites ?? 0) > 0 && f === 0) {
      problems.push(`${ws.name}: ${report.numFailedTestSuites} test file(s) failed to run`);
    }
  }
  return { passed, failed, problems, failures };
}

/**
 * The failed tests of one vitest JSON report, one line each: workspace, file, test name and the
 * first lines of its message, so a CI log that keeps only its tail still says what failed.
 */
export function failuresOf(name, report, root = ROOT) {
  const lines = [];
  for (const file of report.testResults ?? []) {
    const where = file.name ? relative(root, file.name) : '?';
    const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedTests) {
      const message = (t.failureMessages ?? []).join(' ').split('\n').slice(0, 6).map((l) => l.trim()).filter(Boolean).join(' | ');
      lines.push(`${name} ${where} > ${t.fullName ?? t.title}: ${message.slice(0, 800)}`);
    }
    if (failedTests.length === 0 && file.status === 'failed' && file.message) {
      lines.push(`${name} ${where}: ${String(file.message).split('\n').slice(0, 6).join(' | ').slice(0, 800)}`);
    }
  }
  return lines;
}

function main() {
  const workspaces = listWorkspaces();
  for (const ws of workspaces) rmSync(join(ws.dir, REPORT), { force: true });

  const turbo = join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');
  const run = spawnSync(turbo, ['run', 'test', '--continue', '--concurrency=2'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });

  const { passed, failed, problems, failures } = sumReports(workspaces);
  for (const failure of failures) console.error(`FAILED ${failure}`);
  if (run.error) problems.push(`turbo could not start: ${run.error.message}`);
  else if (run.status !== 0) {
    problems.push(`turbo run test exited with ${run.status ?? `signal ${run.signal}`}`);
  }
  for (const problem of problems) console.error(`test: ${problem}`);
  console.log(`Tests: ${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || problems.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
