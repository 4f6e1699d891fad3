import { accessSync, constants, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { availableParallelism } from "node:os";
import cliProgress from "cli-progress";
import { cellResult, formatResults, formatSummary, plotSpec, summarize, sweepExit } from "@isolsim/sweep";
import type { CellResult } from "@isolsim/sweep";
import { progressAllowed } from "../progress.js";
import { safeMessage, show } from "../show.js";
import { cellLabel, prepareSweep } from "../sweep/prepare.js";
import { RedisUnavailable, parseRedisUrl } from "../sweep/redis-url.js";
import { ResultsFile } from "../sweep/results-file.js";
import { PoolRunner } from "../sweep/runner.js";
import type { CellJob, CellRunner } from "../sweep/runner.js";
import { Exit } from "../exit.js";
import { UsageError } from "./command.js";
import type { CliIo, Command } from "./command.js";
import { sameFile } from "./common.js";

/** Most worker threads `--workers` and `--concurrency` accept. */
export const MAX_WORKERS = 256;

/** Parses a thread count option (`--workers`, `--concurrency`): an integer 1-{@link MAX_WORKERS}. */
export function parseThreads(option: string, s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > MAX_WORKERS) throw new UsageError(`${option}: ${show(s)} is not valid (valid: an integer 1-${MAX_WORKERS})`);
  return n;
}

