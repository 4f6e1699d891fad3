import type { Report } from "@isolsim/core";
import { sourceHeader } from "./table.js";
import { layoutTable, printable, us } from "./text.js";
import type { Column } from "./text.js";

/** One configuration of a comparison: its name, the mechanisms asked for, and its report. */
export interface ComparisonEntry {
  /** Configuration name (`baseline`, a mechanism name, `all`; `preset/name` across presets). */
  config: string;
  /** The mechanism entries composed on top of the preset's, as given. */
  mechanisms: readonly (
    | string
    | {
        /** Mechanism name. */
        name: string;
        /** Variant, when given. */
        variant?: string;
        /** Options, when given. */
        options?: Record<string, unknown>;
      }
  )[];
  /** The run's report. */
  report: Report;
  /** Name of the configuration it is measured against (its preset's baseline). */
  baseline: string;
}

/** A configuration that was not run, and why (e.g. a composition conflict). */
export interface SkippedConfig {
  /** Configuration name. */
  config: string;
  /** Why it was skipped. */
  reason: string;
}

/** Figures of a report over its isolated CPUs: sums and means per source, noise, max single, availability. */
export interface IsolatedSummary {
  /** Number of isolated CPUs. */
  cpus: number;
  /** Interruptions per source, summed over isolated CPUs. */
  sums: Record<string, number>;
  /** Total noise over isolated CPUs, ns. */
  noiseNs: number;
  /** Largest single noise interval on any isolated CPU, ns. */
  maxSingleNs: number;
  /** Mean available percentage over isolated CPUs. */
  meanAvailablePct: number;
  /** Lowest available percentage of an isolated CPU. */
  minAvailablePct: number;
  /** Invariant violations of the run. */
  violations: number;
}

/** Summarises a report over its isolated CPUs (what `isolsim compare` puts side by side). */
export function summariseIsolated(r: Report): IsolatedSummary {
  const iso = r.cpus.filter((c) => c.isolated);
  const sums: Record<string, number> = {};
  for (const k of Object.keys(r.cpus[0]?.interruptions ?? {})) sums[k] = 0;
  let noise = 0;
  let maxSingle = 0;
  let avail = 0;
  let minAvail = 100;
  for (const c of iso) {
    for (const [k, n] of Object.entries(c.interruptions)) sums[k] = (sums[k] ?? 0) + n;
    noise += c.noise_ns;
    maxSingle = Math.max(maxSingle, c.max_single_noise_ns);
    avail += c.available_pct;
    minAvail = Math.min(minAvail, c.available_pct);
  }
  return {
    cpus: iso.length,
    sums,
    noiseNs: noise,
    maxSingleNs: maxSingle,
    meanAvailablePct: iso.length ? avail / iso.length : 100,
    minAvailablePct: minAvail,
    violations: r.invariants.violations.length,
  };
}

/** A count's change against the baseline: `-9 (-100%)`, `+3 (+50%)`, `=` when equal. */
export function change(value: number, base: number): string {
  if (value === base) return "=";
  const d = value - base;
  const sign = d > 0 ? "+" : "";
  const pct = base === 0 ? "new" : `${sign}${((100 * d) / base).toFixed(0)}%`;
  return `${sign}${d} (${pct})`;
}

const mechLabel = (m: ComparisonEntry["mechanisms"][number]): string =>
  printable(typeof m === "string" ? m : m.variant !== undefined ? `${m.name}(${m.variant})` : m.name);

/** Formats a comparison side by side: one row per configuration, three tables (sums, change vs baseline, means). */
export function formatComparison(entries: readonly ComparisonEntry[], skipped: readonly SkippedConfig[] = [], opts: { description?: string } = {}): string {
  const lines: string[] = [];
  const first = entries[0]?.report;
  if (first) {
    lines.push(
      `compare ${printable(first.scenario)} (seed ${first.seed}): ${first.kernel.cpus} CPUs, nohz_full=${first.kernel.nohz_full || "(none)"}, ` +
        `measured ${first.measured_ns / 1e9} s; figures over isolated CPUs (time in us)`,
    );
    if (opts.description) lines.push(printable(opts.description));
  }
  const keys = Object.keys(first?.cpus[0]?.interruptions ?? {});
  const sums = new Map(entries.map((e) => [e.config, summariseIsolated(e.report)]));
  const head: Column[] = [
    { header: "config" },
    { header: "Noise", right: true },
    { header: "Max Single", right: true },
    { header: "% Aval mean", right: true },
    { header: "% Aval min", right: true },
    { header: "Viol", right: true },
  ];
  lines.push("");
  lines.push("Interruptions summed over isolated CPUs");
  lines.push(
    ...layoutTable(
      [...head, ...keys.map((k) => ({ header: sourceHeader(k), right: true }))],
      entries.map((e) => {
        const s = sums.get(e.config)!;
        return [
          e.config,
          us(s.noiseNs),
          us(s.maxSingleNs),
          s.meanAvailablePct.toFixed(5),
          s.minAvailablePct.toFixed(5),
          String(s.violations),
          ...keys.map((k) => String(s.sums[k] ?? 0)),
        ];
      }),
    ),
  );
  lines.push("");
  lines.push("Change against the baseline (same preset, no added mechanism)");
  lines.push(
    ...layoutTable(
      [{ header: "config" }, { header: "vs" }, { header: "Noise", right: true }, { header: "Max Single", right: true }, ...keys.map((k) => ({ header: sourceHeader(k), right: true }))],
      entries.map((e) => {
        const s = sums.get(e.config)!;
        const b = sums.get(e.baseline) ?? s;
        const pct = (v: number, base: number): string => (v === base ? "=" : base === 0 ? "new" : `${v > base ? "+" : ""}${((100 * (v - base)) / base).toFixed(1)}%`);
        return [e.config, e.baseline, pct(s.noiseNs, b.noiseNs), pct(s.maxSingleNs, b.maxSingleNs), ...keys.map((k) => change(s.sums[k] ?? 0, b.sums[k] ?? 0))];
      }),
    ),
  );
  lines.push("");
  lines.push("Mean per isolated CPU");
  lines.push(
    ...layoutTable(
      [{ header: "config" }, { header: "Noise", right: true }, ...keys.map((k) => ({ header: sourceHeader(k), right: true }))],
      entries.map((e) => {
        const s = sums.get(e.config)!;
        const n = Math.max(1, s.cpus);
        return [e.config, us(s.noiseNs / n), ...keys.map((k) => ((s.sums[k] ?? 0) / n).toFixed(1))];
      }),
    ),
  );
  lines.push(`sources: ${keys.map((k) => `${sourceHeader(k)}=${k}`).join(" ")}`);
  lines.push("");
  for (const e of entries) lines.push(`${e.config}: ${e.report.kernel.preset} + ${e.mechanisms.length ? e.mechanisms.map(mechLabel).join(", ") : "no added mechanism"}`);
  for (const s of skipped) lines.push(`${printable(s.config)}: skipped: ${printable(s.reason)}`);
  const violated = entries.filter((e) => e.report.invariants.violations.length > 0);
  for (const e of violated) {
    const v = e.report.invariants.violations[0]!;
    lines.push(`VIOLATED in ${e.config}: ${e.report.invariants.violations.length} (first: ${v.invariant} at ${(v.time_ns / 1e9).toFixed(9)} s on CPU ${v.cpu}: ${printable(v.detail)})`);
  }
  return lines.join("\n") + "\n";
}
