import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { formatResultLine, formatResults, recordedResults } from "@isolsim/sweep";
import type { CellResult } from "@isolsim/sweep";
import type { PreparedSweep } from "./prepare.js";

/**
 * The results file of a sweep: results already recorded with the same inputs are kept, new ones
 * are appended a whole line at a time as cells finish (so a crash or a lost Redis leaves a file a
 * rerun resumes from), and at the end the file is rewritten sorted by cell.
 */
export class ResultsFile {
  private fd: number | null = null;

  /** The results a rerun reuses, by cell. */
  readonly recorded: Map<number, CellResult>;

  /** Reads what `path` already records for this sweep (nothing when it does not exist). */
  constructor(
    private readonly path: string,
    prepared: PreparedSweep,
  ) {
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    this.recorded = recordedResults(text, prepared.cells, prepared.hashes);
  }

  /** Rewrites the file with the reusable results only, sorted, then opens it for appending. */
  open(): void {
    this.replace(formatResults(this.recorded.values()));
    this.fd = openSync(this.path, "a");
  }

  /** Appends one result line. */
  append(r: CellResult): void {
    if (this.fd !== null) writeSync(this.fd, `${formatResultLine(r)}\n`);
  }

  /** Closes the file and rewrites it sorted by cell with every result. */
  finish(results: Iterable<CellResult>): void {
    this.close();
    this.replace(formatResults(results));
  }

  /** Closes the file as it is (every line appended so far stays). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private replace(text: string): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
  }
}