/** The progress bar of a sweep on a terminal: cells done of all, failed, ETA. */
class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null;

  constructor(io: CliIo, enabled: boolean, total: number, done: number) {
    this.bar = enabled
      ? new cliProgress.SingleBar(
          { stream: io.stderr as unknown as NodeJS.WritableStream, format: "sweep [{bar}] {value}/{total} cells | {failed} failed | ETA {eta_formatted}", hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, done, { failed: 0 });
  }

  update(done: number, failed: number): void {
    this.bar?.update(done, { failed });
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** Renders a Vega-Lite spec to SVG in Node (vega's headless renderer, no browser or canvas). */
async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** `isolsim sweep SWEEP`: every cell of the sweep on a local thread pool or a BullMQ queue; results lines, tables and a plot. */
export const sweepCommand: Command = {
  options: {
    workers: { type: "string" },
    out: { type: "string" },
    queue: { type: "string" },
    plot: { type: "string" },
    rows: { type: "string" },
    cols: { type: "string" },
    json: { type: "boolean" },
  },
  positionals: { min: 1, max: 1, usage: "SWEEP, a sweep .json file" },
  async run({ positionals, values: v, io, registry }) {
    const file = positionals[0]!;
    const workers = typeof v.workers === "string" ? parseThreads("--workers", v.workers) : Math.min(availableParallelism(), MAX_WORKERS);
    const target = typeof v.queue === "string" ? parseRedisUrl(v.queue) : null;
    if (typeof target === "string") throw new UsageError(`--queue: ${target}`);
    if (target && v.workers !== undefined) throw new UsageError("--workers: not used with --queue (valid: one of them; start `isolsim worker URL --concurrency N` on each machine instead)");
    for (const opt of ["out", "plot"] as const) {
      const path = v[opt];
      if (typeof path === "string" && sameFile(file, path)) throw new UsageError(`--${opt}: ${show(path)} is the sweep file itself (valid: another path)`);
    }
    if (typeof v.plot === "string") {
      if (!v.plot.endsWith(".svg")) throw new UsageError(`--plot: ${show(v.plot)} is not valid (valid: a file name ending in .svg)`);
      try {
        accessSync(dirname(resolve(v.plot)), constants.W_OK);
      } catch (e) {
        throw new UsageError(`--plot: cannot write ${show(v.plot)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a file in a writable directory)`);
      }
    }
    const prepared = prepareSweep(file, registry);
    const paths = prepared.sweep.matrix.map((a) => a.path);
    for (const opt of ["rows", "cols"] as const) {
      const p = v[opt];
      if (typeof p === "string" && !paths.includes(p)) throw new UsageError(`--${opt}: ${show(p)} is not a matrix key of the sweep (valid: ${paths.join(", ") || "none: the matrix is empty"})`);
    }
    if (typeof v.rows === "string" && v.rows === v.cols) throw new UsageError(`--cols: ${show(v.cols)} is also --rows (valid: another matrix key)`);

    const results = new Map<number, CellResult>();
    const out = typeof v.out === "string" ? new ResultsFile(v.out, prepared) : null;
    if (out) {
      try {
        out.open();
      } catch (e) {
        throw new UsageError(`--out: cannot write ${show(v.out)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a writable file path)`);
      }
      for (const [cell, r] of out.recorded) results.set(cell, r);
    }
    const jobs: CellJob[] = prepared.cells.filter((c) => !results.has(c.cell)).map((c) => ({ cell: c.cell, task: prepared.tasks[c.cell]!, hash: prepared.hashes[c.cell]! }));
    if (results.size > 0) io.stderr.write(`isolsim sweep: ${results.size} of ${prepared.cells.length} cells already in ${safeMessage(String(v.out))}; running ${jobs.length}\n`);
    const progress = new SweepProgress(io, progressAllowed(io.stderr, false) && jobs.length > 0, prepared.cells.length, results.size);
    let failed = 0;
    // Nothing left to run (a complete results file): no thread is started, no queue reached.
    const runner: CellRunner | null = jobs.length === 0 ? null : target ? new (await import("../sweep/queue.js")).QueueRunner(target) : new PoolRunner(Math.min(workers, jobs.length));
    try {
      await runner?.runAll(jobs, (job, outcome) => {
        if (results.has(job.cell)) return;
        const r = cellResult(prepared.cells[job.cell]!, job.hash, outcome);
        results.set(job.cell, r);
        out?.append(r);
        if (r.exit === 3) failed++;
        progress.update(results.size, failed);
      });
    } catch (e) {
      progress.stop();
      out?.close();
      if (e instanceof RedisUnavailable) {
        const saved = out ? `; the ${results.size} results so far are in ${safeMessage(String(v.out))}: rerun the same command to resume` : "";
        io.stderr.write(`isolsim sweep: --queue: ${safeMessage(e.message)}${saved} (valid: a reachable Redis, e.g. docker run -p 6379:6379 redis)\n`);
        return Exit.badInput;
      }
      throw e;
    } finally {
      progress.stop();
      await runner?.close();
    }
    out?.finish(results.values());

    const all = [...results.values()].sort((a, b) => a.cell - b.cell);
    for (const r of all) {
      if (r.exit === 1) io.stderr.write(`isolsim sweep: ${cellLabel(prepared.cells[r.cell]!)}: exit 1, invariants violated: ${Object.entries(r.violations ?? {}).map(([k, n]) => `${k} ×${n}`).join(", ")}\n`);
    }
    const failures = all.filter((r) => r.exit === 3);
    if (failures.length) {
      io.stderr.write(`isolsim sweep: ${failures.length} of ${all.length} cells failed (exit 3, a bug of isolsim; rerun to retry them):\n`);
      for (const r of failures) io.stderr.write(`  ${cellLabel(prepared.cells[r.cell]!)}: ${safeMessage(r.error ?? "")}\n`);
    }
    const tables = summarize(prepared.sweep, all, typeof v.rows === "string" ? v.rows : undefined, typeof v.cols === "string" ? v.cols : undefined);
    if (v.json === true) io.stdout.write(formatResults(all));
    else {
      io.stdout.write(`sweep ${prepared.sweep.name}: ${all.length} cells, ${all.filter((r) => r.exit === 1).length} violated an invariant, ${failures.length} failed\n`);
      if (tables.length) io.stdout.write(`\n${formatSummary(tables)}`);
    }
    if (typeof v.plot === "string") {
      const svg = await renderSvg(plotSpec(tables, `isolsim sweep ${prepared.sweep.name}`));
      try {
        writeFileSync(v.plot, svg);
      } catch (e) {
        throw new UsageError(`--plot: cannot write ${show(v.plot)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a writable file path)`);
      }
    }
    return sweepExit(all);
  },
};
