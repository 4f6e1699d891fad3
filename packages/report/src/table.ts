import type { CpuReport, Report } from "@isolsim/core";
import { cpuList, cpuListShort, human, layoutTable, median, printable, us } from "./text.js";
import type { Column } from "./text.js";

/** Short column headers of the interruption sources (report `interruptions` keys). */
export const SOURCE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  tick: "TICK",
  spurious_timer: "SPUR",
  ipi_tlb_flush: "TLB",
  ipi_irq_work: "IRQW",
  ipi_call_function: "CFN",
  ipi_resched: "RES",
  kworker_lru_drain: "LRU",
  kworker_vmstat: "VMST",
  kworker_other: "KWRK",
  kthread: "KTHR",
  rcu: "RCU",
});

/** The short header of a source key (its upper-case name when it has no short one). */
export function sourceHeader(key: string): string {
  return SOURCE_HEADERS[key] ?? key.toUpperCase();
}

/** Options of {@link formatReport}. */
export interface TableOptions {
  /** The scenario's description, printed under its name. */
  description?: string;
  /** List every CPU even on a large machine (default: group identical CPUs, aggregate when many). */
  allCpus?: boolean;
  /** Most rows of the per-CPU table before it groups or aggregates (default 16). */
  maxRows?: number;
  /**
   * Figures to print as `?` (a real trace lacked what they need): `interruptions.KEY` or
   * `noise_ns` for every CPU, `cpus[N].interruptions.KEY` or `cpus[N].noise_ns` for one.
   */
  unknown?: readonly string[];
  /** Replaces the "simulated …, measured …" line (an imported trace says what it measured). */
  timeLine?: string;
  /** Stop after the per-CPU table and its sources line (a caller prints its own tick, housekeeping and kthread lines). */
  tableOnly?: boolean;
}

/** Whether the figure `key` (`interruptions.tick`, `noise_ns`, …) of CPU `cpu` is unknown. */
function isUnknown(unknown: ReadonlySet<string> | undefined, cpu: number, key: string): boolean {
  return unknown !== undefined && (unknown.has(key) || unknown.has(`cpus[${cpu}].${key}`) || (key.startsWith("interruptions.") && unknown.has("interruptions")));
}

const sourceKeys = (r: Report): string[] => Object.keys(r.cpus[0]?.interruptions ?? {});

/** The rtla-style cells of one CPU after its label: Runtime, Noise, % CPU Aval, Max Single, sources. */
function cpuCellsOf(r: Report, c: CpuReport, keys: readonly string[], unknown?: ReadonlySet<string>): string[] {
  const counts = c.interruptions as Record<string, number>;
  const q = (key: string, s: string): string => (isUnknown(unknown, c.cpu, key) ? "?" : s);
  return [
    q("measured_ns", us(r.measured_ns)),
    q("noise_ns", us(c.noise_ns)),
    q("available_pct", c.available_pct.toFixed(5)),
    q("max_single_noise_ns", us(c.max_single_noise_ns)),
    ...keys.map((k) => q(`interruptions.${k}`, String(counts[k] ?? 0))),
  ];
}

/** Aggregated cells (min, median or max of each column independently) over CPUs; a figure unknown for every CPU is `?`. */
function aggregateCells(r: Report, cpus: readonly CpuReport[], keys: readonly string[], pick: (sorted: number[]) => number, unknown?: ReadonlySet<string>): string[] {
  const col = (f: (c: CpuReport) => number): number => pick(cpus.map(f).sort((a, b) => a - b));
  const q = (key: string, s: () => string): string => (unknown?.has(key) ? "?" : s());
  return [
    q("measured_ns", () => us(r.measured_ns)),
    q("noise_ns", () => us(col((c) => c.noise_ns))),
    q("available_pct", () => col((c) => c.available_pct).toFixed(5)),
    q("max_single_noise_ns", () => us(col((c) => c.max_single_noise_ns))),
    ...keys.map((k) => q(`interruptions.${k}`, () => String(col((c) => (c.interruptions as Record<string, number>)[k] ?? 0)))),
  ];
}

/** Groups items with equal keys, in order of first appearance; each group lists its CPUs. */
function groupBy<T>(items: readonly T[], key: (t: T) => string, cpu: (t: T) => number): { key: string; cpus: number[]; first: T }[] {
  const groups = new Map<string, { key: string; cpus: number[]; first: T }>();
  for (const it of items) {
    const k = key(it);
    const g = groups.get(k);
    if (g) g.cpus.push(cpu(it));
    else groups.set(k, { key: k, cpus: [cpu(it)], first: it });
  }
  return [...groups.values()];
}

