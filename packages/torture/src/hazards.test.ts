import { describe, expect, it } from "vitest";
import { generateScenario } from "./generate.js";
import { hazardOf, knownHazards } from "./hazards.js";
import { runSeed } from "./random.js";
import type { ScenarioObject } from "./scenario-object.js";
import { runScenario, violates } from "./shrink.js";
import { testRegistry } from "./test-registry.js";

/** tlb-defer at its default step (context tracking, 4.9) with a BPF program on a kprobe at do_syscall_64(), re-JIT'd often. */
const kprobe: ScenarioObject = {
  name: "kprobe",
  seed: 1,
  duration: "60ms",
  kernel: { preset: "linux-4.9", cpus: 2, nohz_full: "1", mechanisms: [{ name: "tlb-defer", options: { vfree_rcu: true } }] },
  workload: [
    { type: "user-loop", cpus: "1" },
    { type: "bpf", cpus: "1", every: "100us", attach: "kprobe" },
    { type: "syscall", cpus: "1", every: "10us", call: "getpid" },
  ],
};

const withMechanism = (o: ScenarioObject, m: NonNullable<ScenarioObject["kernel"]["mechanisms"]>[number], params?: Record<string, unknown>): ScenarioObject => ({
  ...o,
  kernel: { ...o.kernel, mechanisms: [m], ...(params ? { params } : {}) },
});

describe("known hazards", () => {
  it("tlb-defer flushing after a BPF kprobe is the documented tlb-no-stale, and only that configuration is the hazard", () => {
    const h = knownHazards.find((x) => x.id === "tlb-defer-flush-after-bpf")!;
    expect(h.applies(kprobe)).toBe(true);
    expect(violates(runScenario(kprobe, testRegistry)!.report, "tlb-no-stale")).toBe(true);
    const early = withMechanism(kprobe, { name: "tlb-defer", options: { vfree_rcu: true, flush_step: "stack_switch" } });
    expect(h.applies(early)).toBe(false);
    expect(runScenario(early, testRegistry)!.report.invariants.violations).toEqual([]);
    expect(h.applies(withMechanism(kprobe, { name: "tlb-defer", options: { vfree_rcu: true } }, { pti: true }))).toBe(false);
    expect(h.applies(withMechanism(kprobe, { name: "tlb-defer", variant: "cr3-switch" }, { pti: true }))).toBe(false);
    const sysEnter = { ...kprobe, workload: kprobe.workload.map((w) => (w.type === "bpf" ? { ...w, attach: "sys_enter" } : w)) };
    expect(h.applies(sysEnter)).toBe(false);
    expect(h.applies(withMechanism(sysEnter, { name: "tlb-defer", options: { flush_step: "deferred_work" } }))).toBe(true);
  });

  it("an RT busy loop is a hazard on a housekeeping CPU, or on an isolated one with RT_RUNTIME_SHARE (4.9)", () => {
    const h = knownHazards.find((x) => x.id === "rt-task-starves-kthreads")!;
    const rt = (preset: string, cpus: string, params?: Record<string, unknown>): ScenarioObject => ({
      name: "rt",
      seed: 1,
      duration: "1s",
      kernel: { preset, cpus: 4, nohz_full: "1-3", ...(params ? { params } : {}) },
      workload: [{ type: "user-loop", cpus, policy: "rr", priority: 90 }],
    });
    expect(h.applies(rt("linux-6.12-rt", "0"))).toBe(true);
    expect(h.applies(rt("linux-6.1", "2"))).toBe(false);
    expect(h.applies(rt("linux-4.9", "2"))).toBe(true);
    expect(h.applies(rt("linux-4.9", "2", { rt_runtime_share: false }))).toBe(false);
    // The 1-CPU case torture found before the hazard was listed: call_rcu() callbacks never invoked.
    const starved: ScenarioObject = { ...rt("linux-6.12-rt", "0"), duration: "1337ms", kernel: { preset: "linux-6.12-rt", cpus: 1 } };
    starved.workload.push({ type: "syscall", cpus: "0", every: "100ms", call: "call-rcu" });
    expect(h.applies(starved)).toBe(true);
    expect(violates(runScenario(starved, testRegistry)!.report, "rcu-callbacks-invoked")).toBe(true);
  });

  it("are generated around by default, and generated when allowed", () => {
    const seeds = Array.from({ length: 300 }, (_, i) => runSeed(77, i));
    const opts = { registry: testRegistry, mechanisms: [{ name: "tlb-defer" }] };
    expect(seeds.filter((s) => hazardOf(generateScenario(s, opts), knownHazards) !== null)).toEqual([]);
    expect(seeds.filter((s) => hazardOf(generateScenario(s, { ...opts, avoid: [] }), knownHazards) !== null).length).toBeGreaterThan(0);
  });
});
