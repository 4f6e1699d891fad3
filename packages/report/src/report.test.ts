import { interruptionKeys, tickKeptByKeys } from "@isolsim/core";
import type { CpuReport, Report, TraceRecord } from "@isolsim/core";
import { describe, expect, it } from "vitest";
import { formatComparison } from "./compare.js";
import { formatFtrace, ftraceTimestamp } from "./ftrace.js";
import { formatPerfetto } from "./perfetto.js";
import { formatReport } from "./table.js";
import { cpuList } from "./text.js";

/** A report of `n` CPUs, CPU 0 housekeeping, the rest isolated with `ticks(cpu)` ticks each. */
function report(n: number, ticks: (cpu: number) => number): Report {
  const cpus: CpuReport[] = Array.from({ length: n }, (_, cpu) => ({
    cpu,
    isolated: cpu > 0,
    noise_ns: cpu > 0 ? ticks(cpu) * 2300 : 0,
    max_single_noise_ns: cpu > 0 ? 2300 : 0,
    available_pct: 100,
    interruptions: Object.fromEntries(interruptionKeys.map((k) => [k, k === "tick" ? (cpu > 0 ? ticks(cpu) : 9000) : 0])) as CpuReport["interruptions"],
    tick: { stopped_pct: 99.9, stops: 1, restarts: 1, kept_by: Object.fromEntries(tickKeptByKeys.map((k) => [k, k === "MAX_DEFERMENT" ? ticks(cpu) : 0])) as CpuReport["tick"]["kept_by"] },
  }));
  return {
    scenario: "big",
    seed: 1,
    kernel: { preset: "linux-4.9", cpus: n, hz: 1000, nohz_full: `1-${n - 1}`, mechanisms: [] },
    simulated_ns: 10e9,
    measured_ns: 9e9,
    events: 1,
    cpus,
    housekeeping: { remote_ticks: 0, lru_drains: 0, tlb_flushes: 0, noise_ns: 0 },
    kthreads: { rcu_callback: 0, rcu_gp: 0, kworker: 0, total: 0 },
    mechanism_stats: {},
    invariants: { checked: ["tick-deps"], violations: [] },
    digest: "0",
  };
}

describe("the rtla-style table", () => {
  it("lists every CPU of a small machine", () => {
    const t = formatReport(report(8, () => 9));
    expect(t.split("\n").filter((l) => /^\s+\d+\s+9000000\.000/.test(l))).toHaveLength(8);
  });

  it("groups identical isolated CPUs of a large machine into one row", () => {
    const t = formatReport(report(1024, () => 9));
    expect(t).toMatch(/^\s*1-1023\s+9000000\.000\s+20\.700/m);
    expect(t).toContain("CPUs 1-1023: tick stopped 99.9%");
    expect(t.split("\n").length).toBeLessThan(40);
  });

  it("aggregates isolated CPUs as min/median/max when they differ, and lists all with allCpus", () => {
    const r = report(1024, (cpu) => cpu % 50);
    const t = formatReport(r);
    expect(t).toMatch(/^\s*iso min\s.*\s0\s/m);
    expect(t).toMatch(/^\s*iso max\s.*\s49\s/m);
    expect(t).toContain("--all-cpus");
    expect(t.split("\n").length).toBeLessThan(40);
    const all = formatReport(r, { allCpus: true });
    expect(all.split("\n").filter((l) => /^\s*\d+\s+9000000\.000/.test(l))).toHaveLength(1024);
    expect(all).toMatch(/^\s*1023\s+9000000\.000\s+52\.900\s/m);
  });

  it("lists violations clearly", () => {
    const r = report(4, () => 1);
    r.invariants.violations.push({ invariant: "tick-deps", time_ns: 1_500_000_000, cpu: 2, detail: "tick stopped with SCHED set" });
    expect(formatReport(r)).toContain("VIOLATED: 1 violation\n  tick-deps at 1.500000000 s on CPU 2: tick stopped with SCHED set");
  });

  it("compresses CPU lists like the kernel prints them", () => {
    expect(cpuList([0, 1, 2, 4, 6, 7])).toBe("0-2,4,6-7");
  });
});

describe("the comparison", () => {
  it("shows each configuration's change against its baseline", () => {
    const base = report(4, () => 9);
    const better = report(4, () => 0);
    const t = formatComparison([
      { config: "baseline", mechanisms: [], report: base, baseline: "baseline" },
      { config: "remote-stats", mechanisms: ["remote-stats"], report: better, baseline: "baseline" },
    ]);
    expect(t).toMatch(/^remote-stats\s+baseline\s+-100\.0%\s+.*-27 \(-100%\)/m);
    expect(t).toMatch(/^baseline\s+62\.100\s/m);
  });
});

const records: TraceRecord[] = [
  { type: "slice", cpu: 1, name: "user-loop/1", cat: "user", ts: 0, end: 1_000_000, source: null },
  { type: "flow", from: 0, to: 1, ts: 999_000, end: 1_000_000, name: "reschedule" },
  { type: "slice", cpu: 1, name: "reschedule", cat: "irq", ts: 1_000_000, end: 1_000_210, source: "ipi_resched" },
  { type: "instant", cpu: 1, name: "tick_stop: success=1 dependency=NONE", ts: 1_000_210 },
];

describe("traces", () => {
  it("perfetto: microsecond timestamps with ns precision, tracks per CPU, flows", () => {
    const doc = JSON.parse(formatPerfetto(records, { title: "t", cpus: 2 }));
    const x = doc.traceEvents.find((e: { name: string; ph: string }) => e.ph === "X" && e.name === "reschedule");
    expect(x).toMatchObject({ pid: 1, tid: 1, ts: 1000, dur: 0.21, args: { source: "ipi_resched" } });
    expect(doc.traceEvents.filter((e: { ph: string }) => e.ph === "s" || e.ph === "f").map((e: { tid: number }) => e.tid)).toEqual([0, 1]);
    expect(doc.traceEvents.find((e: { ph: string }) => e.ph === "i")).toMatchObject({ name: "tick_stop", args: { fields: "success=1 dependency=NONE" } });
  });

  it("ftrace: the kernel's line layout and truncated microsecond timestamps", () => {
    expect(ftraceTimestamp(1_234_567_899)).toBe("    1.234567");
    const text = formatFtrace(records, { title: "t", cpus: 2 });
    expect(text).toContain("          <idle>-0       [000] d..1.     0.000999: ipi_send_cpu: cpu=1 callsite=reschedule callback=reschedule");
    expect(text).toContain("[001] d.h1.     0.001000: reschedule_entry: vector=253 source=ipi_resched");
    expect(text).toContain("[001] d..1.     0.001000: tick_stop: success=1 dependency=NONE");
    expect(text).toContain("# entries-in-buffer/entries-written: 4/4   #P:2");
  });
});
