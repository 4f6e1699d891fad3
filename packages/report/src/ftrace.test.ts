import { describe, expect, it } from "vitest";
import { TraceRecorder, simulate } from "@isolsim/core";
import type { ScenarioSpec } from "@isolsim/core";
import { formatFtrace } from "./ftrace.js";

const MS = 1_000_000;

describe("formatFtrace", () => {
  it("prints workqueue_queue_work on the CPU that queued the work, with the target in its cpu field (4.9 TP_printk)", () => {
    const spec: ScenarioSpec = {
      name: "drain",
      seed: 1,
      duration: 300 * MS,
      warmup: 0,
      kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
      workload: [
        { type: "user-loop", cpus: "1-3" },
        { type: "syscall", cpus: "2", call: "file-write", every: 50 * MS, pages: 2 },
        { type: "lru-drain-all", cpus: "0", every: 200 * MS },
      ],
    };
    const trace = new TraceRecorder();
    simulate(spec, { trace });
    const lines = formatFtrace(trace.records, { title: "drain", cpus: 4 }).split("\n").filter((l) => l.includes("workqueue_queue_work:"));
    const drains = lines.filter((l) => l.includes("function=lru_add_drain_per_cpu"));
    expect(drains.length).toBeGreaterThan(0);
    for (const l of drains) {
      // lru_add_drain_all() on CPU 0 queues the work on CPU 2's pool.
      expect(l).toMatch(/ \[000\] .* workqueue_queue_work: work struct=[0-9a-f]{16} function=lru_add_drain_per_cpu workqueue=[0-9a-f]{16} req_cpu=2 cpu=2$/);
    }
  });
});
