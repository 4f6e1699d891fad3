import type { Metric, MetricAggregate } from "./metrics.js";
import { aggregate } from "./metrics.js";
import type { CellResult } from "./results.js";
import type { JsonValue, MatrixAxis, SweepSpec } from "./sweep-file.js";
import { canonicalJson, valueLabel } from "./sweep-file.js";

/** One metric over two matrix axes, the other axes folded. */
export interface SummaryTable {
  /** The metric. */
  metric: Metric;
  /** The axis of the rows (null when the matrix has no axis). */
  rows: MatrixAxis | null;
  /** The axis of the columns (null when the matrix has fewer than two axes). */
  cols: MatrixAxis | null;
  /** The other axes, folded into each table cell with {@link SummaryTable.fold}. */
  folded: MatrixAxis[];
  /** How the other axes are folded: `max` for a max metric, `min` for a min metric, else `mean`. */
  fold: MetricAggregate;
  /** values[row][col]: the folded metric of the cells that ran (exit 0 or 1); null when none did. */
  values: (number | null)[][];
}

/** How a metric's values are folded over the axes a table does not show. */
export function foldOf(metric: Metric): MetricAggregate {
  return metric.agg === "max" || metric.agg === "min" ? metric.agg : "mean";
}

const indexOfValue = (axis: MatrixAxis, v: JsonValue): number => {
  const key = canonicalJson(v);
  return axis.values.findIndex((x) => canonicalJson(x) === key);
};

/**
 * A table per metric of the sweep: rows from the axis `rowPath`, columns from `colPath`
 * (default: the first two axes as written), each table cell the metric folded (see
 * {@link foldOf}) over the cells that share that row and column value and ran (exit 0 or 1).
 */
export function summarize(sweep: Pick<SweepSpec, "matrix" | "metrics">, results: Iterable<CellResult>, rowPath?: string, colPath?: string): SummaryTable[] {
  const byPath = (p: string | undefined, fallback: number): MatrixAxis | null =>
    p !== undefined ? (sweep.matrix.find((a) => a.path === p) ?? null) : (sweep.matrix[fallback] ?? null);
  const rows = byPath(rowPath, 0);
  const cols = byPath(colPath, rowPath === undefined ? 1 : sweep.matrix.findIndex((a) => a !== rows));
  const folded = sweep.matrix.filter((a) => a !== rows && a !== cols);
  const ran = [...results].filter((r) => r.exit !== 3);
  return sweep.metrics.map((metric) => {
    const nr = rows ? rows.values.length : 1;
    const nc = cols ? cols.values.length : 1;
    const buckets: number[][][] = Array.from({ length: nr }, () => Array.from({ length: nc }, () => []));
    for (const r of ran) {
      const v = r.metrics[metric.name];
      if (typeof v !== "number") continue;
      const i = rows ? indexOfValue(rows, r.params[rows.path]!) : 0;
      const j = cols ? indexOfValue(cols, r.params[cols.path]!) : 0;
      if (i >= 0 && j >= 0) buckets[i]![j]!.push(v);
    }
    const fold = foldOf(metric);
    return { metric, rows, cols, folded, fold, values: buckets.map((row) => row.map((b) => aggregate(fold, b))) };
  });
}

/** A number for a table: an integer as it is, else six significant digits at most. */
export function formatValue(v: number | null): string {
  if (v === null) return "-";
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** The title line of a table: the metric, the axes and what is folded over. */
export function tableTitle(t: SummaryTable): string {
  const axes = [t.rows ? `rows ${t.rows.path}` : null, t.cols ? `columns ${t.cols.path}` : null].filter((x) => x !== null).join(", ");
  const folded = t.folded.length ? `; ${t.fold} over ${t.folded.map((a) => `${a.path} (${a.values.length} value${a.values.length === 1 ? "" : "s"})`).join(", ")}` : "";
  return `${t.metric.name} (${t.metric.agg} of ${t.metric.key} over isolated CPUs${axes ? `; ${axes}` : ""}${folded})`;
}

/** The tables as text: a title line, a header of column values, a line per row value, right-aligned. */
export function formatSummary(tables: readonly SummaryTable[]): string {
  return tables
    .map((t) => {
      const head = [t.rows?.path ?? "", ...(t.cols ? t.cols.values.map(valueLabel) : ["value"])];
      const body = t.values.map((row, i) => [t.rows ? valueLabel(t.rows.values[i]!) : "all", ...row.map(formatValue)]);
      const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j]!.length)));
      const line = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ").trimEnd();
      return `${tableTitle(t)}\n${line(head)}\n${body.map(line).join("\n")}\n`;
    })
    .join("\n");
}

/**
 * A Vega-Lite spec (plain data: render it with vega-lite + vega) drawing each table: the metric
 * against the rows' axis, one series per value of the columns' axis, one panel per metric (two
 * panels a row). A
 * numeric axis whose values span 16× or more is drawn on a log scale.
 */
export function plotSpec(tables: readonly SummaryTable[], title: string): Record<string, unknown> {
  const panels = tables.map((t) => {
    const rows = t.rows;
    const numeric = rows !== null && rows.values.every((v) => typeof v === "number");
    const nums = numeric ? (rows.values as number[]) : [];
    const log = numeric && nums.every((v) => v > 0) && Math.max(...nums) / Math.min(...nums) >= 16;
    const values = t.values.flatMap((row, i) =>
      row.flatMap((y, j) => (y === null ? [] : [{ x: rows ? (numeric ? rows.values[i] : valueLabel(rows.values[i]!)) : "all", series: t.cols ? valueLabel(t.cols.values[j]!) : t.metric.name, y }])),
    );
    const folded = t.folded.length ? `; ${t.fold} over ${t.folded.map((a) => a.path).join(", ")}` : "";
    return {
      title: { text: t.metric.name, subtitle: `${t.metric.agg} of ${t.metric.key} over isolated CPUs${folded}`, anchor: "start" },
      width: 360,
      height: 200,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: numeric
          ? { field: "x", type: "quantitative", title: rows!.path, scale: log ? { type: "log" } : {}, axis: { values: nums } }
          : { field: "x", type: "ordinal", title: rows?.path ?? "", sort: rows ? rows.values.map(valueLabel) : null },
        y: { field: "y", type: "quantitative", title: t.metric.key, scale: { zero: false } },
        color: { field: "series", type: "nominal", title: t.cols?.path ?? "metric", sort: t.cols ? t.cols.values.map(valueLabel) : null, legend: { orient: "bottom", direction: "vertical", labelLimit: 640 } },
      },
    };
  });
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title, concat: panels, columns: 2, config: { font: "sans-serif" } };
}
