import type { CellOutcome } from "@isolsim/sweep";
import type { CellTask } from "./cell.js";
import { CellPool } from "./pool.js";

/** One cell to run: its number, what it runs and its input hash. */
export interface CellJob {
  /** The cell's number. */
  cell: number;
  /** What it runs. */
  task: CellTask;
  /** Its input hash. */
  hash: string;
}

/** Runs cells somewhere (a local thread pool, or workers behind a queue) and reports each outcome as it arrives. */
export interface CellRunner {
  /** Runs every job; `onOutcome` is called once per job, in the order they finish. Rejects when the runner cannot go on. */
  runAll(jobs: readonly CellJob[], onOutcome: (job: CellJob, outcome: CellOutcome) => void): Promise<void>;
  /** Releases threads and connections. */
  close(): Promise<void>;
}

/** The local runner: a pool of `threads` worker threads. */
export class PoolRunner implements CellRunner {
  private readonly pool: CellPool;

  /** Starts the threads. */
  constructor(threads: number) {
    this.pool = new CellPool(threads);
  }

  /** Runs every job on the pool. */
  async runAll(jobs: readonly CellJob[], onOutcome: (job: CellJob, outcome: CellOutcome) => void): Promise<void> {
    await Promise.all(jobs.map(async (job) => onOutcome(job, await this.pool.run(job.task))));
  }

  /** Stops the threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
