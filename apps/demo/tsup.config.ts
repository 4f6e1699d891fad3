import { defineConfig } from 'tsup';

export default defineConfig({
  // cell-worker is the sweep pool's worker-thread file: threads load built code, never TypeScript.
  entry: { cli: 'src/cli.ts', 'cell-worker': 'src/sweep/cell-worker.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
  sourcemap: false,
});
