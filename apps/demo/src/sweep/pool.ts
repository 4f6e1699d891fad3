import Tinypool from "tinypool";
import type { CellOutcome } from "@isolsim/sweep";
import { CELL_WORKER_URL } from "../worker-url.js";
import type { CellTask } from "./cell.js";

/** A pool of worker threads running cells (tinypool); each thread loads the built dist/cell-worker.js. */
export class CellPool {
  private readonly pool: Tinypool;

  /** Starts `threads` worker threads. */
  constructor(readonly threads: number) {
    this.pool = new Tinypool({ filename: CELL_WORKER_URL.href, minThreads: threads, maxThreads: threads, isolateWorkers: false });
  }

  /** Runs one cell on a free thread. */
  run(task: CellTask): Promise<CellOutcome> {
    return this.pool.run(task) as Promise<CellOutcome>;
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
