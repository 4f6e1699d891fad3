#!/usr/bin/env node
// Generates the tables of docs/reference.md that come from the limits table (STYLE rule 15):
// - between `<!-- params:start -->` and `<!-- params:end -->`: every `kernel.params` name, default,
//   valid range, each preset's overrides, one-line doc and why the range is what it is, from
//   paramCatalogue() of the built @isolsim/core (packages/core/dist);
// - between `<!-- limits:start -->` and `<!-- limits:end -->`: every numeric scenario field
//   (scenarioLimits) and every mechanism option (the `*OptionLimits` export of each mechanism
//   package, packages/*/dist; a package whose description starts with "isolsim mechanism:").
//   node scripts/gen-params-doc.mjs          rewrite docs/reference.md
//   node scripts/gen-params-doc.mjs --check  exit 1 when docs/reference.md is out of date
// Build the packages first: `npm run docs:params` does both.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = join(ROOT, 'packages');
const CORE = join(PACKAGES, 'core', 'dist', 'index.js');
const DOC = join(ROOT, 'docs', 'reference.md');
const PARAMS = ['<!-- params:start -->', '<!-- params:end -->'];
const LIMITS = ['<!-- limits:start -->', '<!-- limits:end -->'];

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const snake = (name) => name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const cell = (s) => String(s).replace(/\|/g, '\\|');
const num = (v) => (typeof v === 'number' && Math.abs(v) >= 10000 ? v.toLocaleString('en-US').replace(/,/g, '_') : String(v));

/** The markdown table of every parameter, with one column per preset's overrides. */
export function paramsTable(core) {
  const presets = Object.values(core.presets ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  const head = ['name', 'default', 'valid', ...presets.map((p) => `\`${p.name}\``), 'what it is', 'why this range'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const p of core.paramCatalogue()) {
    const key = camel(p.name);
    const perPreset = presets.map((pr) => (key in pr.params ? `\`${num(pr.params[key])}\`` : '—'));
    lines.push(`| \`${p.name}\` | \`${num(p.default)}\` | ${cell(p.valid)} | ${perPreset.join(' | ')}${presets.length ? ' | ' : ''}${cell(p.doc)} | ${cell(p.why)} |`);
  }
  return lines.join('\n');
}

/** What is valid under a limit, with durations shown in units as scenario files may write them. */
function valid(core, limit, duration) {
  if (duration && limit.type === 'integer' && limit.unit === 'ns') return `a duration from \`${core.formatNs(limit.min)}\` to \`${core.formatNs(limit.max)}\``;
  return core.describeLimit(limit);
}

/** The markdown tables of the scenario fields' and the mechanism options' limits. */
export function limitsTable(core, mechanisms) {
  const lines = ['| field | valid | why |', '| --- | --- | --- |'];
  for (const [path, limit] of Object.entries(core.scenarioLimits)) {
    const what = path === 'workload' ? `at most ${limit.max} items` : valid(core, limit, true);
    lines.push(`| \`${path}\` | ${cell(what)} | ${cell(limit.why)} |`);
  }
  lines.push('', '| mechanism | option | valid | why |', '| --- | --- | --- | --- |');
  for (const { name, options } of mechanisms) {
    const entries = Object.entries(options ?? {});
    if (entries.length === 0) lines.push(`| ${name} | none | — | — |`);
    for (const [key, limit] of entries) lines.push(`| ${name} | \`${snake(key)}\` | ${cell(valid(core, limit, false))} | ${cell(limit.why)} |`);
  }
  return lines.join('\n');
}

/** The mechanism packages (by directory name) and their option tables, from their built dist. */
async function mechanismOptions() {
  const out = [];
  for (const dir of readdirSync(PACKAGES).sort()) {
    const pkg = join(PACKAGES, dir, 'package.json');
    if (!existsSync(pkg) || !String(JSON.parse(readFileSync(pkg, 'utf8')).description ?? '').startsWith('isolsim mechanism:')) continue;
    const dist = join(PACKAGES, dir, 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: build the mechanism packages first (npm run docs:params)`);
    const mod = await import(pathToFileURL(dist).href);
    const found = Object.entries(mod).filter(([k]) => k.endsWith('OptionLimits'));
    out.push({ name: dir, options: found.length ? found[0][1] : {} });
  }
  return out;
}

/** `doc` with the text between `markers` replaced by `table`. */
export function withTable(doc, table, [start, end] = PARAMS) {
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/reference.md lacks the ${start} ... ${end} markers`);
  return `${doc.slice(0, a + start.length)}\n${table}\n${doc.slice(b)}`;
}

async function main() {
  if (!existsSync(CORE)) throw new Error(`${CORE} is missing: build @isolsim/core first (npm run docs:params)`);
  const core = await import(pathToFileURL(CORE).href);
  const doc = readFileSync(DOC, 'utf8');
  const next = withTable(withTable(doc, paramsTable(core), PARAMS), limitsTable(core, await mechanismOptions()), LIMITS);
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('gen-params-doc: docs/reference.md is out of date with the limits table: run npm run docs:params');
      process.exitCode = 1;
    } else console.log('gen-params-doc: docs/reference.md is up to date');
    return;
  }
  if (next !== doc) writeFileSync(DOC, next);
  console.log(`gen-params-doc: ${core.paramCatalogue().length} parameters and ${Object.keys(core.scenarioLimits).length} scenario limits written to docs/reference.md`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`gen-params-doc: ${error.message}`);
    process.exitCode = 1;
  });
}