/** Longest CPU list printed in the CPU column; a longer one gets a `[n] N CPUs` label listed under the table. */
export const MAX_CPU_LABEL = 16;

/** The per-CPU rows: every CPU, or identical CPUs grouped, or isolated CPUs aggregated. */
function cpuRows(r: Report, keys: readonly string[], opts: TableOptions): { rows: string[][]; note: string | null } {
  const max = opts.maxRows ?? 16;
  const unknown = opts.unknown ? new Set(opts.unknown) : undefined;
  const cpuCells = (r: Report, c: CpuReport, keys: readonly string[]): string[] => cpuCellsOf(r, c, keys, unknown);
  const each = (c: CpuReport): string[] => [String(c.cpu), ...cpuCells(r, c, keys)];
  if (opts.allCpus || r.cpus.length <= max) return { rows: r.cpus.map(each), note: null };
  const grouped = (cpus: readonly CpuReport[]): { label: string; list: string; cells: string[] }[] =>
    groupBy(cpus, (c) => `${c.isolated}|${cpuCells(r, c, keys).join("|")}`, (c) => c.cpu).map((g) => ({
      label: g.cpus.length > 1 ? `${g.cpus.length} CPUs` : String(g.cpus[0]),
      list: cpuListShort(g.cpus),
      cells: cpuCells(r, g.first, keys),
    }));
  const all = grouped(r.cpus);
  if (all.length <= max) {
    const legend: string[] = [];
    const rows = all.map((g) => {
      if (g.list.length <= MAX_CPU_LABEL) return [g.list, ...g.cells];
      legend.push(`[${legend.length + 1}] ${g.label}: ${g.list}`);
      return [`[${legend.length}] ${g.label}`, ...g.cells];
    });
    const note = [`CPUs with identical figures share a row; --all-cpus lists every CPU.`, ...legend].join("\n");
    return { rows, note };
  }
  const hk = r.cpus.filter((c) => !c.isolated);
  const iso = r.cpus.filter((c) => c.isolated);
  const rows: string[][] = [];
  const hkRows = grouped(hk);
  if (hkRows.length <= max / 2 && hkRows.every((g) => g.list.length <= MAX_CPU_LABEL)) rows.push(...hkRows.map((g) => [g.list, ...g.cells]));
  else {
    rows.push([`hk min`, ...aggregateCells(r, hk, keys, (s) => s[0]!, unknown)]);
    rows.push([`hk median`, ...aggregateCells(r, hk, keys, median, unknown)]);
    rows.push([`hk max`, ...aggregateCells(r, hk, keys, (s) => s[s.length - 1]!, unknown)]);
  }
  if (iso.length > 0) {
    rows.push([`iso min`, ...aggregateCells(r, iso, keys, (s) => s[0]!, unknown)]);
    rows.push([`iso median`, ...aggregateCells(r, iso, keys, median, unknown)]);
    rows.push([`iso max`, ...aggregateCells(r, iso, keys, (s) => s[s.length - 1]!, unknown)]);
  }
  return {
    rows,
    note: `${r.cpus.length} CPUs: ${iso.length} isolated (${cpuList(iso.map((c) => c.cpu))}) aggregated, each column on its own (min/median/max); --all-cpus lists every CPU.`,
  };
}

/** Why an isolated CPU's tick did not stop, in one line (from `tick`). */
export function tickLine(c: CpuReport): string {
  const kept = Object.entries(c.tick.kept_by)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`);
  const stopped = `tick stopped ${c.tick.stopped_pct}% of the window (${c.tick.stops} stops, ${c.tick.restarts} restarts)`;
  return `${stopped}; ${kept.length ? `ticks kept by ${kept.join(", ")}` : "no tick kept by a dependency"}`;
}

/** The tick lines of isolated CPUs, identical lines grouped, summarised when there are many. */
function tickLines(r: Report, opts: TableOptions): string[] {
  const iso = r.cpus.filter((c) => c.isolated);
  if (iso.length === 0) return ["no isolated CPU (nohz_full is empty)"];
  const groups = groupBy(iso, tickLine, (c) => c.cpu);
  const max = opts.maxRows ?? 16;
  if (opts.allCpus || groups.length <= max) {
    return groups.map((g) => `${g.cpus.length > 1 ? "CPUs" : "CPU"} ${cpuListShort(g.cpus)}: ${g.key}`);
  }
  const pct = iso.map((c) => c.tick.stopped_pct).sort((a, b) => a - b);
  const kept: Record<string, number> = {};
  for (const c of iso) for (const [k, n] of Object.entries(c.tick.kept_by)) kept[k] = (kept[k] ?? 0) + n;
  const keptText = Object.entries(kept)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`);
  const stops = iso.reduce((s, c) => s + c.tick.stops, 0);
  const restarts = iso.reduce((s, c) => s + c.tick.restarts, 0);
  return [
    `${iso.length} isolated CPUs: tick stopped min ${pct[0]}% / median ${median(pct)}% / max ${pct[pct.length - 1]}% of the window; ` +
      `${stops} stops, ${restarts} restarts; kept by ${keptText.length ? keptText.join(", ") : "nothing"} (--all-cpus for one line per CPU)`,
  ];
}

