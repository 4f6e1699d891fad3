import type { JsonValue, SweepCell } from "./sweep-file.js";

/** The exit code of one cell, as `isolsim run` gives it: 0 clean, 1 an invariant violated, 3 a bug of isolsim. */
export type CellExit = 0 | 1 | 3;

/** What running one cell gave (computed in a worker thread or a queue worker). */
export interface CellOutcome {
  /** The report's `digest`; null when the run failed (exit 3). */
  digest: string | null;
  /** The exit code `isolsim run` gives the cell's scenario. */
  exit: CellExit;
  /** Each metric of the sweep, by name (empty when the run failed). */
  metrics: Record<string, number | null>;
  /** Exit 1: violations by invariant id (how many of each). */
  violations?: Record<string, number>;
  /** Exit 3: the error, one line. */
  error?: string;
}

/** One line of the results file (contract: "Sweep file", results). */
export interface CellResult extends CellOutcome {
  /** The cell's number. */
  cell: number;
  /** The value of each matrix path. */
  params: Record<string, JsonValue>;
  /** Hash of the cell's inputs (its scenario, the metrics and the isolsim version): a rerun skips a cell recorded with the same hash. */
  hash: string;
}

/** One results line (no newline), keys in a fixed order so equal results give equal bytes. */
export function formatResultLine(r: CellResult): string {
  const o: Record<string, unknown> = { cell: r.cell, params: r.params, hash: r.hash, digest: r.digest, exit: r.exit, metrics: r.metrics };
  if (r.violations !== undefined) o.violations = r.violations;
  if (r.error !== undefined) o.error = r.error;
  return JSON.stringify(o);
}

/** Builds the result of a cell from what running it gave. */
export function cellResult(cell: SweepCell, hash: string, outcome: CellOutcome): CellResult {
  const r: CellResult = { cell: cell.cell, params: cell.params, hash, digest: outcome.digest, exit: outcome.exit, metrics: outcome.metrics };
  if (outcome.violations !== undefined && Object.keys(outcome.violations).length > 0) r.violations = outcome.violations;
  if (outcome.error !== undefined) r.error = outcome.error;
  return r;
}

/**
 * The results already recorded for this sweep in a results file's text: lines of a cell of the
 * sweep with the same input hash that ran (exit 0 or 1). Failed cells (exit 3), other sweeps'
 * lines, lines of changed inputs and unreadable lines (a line cut by a crash) are not kept, so
 * those cells run again.
 */
export function recordedResults(text: string, cells: readonly SweepCell[], hashes: readonly string[]): Map<number, CellResult> {
  const done = new Map<number, CellResult>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r === null || typeof r !== "object") continue;
    const { cell, hash, exit } = r as Partial<CellResult>;
    if (typeof cell !== "number" || !Number.isInteger(cell) || cell < 0 || cell >= cells.length) continue;
    if (hash !== hashes[cell] || (exit !== 0 && exit !== 1)) continue;
    const x = r as CellResult;
    // The line is rewritten from its own fields with the current cell's params, so the final file is canonical.
    done.set(cell, cellResult(cells[cell]!, hashes[cell]!, { digest: x.digest, exit: x.exit, metrics: x.metrics ?? {}, ...(x.violations ? { violations: x.violations } : {}) }));
  }
  return done;
}

/** The final results file: one line per result, sorted by `cell`. */
export function formatResults(results: Iterable<CellResult>): string {
  return [...results]
    .sort((a, b) => a.cell - b.cell)
    .map((r) => `${formatResultLine(r)}\n`)
    .join("");
}

/** The sweep's exit code: 3 when a cell failed, else 1 when a cell violated an invariant, else 0. */
export function sweepExit(results: Iterable<CellResult>): CellExit {
  let exit: CellExit = 0;
  for (const r of results) {
    if (r.exit === 3) return 3;
    if (r.exit === 1) exit = 1;
  }
  return exit;
}
