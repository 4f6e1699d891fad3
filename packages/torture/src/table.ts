import type { TortureResult } from "./torture.js";

const pad = (s: string, n: number, right = false): string => (right ? s.padStart(n) : s.padEnd(n));

/** Simulated time as seconds with ms resolution (`12.345 s`). */
function seconds(ns: number): string {
  return `${(ns / 1e9).toFixed(3)} s`;
}

/**
 * The final table of a torture (text): runs, simulated time and events, then one row per invariant
 * with the runs that checked it, its evaluations and its violations; the failure, if any, after it.
 */
export function formatTortureTable(r: TortureResult): string {
  const lines = [`torture seed ${r.seed}: ${r.runs} run${r.runs === 1 ? "" : "s"}, ${seconds(r.simulatedNs)} simulated, ${r.events} events`, ""];
  const w = Math.max(9, ...r.invariants.map((t) => t.invariant.length));
  lines.push(`${pad("INVARIANT", w)}  ${pad("RUNS", 6, true)}  ${pad("EVALUATIONS", 14, true)}  ${pad("VIOLATIONS", 10, true)}`);
  for (const t of r.invariants) {
    lines.push(`${pad(t.invariant, w)}  ${pad(String(t.runs), 6, true)}  ${pad(String(t.evaluations), 14, true)}  ${pad(String(t.violations), 10, true)}`);
  }
  const f = r.failure;
  if (f) {
    const v = f.report.invariants.violations.find((x) => x.invariant === f.invariant)!;
    lines.push("", `VIOLATED ${f.invariant} in run ${f.run}; shrunk in ${f.kept} step${f.kept === 1 ? "" : "s"} (${f.tried} candidates) to ${f.scenario.kernel.cpus} CPU${f.scenario.kernel.cpus === 1 ? "" : "s"}, ${f.scenario.workload.length} workload item${f.scenario.workload.length === 1 ? "" : "s"}, ${String(f.scenario.duration)}:`);
    lines.push(`  at ${v.time_ns} ns on CPU ${v.cpu}: ${v.detail}`);
  } else lines.push("", "no invariant violated");
  return lines.join("\n") + "\n";
}