const fmtValue = (v: unknown): string => printable(typeof v === "string" ? v : JSON.stringify(v));

/** The invariant lines: what was checked and each violation (at most `limit` listed). */
export function invariantLines(r: Report, limit = 20): string[] {
  const out = [`invariants checked: ${r.invariants.checked.length ? r.invariants.checked.join(", ") : "none"}`];
  const v = r.invariants.violations;
  if (v.length === 0) {
    out.push("violations: none");
    return out;
  }
  out.push(`VIOLATED: ${v.length} violation${v.length > 1 ? "s" : ""}`);
  for (const x of v.slice(0, limit)) out.push(`  ${x.invariant} at ${(x.time_ns / 1e9).toFixed(9)} s on CPU ${x.cpu}: ${printable(x.detail)}`);
  if (v.length > limit) out.push(`  ... and ${v.length - limit} more (--json lists all)`);
  return out;
}

/** Formats a report as the readable table of `isolsim run`, following `rtla osnoise top`. */
export function formatReport(r: Report, opts: TableOptions = {}): string {
  const keys = sourceKeys(r);
  const mech = r.kernel.mechanisms.map((m) => printable(m.variant !== undefined ? `${m.name}(${m.variant})` : m.name));
  const lines: string[] = [];
  lines.push(`scenario ${printable(r.scenario)} (seed ${r.seed})${opts.description ? `: ${printable(opts.description)}` : ""}`);
  lines.push(
    `kernel ${printable(r.kernel.preset)}, ${r.kernel.cpus} CPUs, HZ=${r.kernel.hz}, nohz_full=${r.kernel.nohz_full || "(none)"}, mechanisms: ${mech.length ? mech.join(", ") : "none"}`,
  );
  if (opts.timeLine !== undefined) lines.push(opts.timeLine);
  else lines.push(`simulated ${human(r.simulated_ns)}, measured ${human(r.measured_ns)} (after warmup ${human(r.simulated_ns - r.measured_ns)}), ${r.events} events, digest ${r.digest}`);
  lines.push("");
  lines.push("Operating System Noise (time is in us; counts are interruptions in the measured window)");
  const columns: Column[] = [
    { header: "CPU", right: true },
    { header: "Runtime", right: true },
    { header: "Noise", right: true },
    { header: "% CPU Aval", right: true },
    { header: "Max Single", right: true },
    ...keys.map((k) => ({ header: sourceHeader(k), right: true })),
  ];
  const { rows, note } = cpuRows(r, keys, opts);
  lines.push(...layoutTable(columns, rows));
  if (note) lines.push(note);
  lines.push(`sources: ${keys.map((k) => `${sourceHeader(k)}=${k}`).join(" ")}`);
  if (opts.tableOnly) return lines.join("\n") + "\n";
  lines.push("");
  lines.push("Why the tick of isolated CPUs did not stop:");
  lines.push(...tickLines(r, opts).map((l) => `  ${l}`));
  lines.push("");
  const h = r.housekeeping;
  lines.push(
    `housekeeping: ${h.remote_ticks} remote ticks, ${h.lru_drains} lru_add_drain_all() calls, ${h.tlb_flushes} kernel TLB flushes, ${us(h.noise_ns)} us spent for isolated CPUs`,
  );
  const k = r.kthreads;
  lines.push(`kthreads: ${k.total} (rcu callback ${k.rcu_callback}, rcu gp ${k.rcu_gp}, kworker ${k.kworker}, other ${k.other})`);
  const stats = Object.entries(r.mechanism_stats);
  if (stats.length === 0) lines.push("mechanism stats: none");
  for (const [name, s] of stats) {
    lines.push(`mechanism ${name}: ${Object.entries(s).map(([key, v]) => `${key}=${fmtValue(v)}`).join(", ") || "(no figures)"}`);
  }
  lines.push(...invariantLines(r));
  return lines.join("\n") + "\n";
}
