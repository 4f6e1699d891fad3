// The worker-thread entry of the sweep pool (a tsup entry of its own: dist/cell-worker.js).
import { runCell } from "./cell.js";
import type { CellTask } from "./cell.js";
import type { CellOutcome } from "@isolsim/sweep";

/** Runs one cell in a pool thread (tinypool calls the default export). */
export default function run(task: CellTask): CellOutcome {
  return runCell(task);
}
