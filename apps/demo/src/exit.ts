import type { Report } from "@isolsim/core";

/** Exit codes of the contract: ran clean, ran with an invariant violated, bad input, internal error (a bug of isolsim). */
export const Exit = { ok: 0, violated: 1, badInput: 2, internal: 3 } as const;

/** The exit code of runs that finished: 1 when any report has an invariant violation, else 0. */
export function exitCodeOf(reports: readonly Report[]): 0 | 1 {
  return reports.some((r) => r.invariants.violations.length > 0) ? Exit.violated : Exit.ok;
}
