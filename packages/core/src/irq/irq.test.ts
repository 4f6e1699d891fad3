import { describe, expect, it } from "vitest";
import { buildKernel } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";

const MS = 1_000_000;

function kernel(cpus: number): Kernel {
  const spec: ScenarioSpec = {
    name: "irq",
    seed: 1,
    duration: 10 * MS,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull: `1-${cpus - 1}` },
    workload: [{ type: "user-loop", cpus: `1-${cpus - 1}` }],
  };
  const k = buildKernel(spec);
  k.engine.runUntil(2 * MS);
  return k;
}

describe("IPIs in flight (smp_call_function_single())", () => {
  it("delivers each of thousands of IPIs sent at once exactly once, to its CPU, in send order per CPU", () => {
    const k = kernel(16);
    const ran: number[][] = Array.from({ length: 16 }, () => []);
    // 3000 IPIs in flight together: the in-flight ring must grow past its first sizes without
    // mixing up message ids.
    for (let i = 0; i < 3000; i++) {
      const to = 1 + (i % 15);
      k.irq.callFunctionSingle(0, to, "test_ipi", () => {
        ran[k.executingCpu]!.push(i);
      });
    }
    k.engine.runUntil(4 * MS);
    expect(ran[0]).toEqual([]);
    for (let cpu = 1; cpu < 16; cpu++) {
      const want = Array.from({ length: 200 }, (_, j) => cpu - 1 + 15 * j);
      expect(ran[cpu]).toEqual(want);
    }
  });

  it("runs an irq_work queued twice before it ran once, and again once it has run", () => {
    const k = kernel(4);
    let runs = 0;
    k.irq.irqWorkQueueOn(0, 2, "test_work", () => runs++);
    k.irq.irqWorkQueueOn(0, 2, "test_work", () => runs++);
    k.engine.runUntil(3 * MS);
    expect(runs).toBe(1);
    k.irq.irqWorkQueueOn(0, 2, "test_work", () => runs++);
    k.engine.runUntil(4 * MS);
    expect(runs).toBe(2);
  });
});
