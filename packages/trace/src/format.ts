import { tickKeptByKeys } from "@isolsim/core";
import { formatReport, layoutTable, printable } from "@isolsim/report";
import type { Column } from "@isolsim/report";
import type { ImportedReport } from "./importer.js";
import { INTERRUPT_ROWS } from "./interrupts.js";

/** The trace's counts that /proc/interrupts rows count, for the cross-check's header. */
const CROSS_CHECK_TRACE_EVENT: Readonly<Record<string, string>> = {
  LOC: "local_timer_entry",
  RES: "reschedule_entry",
  CAL: "call_function(_single)_entry",
  TLB: "TLB flush callbacks",
  IWI: "irq_work_entry",
  SPU: "spurious_apic_entry",
};

const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;

/** Options of {@link formatImportedReport}. */
export interface ImportedTableOptions {
  /** List every CPU even on a large machine. */
  allCpus?: boolean;
}

/**
 * Formats an imported report as `isolsim run` does (rtla osnoise top's columns), with figures the
 * trace cannot give printed as `?`, then the tick reasons, the /proc/interrupts cross-check and
 * what was unknown, approximate or not mapped.
 */
export function formatImportedReport(r: ImportedReport, opts: ImportedTableOptions = {}): string {
  const t = r.trace;
  const unknownKeys = t.unknown.map((u) => u.key);
  const unknown = new Set(unknownKeys);
  const inputs = t.inputs.map((i) => `${printable(i.file)} (${i.format}, ${i.lines} lines)`).join(", ");
  const window = t.window_ns ? `window ${(t.window_ns[0] / 1e9).toFixed(6)}..${(t.window_ns[1] / 1e9).toFixed(6)} s of the trace clock` : "no timestamps";
  const timeLine = `real trace: ${inputs}; ${window} (${ms(r.measured_ns)}), ${r.events} events, digest ${r.digest}`;
  const tableOpts: Parameters<typeof formatReport>[1] = { unknown: unknownKeys, timeLine, tableOnly: true };
  if (opts.allCpus) tableOpts.allCpus = true;
  const lines = [formatReport(r, tableOpts).trimEnd()];
  lines.push("? = the trace lacks what this figure needs (see \"unknown\" below)");
  lines.push("");
  lines.push("Why the tick of isolated CPUs did not stop (from timer:tick_stop):");
  const iso = r.cpus.filter((c) => c.isolated);
  if (unknown.has("tick.kept_by")) lines.push(`  unknown: ${t.unknown.find((u) => u.key === "tick.kept_by")!.reason}`);
  else if (iso.length === 0) lines.push("  no isolated CPU given (--scenario supplies nohz_full)");
  else {
    for (const c of iso) {
      const kept = tickKeptByKeys
        .filter((k) => !unknown.has(`tick.kept_by.${k}`) && c.tick.kept_by[k] > 0)
        .map((k) => `${k} ${c.tick.kept_by[k]}`);
      lines.push(`  CPU ${c.cpu}: ${c.tick.stops} stops; ticks kept by ${kept.length ? kept.join(", ") : "no traced dependency"}`);
    }
  }
  if (t.interrupts) {
    lines.push("");
    lines.push(`/proc/interrupts ${t.interrupts.delta ? "after − before" : "(one snapshot: since boot)"} beside the trace's counts (proc / trace):`);
    const columns: Column[] = [{ header: "CPU", right: true }, ...INTERRUPT_ROWS.map((k) => ({ header: k, right: true }))];
    const rows = t.interrupts.cpus.map((c) => [
      String(c.cpu),
      ...INTERRUPT_ROWS.map((k) => `${c.proc[k] ?? "-"} / ${c.trace[k] ?? "?"}`),
    ]);
    lines.push(...layoutTable(columns, rows));
    lines.push(`trace: ${INTERRUPT_ROWS.map((k) => `${k}=${CROSS_CHECK_TRACE_EVENT[k]}`).join(" ")}`);
  }
  const h = r.housekeeping;
  const hk = (key: string, v: number): string => (unknown.has(`housekeeping.${key}`) ? "?" : String(v));
  lines.push("");
  lines.push(`housekeeping: ${hk("remote_ticks", h.remote_ticks)} sched_tick_remote(), ${hk("lru_drains", h.lru_drains)} lru_add_drain_all(), ${hk("tlb_flushes", h.tlb_flushes)} flush_tlb_kernel_range() (function tracer lines)`);
  const k = r.kthreads;
  lines.push(unknown.has("kthreads") ? "kthreads: ?" : `kthreads seen in the trace: ${k.total} (rcu callback ${k.rcu_callback}, rcu gp ${k.rcu_gp}, kworker ${k.kworker}, other ${k.other})`);
  lines.push(`events present: ${Object.entries(t.events).map(([e, n]) => `${e} ${n}`).join(", ") || "none (no ftrace input)"}`);
  if (t.lost_events > 0) lines.push(`LOST: the trace lost ${t.lost_events} events (ring buffer overrun)`);
  if (t.unknown.length) {
    lines.push("unknown:");
    for (const u of t.unknown) lines.push(`  ${u.key}: ${u.reason}`);
  }
  if (t.approximate.length) {
    lines.push("approximate:");
    for (const a of t.approximate) lines.push(`  ${a.key}: ${a.reason}`);
  }
  if (t.not_mapped.length) {
    lines.push("not mapped:");
    for (const n of t.not_mapped) lines.push(`  ${n}`);
  }
  return lines.join("\n") + "\n";
}
