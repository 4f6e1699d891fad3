#!/usr/bin/env node
// `npm run explorer` (after the build): serves apps/explorer/dist with vite's preview server on
// 127.0.0.1 and prints the URL. PORT=N picks the port (default 4173; the next free one if taken).
// dist/ is static: any static file server works as well (`base: './'`, the worker is bundled).
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'index.html'))) {
  console.error('explorer: apps/explorer/dist is not built (run `npm run explorer` or `npm run build` from the repository root)');
  process.exit(2);
}
const server = await preview({
  root,
  configFile: join(root, 'vite.config.ts'),
  preview: { host: '127.0.0.1', port: Number(process.env.PORT ?? 4173), open: false },
});
const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${server.config.preview.port}/`;
console.log(`isolsim explorer: ${url}  (Ctrl-C stops it)`);
