import { describe, expect, it } from "vitest";
import { simulate } from "./simulate.js";
import { TraceRecorder, completeTrace } from "./trace.js";
import { interruptionKeys } from "./accounting/sources.js";

const MS = 1_000_000;

describe("completeTrace", () => {
  it("closes what still ran at the end, so every counted interruption and every user run is a slice", () => {
    const spec = {
      name: "t",
      seed: 1,
      duration: 500 * MS,
      warmup: 0,
      kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
      workload: [
        { type: "user-loop" as const, cpus: "1-3" },
        { type: "wakeup" as const, cpus: "2", every: 100 * MS, run: 20_000 },
      ],
    };
    const rec = new TraceRecorder();
    const { kernel, report } = simulate(spec, { trace: rec });
    const userAtEnd = (): number => rec.records.filter((r) => r.type === "slice" && r.cat === "user" && r.end === spec.duration).length;
    expect(userAtEnd()).toBe(0);
    completeTrace(kernel, rec, spec.duration);
    // CPUs 1-3 run their loop at the end: one open user run each, closed at the end.
    expect(userAtEnd()).toBe(3);
    for (const c of report.cpus) {
      const counted = rec.records.filter((r) => r.type === "slice" && r.cpu === c.cpu && r.source !== null).length;
      const total = interruptionKeys.reduce((n, k) => n + ((c.interruptions as Record<string, number>)[k] ?? 0), 0);
      expect(counted, `CPU ${c.cpu}`).toBe(total);
    }
  });
});
