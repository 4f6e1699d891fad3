import { defineConfig } from "vite";

// Relative base: the built dist/ works from any static file server, at any path.
export default defineConfig({
  base: "./",
  worker: { format: "es" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2048 },
});
