import { interruptionKeys, tickKeptByKeys } from "@isolsim/core";
import type { CpuReport, Report, TraceRecord } from "@isolsim/core";
import { describe, expect, it } from "vitest";
import { formatComparison } from "./compare.js";
import { formatFtrace, ftraceTimestamp } from "./ftrace.js";
import { formatPerfetto } from "./perfetto.js";
import { formatReport } from "./table.js";
import { cpuList, cpuListShort } from "./text.js";

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
    kthreads: { rcu_callback: 0, rcu_gp: 0, kworker: 0, other: 0, total: 0 },
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

  it("names every part of the kthreads total", () => {
    const r = { ...report(8, () => 9), kthreads: { rcu_callback: 21, rcu_gp: 3, kworker: 17, other: 3, total: 44 } };
    expect(formatReport(r)).toContain("kthreads: 44 (rcu callback 21, rcu gp 3, kworker 17, other 3)");
  });

  it("escapes control characters of the scenario's name, description, mechanisms and skipped reasons", () => {
    const r = { ...report(8, () => 9), scenario: "a\u001b[2Jb\nc", kernel: { ...report(8, () => 9).kernel, mechanisms: [{ name: "x", variant: "v\r" }] } };
    const t = formatReport(r, { description: "line\u0007one\u202e" });
    expect(t).toContain("scenario a\\u001b[2Jb\\nc (seed 1): line\\u0007one\\u202e");
    expect(t).toContain("mechanisms: x(v\\r)");
    expect(t).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    const c = formatComparison([{ config: "baseline", mechanisms: [], report: r, baseline: "baseline" }], [{ config: "all", reason: "bad\u001b]0;x\u0007" }], { description: "d\u001b" });
    expect(c).toContain("d\\u001b");
    expect(c).toContain("all: skipped: bad\\u001b]0;x\\u0007");
    expect(c).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it("lists violations clearly", () => {
    const r = report(4, () => 1);
    r.invariants.violations.push({ invariant: "tick-deps", time_ns: 1_500_000_000, cpu: 2, detail: "tick stopped with SCHED set" });
    expect(formatReport(r)).toContain("VIOLATED: 1 violation\n  tick-deps at 1.500000000 s on CPU 2: tick stopped with SCHED set");
  });

  it("compresses CPU lists like the kernel prints them", () => {
    expect(cpuList([0, 1, 2, 4, 6, 7])).toBe("0-2,4,6-7");
    expect(cpuListShort([4, 36, 68, 100])).toBe("4-100:1/32");
    expect(cpuListShort([1, 2, 3, 5, 6, 7, 9, 10])).toBe("1-10:3/4");
    expect(cpuListShort([1, 2, 4])).toBe("1-2,4");
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

  it("perfetto: every event has ph/ts/pid/tid, metadata included", () => {
    const doc = JSON.parse(formatPerfetto(records, { title: "t", cpus: 2 }));
    for (const e of doc.traceEvents) expect(e).toEqual(expect.objectContaining({ ph: expect.any(String), ts: expect.any(Number), pid: 1, tid: expect.any(Number) }));
  });

  it("perfetto: an IPI that waits for the running handler binds its flow to its own handler, not the one it arrived in", () => {
    // The tick runs from 700000000 to 700002150 ns; the reschedule IPI arrives at 700001150 and is
    // handled after it (interrupts off), at 700002150.
    const waited: TraceRecord[] = [
      { type: "slice", cpu: 0, name: "local_timer", cat: "irq", ts: 700_000_000, end: 700_002_150, source: "tick" },
      { type: "flow", from: 4, to: 0, ts: 700_000_150, end: 700_001_150, name: "reschedule" },
      { type: "slice", cpu: 0, name: "reschedule", cat: "irq", ts: 700_002_150, end: 700_002_210, source: "ipi_resched" },
      { type: "slice", cpu: 4, name: "wakeup", cat: "kernel", ts: 700_000_000, end: 700_000_500, source: null },
    ];
    const events: { ph: string; name: string; ts: number; tid: number; bp?: string }[] = JSON.parse(formatPerfetto(waited, { title: "t", cpus: 5 })).traceEvents;
    const f = events.findIndex((e) => e.ph === "f");
    expect(events[f]).toMatchObject({ bp: "e", tid: 0, ts: 700002.15 });
    // Read right after the handler's slice, so that slice is the one open when the flow ends.
    expect(events[f - 1]).toMatchObject({ ph: "X", name: "reschedule", tid: 0 });
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

describe("the table of a large machine", () => {
  it("keeps the CPU column narrow when a group's CPU list is long, and lists the group's CPUs under the table", () => {
    // Every 8th isolated CPU makes syscalls: the others form a group with a long, irregular list.
    const t = formatReport(report(1024, (cpu) => (cpu % 8 === 1 ? 56 : 19)));
    const lines = t.split("\n");
    const header = lines.find((l) => /^\s*CPU\s+Runtime/.test(l))!;
    expect(header.indexOf("Runtime")).toBeLessThan(30);
    expect(t).toMatch(/^\s*1-1017:1\/8\s+9000000\.000\s+128\.800/m);
    expect(t).toMatch(/^\s*2-1023:7\/8\s+9000000\.000\s+43\.700/m);
    expect(t).toContain("CPUs 2-1023:7/8: tick stopped");
  });

  it("labels a long irregular group [n] and lists its CPUs under the table", () => {
    const odd = new Set([1, 2, 5, 11, 23, 47, 95, 191, 383, 767]);
    const t = formatReport(report(1024, (cpu) => (odd.has(cpu) ? 56 : cpu < 100 && cpu % 7 === 0 ? 30 : 19)));
    const header = t.split("\n").find((l) => /^\s*CPU\s+Runtime/.test(l))!;
    expect(header.indexOf("Runtime")).toBeLessThan(30);
    expect(t).toMatch(/^\s*\[1\] 10 CPUs\s+9000000\.000\s+128\.800/m);
    expect(t).toContain("[1] 10 CPUs: 1-2,5,11,23,47,95,191,383,767");
  });
});

describe("ftrace events", () => {
  const work: TraceRecord[] = [
    { type: "instant", cpu: 1, name: "workqueue_execute_start: function wq_barrier_func", ts: 600_015_560 },
    { type: "slice", cpu: 1, name: "wq_barrier_func", cat: "kernel", ts: 600_015_560, end: 600_015_860, source: null },
    { type: "slice", cpu: 0, name: "softirq:TIMER", cat: "softirq", ts: 703_003_000, end: 703_003_500, source: null },
    { type: "instant", cpu: 0, name: "lru_add_drain_all: 0 CPUs with pages in batches", ts: 200_005_000 },
  ];
  const text = formatFtrace(work, { title: "t", cpus: 2 });

  it("a work item is one workqueue_execute_start/end pair, whatever its source", () => {
    expect(text.match(/workqueue_execute_start/g)).toHaveLength(1);
    expect(text).toMatch(/\[001\] \.{5}\s+0\.600015: workqueue_execute_start: work struct [0-9a-f]{16}: function wq_barrier_func$/m);
    expect(text).toMatch(/\[001\] \.{5}\s+0\.600015: workqueue_execute_end: work struct [0-9a-f]{16}: function wq_barrier_func$/m);
  });

  it("softirqs carry the kernel's vector and action name (TIMER is 1)", () => {
    expect(text).toContain("softirq_entry: vec=1 [action=TIMER]");
  });

  it("model events that are not kernel tracepoints start with isolsim_", () => {
    expect(text).toContain(": isolsim_lru_add_drain_all: 0 CPUs with pages in batches");
  });
});
