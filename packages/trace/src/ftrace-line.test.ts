import { describe, expect, it } from "vitest";
import { parseFtraceLine, parseTimestamp } from "./ftrace-line.js";

describe("parseFtraceLine: the layouts print_trace_fmt() and trace-cmd report print", () => {
  it("reads a tracefs line with the irq-info flags column", () => {
    const l = parseFtraceLine("            spin-201     [001] d.h1.   100.000500: local_timer_entry: vector=236");
    expect(l).toEqual({ kind: "event", record: { task: "spin", pid: 201, cpu: 1, timeNs: 100_000_500_000, event: "local_timer_entry", fields: "vector=236" } });
  });
  it("reads a line without the flags column, and a task whose comm holds '-' and spaces", () => {
    const l = parseFtraceLine(" kworker/u8:2-events unbound-77   [003]  2000.000100: workqueue_execute_start: work struct 0xffff: function vmstat_update");
    expect(l?.kind === "event" && l.record).toMatchObject({ task: "kworker/u8:2-events unbound", pid: 77, cpu: 3, event: "workqueue_execute_start" });
  });
  it("reads the tgid column of options/record-tgid", () => {
    const l = parseFtraceLine("          <idle>-0       (-------) [002] d.h1.   5.000001: reschedule_entry: vector=253");
    expect(l?.kind === "event" && l.record).toMatchObject({ task: "<idle>", pid: 0, cpu: 2, event: "reschedule_entry" });
  });
  it("reads function tracer lines of tracefs and of trace-cmd as event 'function' with the callee", () => {
    const a = parseFtraceLine("            spin-201     [001] d.h1.   100.003001: flush_tlb_func <-__flush_smp_call_function_queue");
    const b = parseFtraceLine("            spin-201 [001]   100.003001: function:             flush_tlb_func <-- __flush_smp_call_function_queue");
    const c = parseFtraceLine("            spin-201     [001] d.h1.   100.003001: do_kernel_range_flush+0x0/0x60 <-smp_call_function_many_cond");
    for (const [l, fn] of [[a, "flush_tlb_func"], [b, "flush_tlb_func"], [c, "do_kernel_range_flush"]] as const) {
      expect(l?.kind === "event" && l.record).toMatchObject({ event: "function", fields: fn });
    }
  });
  it("keeps nanosecond timestamps of a ns trace clock exactly", () => {
    expect(parseTimestamp("76534", "238795123")).toBe(76_534_238_795_123);
    expect(parseTimestamp("1", "5")).toBe(1_500_000_000);
  });
  it("reads the CPU count of both headers, and lost-event markers", () => {
    expect(parseFtraceLine("cpus=8")).toEqual({ kind: "cpus", cpus: 8 });
    expect(parseFtraceLine("# entries-in-buffer/entries-written: 52/52   #P:4")).toEqual({ kind: "cpus", cpus: 4 });
    expect(parseFtraceLine("CPU:3 [LOST 123 EVENTS]")).toEqual({ kind: "lost", cpu: 3, count: 123 });
    expect(parseFtraceLine("CPU 2 is empty")).toEqual({ kind: "skip" });
  });
  it("returns null for a line that is no ftrace line", () => {
    expect(parseFtraceLine("spin-201 [001] d.h1. not-a-time: local_timer_entry: vector=236")).toBeNull();
    expect(parseFtraceLine("hello world")).toBeNull();
  });
});
