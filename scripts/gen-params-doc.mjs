#!/usr/bin/env node
// Generates the parameter table of docs/reference.md from the built @isolsim/core
// (packages/core/dist): paramCatalogue() gives every `kernel.params` name, default, minimum and
// one-line doc; each preset's overrides are added as columns. The table replaces the text between
// the `<!-- params:start -->` and `<!-- params:end -->` markers.
//   node scripts/gen-params-doc.mjs          rewrite docs/reference.md
//   node scripts/gen-params-doc.mjs --check  exit 1 when docs/reference.md is out of date
// Build core first: `npm run docs:params` does both.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CORE = join(ROOT, 'packages', 'core', 'dist', 'index.js');
const DOC = join(ROOT, 'docs', 'reference.md');
const START = '<!-- params:start -->';
const END = '<!-- params:end -->';

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const cell = (s) => String(s).replace(/\|/g, '\\|');
const num = (v) => (typeof v === 'number' && Math.abs(v) >= 10000 ? v.toLocaleString('en-US').replace(/,/g, '_') : String(v));

/** The markdown table of every parameter, with one column per preset's overrides. */
export function paramsTable(core) {
  const presets = Object.values(core.presets ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  const head = ['name', 'default', 'min', ...presets.map((p) => `\`${p.name}\``), 'what it is'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const p of core.paramCatalogue()) {
    const key = camel(p.name);
    const perPreset = presets.map((pr) => (key in pr.params ? `\`${num(pr.params[key])}\`` : '—'));
    lines.push(`| \`${p.name}\` | \`${num(p.default)}\` | ${p.min ?? '—'} | ${perPreset.join(' | ')}${presets.length ? ' | ' : ''}${cell(p.doc)} |`);
  }
  return lines.join('\n');
}

/** `doc` with the text between the markers replaced by `table`. */
export function withTable(doc, table) {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/reference.md lacks the ${START} ... ${END} markers`);
  return `${doc.slice(0, a + START.length)}\n${table}\n${doc.slice(b)}`;
}

async function main() {
  if (!existsSync(CORE)) throw new Error(`${CORE} is missing: build @isolsim/core first (npm run docs:params)`);
  const core = await import(pathToFileURL(CORE).href);
  const doc = readFileSync(DOC, 'utf8');
  const next = withTable(doc, paramsTable(core));
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('gen-params-doc: docs/reference.md is out of date with paramCatalogue(): run npm run docs:params');
      process.exitCode = 1;
    } else console.log('gen-params-doc: docs/reference.md is up to date');
    return;
  }
  if (next !== doc) writeFileSync(DOC, next);
  console.log(`gen-params-doc: ${core.paramCatalogue().length} parameters written to docs/reference.md`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`gen-params-doc: ${error.message}`);
    process.exitCode = 1;
  });
}
