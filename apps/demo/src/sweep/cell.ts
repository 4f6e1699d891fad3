import { simulate } from "@isolsim/core";
import { metricsOf, parseMetric } from "@isolsim/sweep";
import type { CellOutcome, Metric } from "@isolsim/sweep";
import { exitCodeOf } from "../exit.js";
import { registry } from "../registry.js";
import { scenarioFromObject } from "../scenario-file.js";

/** What a pool thread or a queue worker is given to run one cell. */
export interface CellTask {
  /** The cell's scenario object (snake_case, as in a scenario file; its `name` set). */
  scenario: Record<string, unknown>;
  /** The sweep's metrics as written (`max:max_single_noise_ns`). */
  metrics: string[];
}

/** Turns an error into one line: its name and message, without the stack. */
export function errorLine(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return s.replace(/\s*\n\s*/g, " ").slice(0, 500);
}

/**
 * Runs one cell exactly as `isolsim run` runs a scenario file holding `task.scenario` (same
 * validation, registry, simulate(), report and exit code) and reads its metrics. An error is
 * exit 3 with the error's line: the cell was validated before the sweep started, so any error
 * here is a bug of isolsim.
 */
export function runCell(task: CellTask): CellOutcome {
  try {
    const spec = scenarioFromObject(task.scenario, { registry, name: String(task.scenario.name ?? "scenario") });
    const { report } = simulate(spec, { registry });
    const metrics = task.metrics.map((m) => parseMetric(m)).filter((m): m is Metric => typeof m !== "string");
    const exit = exitCodeOf([report]);
    const outcome: CellOutcome = { digest: report.digest, exit, metrics: metricsOf(report, metrics) };
    if (exit === 1) {
      const violations: Record<string, number> = {};
      for (const v of report.invariants.violations) violations[v.invariant] = (violations[v.invariant] ?? 0) + 1;
      outcome.violations = violations;
    }
    return outcome;
  } catch (e) {
    return { digest: null, exit: 3, metrics: {}, error: errorLine(e) };
  }
}
