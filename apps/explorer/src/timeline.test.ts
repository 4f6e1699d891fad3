import { describe, expect, it } from "vitest";
import { simulate } from "@isolsim/core";
import type { TraceRecord } from "@isolsim/core";
import { registry, scenarioFromObject } from "@isolsim/scenario";
import { WindowRecorder, marksNear, timelineMarks } from "./timeline.js";

describe("the timeline of the isolated CPUs", () => {
  // lru_add_drain_all() on CPU 0 queues the drain work on CPUs 1-3, whose page-cache writes left pages in their batches.
  const spec = scenarioFromObject(
    {
      duration: "50ms",
      kernel: { cpus: 4, nohz_full: "1-3" },
      workload: [
        { type: "user-loop", cpus: "1-3" },
        { type: "syscall", cpus: "1-3", every: "4ms", call: "file-write" },
        { type: "lru-drain-all", cpus: "0", every: "10ms" },
      ],
    },
    { registry },
  );

  it("keeps only what starts within the window", () => {
    const rec = new WindowRecorder(20_000_000);
    simulate(spec, { registry, trace: rec });
    expect(rec.records.length).toBeGreaterThan(0);
    for (const r of rec.records) expect(r.ts).toBeLessThan(20_000_000);
  });

  it("binds each IPI on an isolated CPU to the flow from CPU 0, which sent it (waking the drain kworkers, kicking the tick)", () => {
    const rec = new WindowRecorder(50_000_000);
    const { report } = simulate(spec, { registry, trace: rec });
    const marks = timelineMarks(rec.records, new Set([1, 2, 3]));
    const ipis = marks.filter((m) => m.source.startsWith("ipi_"));
    expect(ipis.length).toBe(report.cpus.filter((c) => c.isolated).reduce((n, c) => n + Object.entries(c.interruptions).reduce((s, [k, v]) => s + (k.startsWith("ipi_") ? v : 0), 0), 0));
    expect(ipis.length).toBeGreaterThan(0);
    for (const m of ipis) {
      expect(m.cause?.from).toBe(0);
      expect(m.cause!.sentNs).toBeLessThanOrEqual(m.ts);
    }
  });

  it("finds the marks under the pointer on a CPU's row, within the tolerance", () => {
    const records: TraceRecord[] = [
      { type: "slice", cpu: 1, name: "local_timer", cat: "irq", ts: 1000, end: 3000, source: "tick" },
      { type: "slice", cpu: 1, name: "local_timer", cat: "irq", ts: 9000, end: 9500, source: "tick" },
      { type: "slice", cpu: 2, name: "local_timer", cat: "irq", ts: 5000, end: 5500, source: "tick" },
    ];
    const marks = timelineMarks(records, new Set([1, 2]));
    const at = (cpu: number, ns: number, tol: number) => marksNear(marks, cpu, ns, tol).map((m) => m.ts);
    expect(at(1, 2000, 100)).toEqual([1000]);
    expect(at(1, 8800, 300)).toEqual([9000]);
    expect(at(1, 6000, 300)).toEqual([]);
    expect(at(1, 7000, 2500)).toEqual([9000]);
    expect(at(1, 6000, 3000)).toEqual([1000, 9000]);
    expect(at(2, 5600, 200)).toEqual([5000]);
  });
});
