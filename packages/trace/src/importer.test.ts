import { describe, expect, it } from "vitest";
import { TraceImporter, TraceInputError } from "./importer.js";
import { TraceLineError } from "./errors.js";
import { formatImportedReport } from "./format.js";

const HDR = "# tracer: nop\n# entries-in-buffer/entries-written: 9/9   #P:2\n";
const line = (task: string, cpu: number, t: string, ev: string, fields: string): string =>
  `${task.padStart(16)} [${String(cpu).padStart(3, "0")}] d.h1. ${t}: ${ev}: ${fields}`;

function importText(text: string, machine = {}, window?: [number, number]) {
  const imp = new TraceImporter(window ? { window } : {});
  imp.input("t.txt", text);
  return imp.finish(machine);
}

describe("TraceImporter: ftrace events → report keys", () => {
  it("splits call_function IPIs by the callback the function tracer saw inside", () => {
    const r = importText(
      HDR +
        [
          line("spin-9", 1, "1.000000", "call_function_single_entry", "vector=251"),
          "            spin-9 [001] d.h1. 1.000001: do_kernel_range_flush <-__flush_smp_call_function_queue",
          line("spin-9", 1, "1.000002", "call_function_single_exit", "vector=251"),
          line("spin-9", 1, "1.000010", "call_function_entry", "vector=252"),
          "            spin-9 [001] d.h1. 1.000011: nohz_full_kick_func <-irq_work_single",
          line("spin-9", 1, "1.000012", "call_function_exit", "vector=252"),
          line("spin-9", 1, "1.000020", "call_function_entry", "vector=252"),
          line("spin-9", 1, "1.000021", "call_function_exit", "vector=252"),
          line("spin-9", 1, "1.000030", "irq_work_entry", "vector=246"),
          line("spin-9", 1, "1.000031", "irq_work_exit", "vector=246"),
        ].join("\n"),
    );
    expect(r.cpus[1]!.interruptions).toMatchObject({ ipi_tlb_flush: 1, ipi_irq_work: 2, ipi_call_function: 1 });
    expect(r.trace.unknown.map((u) => u.key)).not.toContain("interruptions.ipi_tlb_flush");
  });

  it("reports the split as unknown, not 0, when the trace has no function tracer lines", () => {
    const r = importText(HDR + [line("spin-9", 1, "1.000000", "call_function_entry", "vector=252"), line("spin-9", 1, "1.000001", "call_function_exit", "vector=252")].join("\n"));
    const unknown = r.trace.unknown.map((u) => u.key);
    expect(unknown).toEqual(expect.arrayContaining(["interruptions.ipi_tlb_flush", "interruptions.ipi_call_function", "interruptions.ipi_irq_work"]));
    expect(formatImportedReport(r)).toMatch(/^\s+1\s.*\?/m);
  });

  it("counts tick.kept_by from the first tick_stop after a timer interrupt, and stops from success=1", () => {
    const r = importText(
      HDR +
        [
          line("spin-9", 1, "1.000000", "local_timer_entry", "vector=236"),
          line("spin-9", 1, "1.000002", "local_timer_exit", "vector=236"),
          line("spin-9", 1, "1.000003", "tick_stop", "success=0 dependency=SCHED"),
          line("spin-9", 1, "1.000004", "tick_stop", "success=0 dependency=RCU"),
          line("spin-9", 1, "1.001000", "local_timer_entry", "vector=236"),
          line("spin-9", 1, "1.001002", "local_timer_exit", "vector=236"),
          line("spin-9", 1, "1.001003", "tick_stop", "success=0 dependency=0x10"),
          line("spin-9", 1, "1.002000", "tick_stop", "success=1 dependency=NONE"),
        ].join("\n"),
      { cpus: 2, nohzFull: "1", isolated: [1] },
    );
    expect(r.cpus[1]!.tick.kept_by).toMatchObject({ SCHED: 1, RCU: 1, POSIX_TIMER: 0 });
    expect(r.cpus[1]!.tick.stops).toBe(1);
    expect(r.cpus[1]!.interruptions.tick).toBe(2);
    expect(r.cpus[1]!.isolated).toBe(true);
  });

  it("takes noise from osnoise:* events (net durations) when the trace has them", () => {
    const r = importText(
      HDR +
        [
          line("osnoise/1-50", 1, "1.000000", "irq_noise", "local_timer:236 start 1.000000000 duration 2500 ns"),
          line("osnoise/1-50", 1, "1.000100", "thread_noise", "   kworker/1:1:45 start 1.000100000 duration 7000 ns"),
          line("osnoise/1-50", 1, "1.010000", "softirq_noise", "   RCU:9 start 1.010000000 duration 500 ns"),
        ].join("\n"),
    );
    expect(r.cpus[1]).toMatchObject({ noise_ns: 10_000, max_single_noise_ns: 7000 });
    expect(r.trace.approximate.map((a) => a.key)).not.toContain("noise_ns");
  });

  it("counts only events inside --window (seconds after the first event)", () => {
    const r = importText(
      HDR +
        [0, 1, 2, 3, 4].map((s) => line("spin-9", 1, `${10 + s}.000000`, "reschedule_entry", "vector=253")).join("\n"),
      {},
      [1, 3],
    );
    expect(r.cpus[1]!.interruptions.ipi_resched).toBe(3);
    expect(r.measured_ns).toBe(2e9);
  });

  it("is deterministic: the same input gives the same report", () => {
    const text = HDR + line("spin-9", 1, "1.000000", "reschedule_entry", "vector=253");
    expect(JSON.stringify(importText(text))).toBe(JSON.stringify(importText(text)));
  });
});

describe("TraceImporter: bad input names the file and line", () => {
  it("rejects an unrecognised line in an ftrace file", () => {
    const imp = new TraceImporter();
    imp.beginInput("trace.txt");
    imp.line("# tracer: nop");
    imp.line(line("spin-9", 1, "1.000000", "reschedule_entry", "vector=253"));
    expect(() => imp.line("garbage here")).toThrow(TraceLineError);
    try {
      imp.line("more garbage");
    } catch (e) {
      expect((e as TraceLineError).line).toBe(4);
      expect((e as TraceLineError).message).toMatch(/^trace\.txt:4: not an ftrace line/);
    }
  });
  it("rejects a tick_stop with a dependency the kernel does not have", () => {
    const imp = new TraceImporter();
    imp.beginInput("t");
    imp.line(line("spin-9", 1, "1.000000", "local_timer_entry", "vector=236"));
    expect(() => imp.line(line("spin-9", 1, "1.000003", "tick_stop", "success=0 dependency=BOGUS"))).toThrow(/t:2: tick_stop dependency=BOGUS/);
  });
  it("rejects a file of no known format, and a scenario with fewer CPUs than the trace", () => {
    const imp = new TraceImporter();
    imp.beginInput("notes.md");
    expect(() => imp.line("Dear diary")).toThrow(/notes\.md:1: not a trace isolsim reads/);
    const ok = new TraceImporter();
    ok.input("t", line("spin-9", 5, "1.000000", "reschedule_entry", "vector=253"));
    expect(() => ok.finish({ cpus: 4 })).toThrow(TraceInputError);
  });
});
