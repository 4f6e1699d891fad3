/**
 * The built worker-thread file of the sweep pool. src/ and dist/ both sit one level below the
 * package root, so this resolves to dist/cell-worker.js from the sources (tests) and the bundle
 * alike: a thread always loads the built code, never TypeScript.
 */
export const CELL_WORKER_URL: URL = new URL("../dist/cell-worker.js", import.meta.url);
