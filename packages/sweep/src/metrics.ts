import { interruptionKeys, tickKeptByKeys } from "@isolsim/core";
import type { CpuReport, Report } from "@isolsim/core";

/** How a metric folds the isolated CPUs' values into one number. */
export const metricAggregates = ["max", "min", "mean", "p50", "p99", "sum"] as const;

/** One aggregate of {@link metricAggregates}. */
export type MetricAggregate = (typeof metricAggregates)[number];

/** The per-CPU report keys a metric may read (dotted paths into `cpus[]` of the report). */
export const metricKeys: readonly string[] = [
  "noise_ns",
  "max_single_noise_ns",
  "available_pct",
  ...interruptionKeys.map((k) => `interruptions.${k}`),
  "tick.stopped_pct",
  "tick.stops",
  "tick.restarts",
  ...tickKeptByKeys.map((k) => `tick.kept_by.${k}`),
];

/** A metric of the sweep file: `agg:key` over the isolated CPUs of each cell's report. */
export interface Metric {
  /** The metric as written (`max:max_single_noise_ns`): its name in results and tables. */
  name: string;
  /** The aggregate. */
  agg: MetricAggregate;
  /** The per-CPU key, one of {@link metricKeys}. */
  key: string;
}

/** Parses `agg:key`; returns the problem (naming what is valid) when it is not a metric. */
export function parseMetric(s: string): Metric | string {
  const i = s.indexOf(":");
  const agg = i < 0 ? "" : s.slice(0, i);
  const key = i < 0 ? s : s.slice(i + 1);
  if (!(metricAggregates as readonly string[]).includes(agg)) {
    return `${JSON.stringify(s)} has ${i < 0 ? "no aggregate" : `aggregate ${JSON.stringify(agg)}`} (valid: "agg:key" with agg one of ${metricAggregates.join(", ")})`;
  }
  if (!metricKeys.includes(key)) {
    return `${JSON.stringify(s)} reads ${JSON.stringify(key)}, not a per-CPU report key (valid: ${metricKeys.join(", ")})`;
  }
  return { name: s, agg: agg as MetricAggregate, key };
}

/** The value of a dotted per-CPU key in one CPU's report. */
function cpuValue(cpu: CpuReport, key: string): number {
  let v: unknown = cpu;
  for (const seg of key.split(".")) v = (v as Record<string, unknown>)[seg];
  return typeof v === "number" ? v : Number.NaN;
}

/**
 * Folds values with an aggregate; null for no values. `p50`/`p99` are nearest-rank
 * percentiles (the smallest value with at least that share of values at or below it).
 */
export function aggregate(agg: MetricAggregate, values: readonly number[]): number | null {
  if (values.length === 0) return null;
  switch (agg) {
    case "max":
      return values.reduce((a, b) => (b > a ? b : a));
    case "min":
      return values.reduce((a, b) => (b < a ? b : a));
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "mean":
      return values.reduce((a, b) => a + b, 0) / values.length;
    case "p50":
    case "p99": {
      const sorted = [...values].sort((a, b) => a - b);
      const p = agg === "p50" ? 50 : 99;
      return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
    }
  }
}

/** Each metric of one report, over its isolated CPUs (null when the machine has none). */
export function metricsOf(report: Pick<Report, "cpus">, metrics: readonly Metric[]): Record<string, number | null> {
  const isolated = report.cpus.filter((c) => c.isolated);
  const out: Record<string, number | null> = {};
  for (const m of metrics) out[m.name] = aggregate(m.agg, isolated.map((c) => cpuValue(c, m.key)));
  return out;
}
