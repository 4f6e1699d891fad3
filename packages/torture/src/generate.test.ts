import { describe, expect, it } from "vitest";
import { CpuMask, validateScenario, workloadFields } from "@isolsim/core";
import { checkScenario, generateScenario, raceKinds } from "./generate.js";
import { runSeed } from "./random.js";
import { scenarioSpecOf } from "./scenario-object.js";
import { testRegistry } from "./test-registry.js";

const many = Array.from({ length: 150 }, (_, i) => generateScenario(runSeed(42, i), { registry: testRegistry, name: `g${i}` }));

describe("generateScenario", () => {
  it("makes only valid scenarios: validateScenario() and buildKernel() accept every one", () => {
    for (const o of many) {
      expect(() => validateScenario(scenarioSpecOf(o))).not.toThrow();
      expect(() => checkScenario(o, testRegistry)).not.toThrow();
    }
  });

  it("is deterministic: the same seed gives the same scenario, another seed another", () => {
    const a = generateScenario(7, { registry: testRegistry });
    expect(generateScenario(7, { registry: testRegistry })).toEqual(a);
    expect(generateScenario(8, { registry: testRegistry })).not.toEqual(a);
  });

  it("covers every workload type, small and larger machines, the list grammar and command lines", () => {
    const types = new Set(many.flatMap((o) => o.workload.map((w) => w.type)));
    expect([...types].sort()).toEqual(Object.keys(workloadFields).sort());
    const cpus = many.map((o) => o.kernel.cpus);
    expect(cpus.filter((n) => n <= 8).length).toBeGreaterThan(many.length / 2);
    expect(Math.max(...cpus)).toBeGreaterThan(16);
    const lists = many.map((o) => o.kernel.nohz_full ?? /nohz_full=(\S+)/.exec(o.kernel.cmdline ?? "")?.[1] ?? "");
    expect(lists.some((l) => /:\d+\/\d+/.test(l))).toBe(true);
    expect(lists.some((l) => /N/.test(l))).toBe(true);
    expect(lists.some((l) => /\d-\d/.test(l))).toBe(true);
    expect(many.some((o) => o.kernel.cmdline?.includes("isolcpus="))).toBe(true);
    expect(many.some((o) => o.workload.some((w) => w.jitter !== undefined))).toBe(true);
    expect(new Set(many.map((o) => o.kernel.preset)).size).toBeGreaterThan(1);
    expect(many.some((o) => (o.kernel.mechanisms ?? []).some((m) => typeof m !== "string" && m.variant !== undefined))).toBe(true);
  });

  it("keeps a fixed preset and mechanism list", () => {
    const o = generateScenario(3, { registry: testRegistry, preset: "linux-4.9", mechanisms: [{ name: "tlb-defer", variant: "ct-work" }] });
    expect(o.kernel.preset).toBe("linux-4.9");
    expect(o.kernel.mechanisms).toEqual([{ name: "tlb-defer", variant: "ct-work" }]);
  });

  it("aligns the two sides of a race: same period, first firings at most a few µs apart", () => {
    expect(raceKinds.length).toBe(6);
    const aligned = many.filter((o) =>
      o.workload.some((a, i) => o.workload.some((b, j) => j > i && a.every !== undefined && a.every === b.every && a.at !== undefined && b.at !== undefined && a.type !== b.type)),
    );
    expect(aligned.length).toBeGreaterThan(10);
  });

  it("puts syscall, kernel-loop and bpf items only on CPUs with a user-loop task", () => {
    for (const o of many) {
      const nr = o.kernel.cpus;
      const busy = new Set(o.workload.filter((w) => w.type === "user-loop").flatMap((w) => CpuMask.parse(w.cpus, nr).toArray()));
      for (const w of o.workload.filter((w) => w.type === "syscall" || w.type === "kernel-loop" || w.type === "bpf")) {
        for (const c of CpuMask.parse(w.cpus, nr).toArray()) expect(busy.has(c)).toBe(true);
      }
    }
  });
});
