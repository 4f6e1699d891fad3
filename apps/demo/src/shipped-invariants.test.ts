import { fileURLToPath } from "node:url";
import { simulate } from "@isolsim/core";
import type { MechanismRegistry, Report } from "@isolsim/core";
import { lruSpinlockDrain } from "@isolsim/lru-spinlock-drain";
import { describe, expect, it } from "vitest";
import { Exit, exitCodeOf } from "./exit.js";
import { fromPackage, registry } from "./registry.js";
import { loadScenario, scenarioFromObject } from "./scenario-file.js";

/** The path of a shipped scenario. */
const shipped = (name: string): string => fileURLToPath(new URL(`../scenarios/${name}.json`, import.meta.url));

/** Runs a shipped scenario through simulate() with the mechanisms of `reg`; returns the report and the CLI's exit code for it. */
function run(name: string, reg: MechanismRegistry = registry): { report: Report; exit: number } {
  const spec = loadScenario(shipped(name), { registry: reg });
  const { report } = simulate(spec, { registry: reg });
  return { report, exit: exitCodeOf([report]) };
}

describe("lru-exclusive, reached from apps/demo/scenarios/lru-exclusive.json", () => {
  it("runs clean: the drainer and the owners contend for the batch locks, and the locks keep them apart", () => {
    const { report, exit } = run("lru-exclusive");
    expect(exit).toBe(Exit.ok);
    expect(report.invariants.checked).toContain("lru-exclusive");
    const st = report.mechanism_stats["lru-spinlock-drain"] as Record<string, number>;
    expect(st.contended_acquires).toBeGreaterThan(10);
    expect(st.remote_drains).toBeGreaterThan(0);
    for (const c of report.cpus.slice(1)) expect(c.interruptions.kworker_lru_drain).toBe(0);
  });

  it("reports lru-exclusive when lru-spinlock-drain's drainer skips the batch lock", () => {
    const broken: MechanismRegistry = { ...registry, "lru-spinlock-drain": fromPackage(() => lruSpinlockDrain({ faults: { drainerSkipsLock: true } })) };
    const { report, exit } = run("lru-exclusive", broken);
    expect(exit).toBe(Exit.violated);
    const v = report.invariants.violations.filter((x) => x.invariant === "lru-exclusive");
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.cpu).toBeGreaterThanOrEqual(1);
    expect(v[0]!.cpu).toBeLessThanOrEqual(3);
    expect(v[0]!.time_ns).toBeGreaterThan(0);
    expect(v[0]!.detail).toMatch(/CPU \d \((owner|remote drainer)\) (entered|touched) CPU \d's LRU batch while CPU \d \((its owner|a remote drainer)\) was inside it/);
  });
});

describe("workqueue-progress, reached from apps/demo/scenarios/workqueue-starvation.json", () => {
  it("exits 1: the SCHED_FIFO task on CPU 1 starves kworker/1:0 and lru_add_drain_all()'s flush_work() never returns (4.9, RT_RUNTIME_SHARE on)", () => {
    const { report, exit } = run("workqueue-starvation");
    expect(exit).toBe(Exit.violated);
    expect(report.invariants.violations).toHaveLength(1);
    const [v] = report.invariants.violations;
    expect(v!.invariant).toBe("workqueue-progress");
    expect(v!.cpu).toBe(1);
    expect(v!.time_ns).toBe(3_000_000_000);
    expect(v!.detail).toContain("flush_work(lru_add_drain_per_cpu) by lru-drain-all/0 on CPU 0");
    expect(v!.detail).toContain("kworker/1:0");
    expect(v!.detail).toContain("SCHED_FIFO");
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBe(0);
  });

  it("runs clean with RT_RUNTIME_SHARE off: the default throttling gives the kworker its 5 %", () => {
    const spec = loadScenario(shipped("workqueue-starvation"), { registry });
    const { report } = simulate({ ...spec, kernel: { ...spec.kernel, params: { ...spec.kernel.params, rt_runtime_share: false } } }, { registry });
    expect(report.invariants.violations).toEqual([]);
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBeGreaterThan(0);
  });
});

describe("drain_all_pages() from a scenario file: lru-drain-all with pcp", () => {
  it("reaches the model: each isolated CPU that allocated pages gets a call-function IPI per drain", () => {
    const file = {
      duration: "2s",
      kernel: { preset: "linux-4.9", cpus: 4, nohz_full: "1-3" },
      workload: [
        { type: "user-loop", cpus: "1-3" },
        { type: "syscall", cpus: "1-3", every: "500ms", call: "page-fault" },
        { type: "lru-drain-all", cpus: "0", every: "700ms", pcp: true },
      ],
    };
    const { report } = simulate(scenarioFromObject(file, { registry }), { registry });
    for (const c of report.cpus.slice(1)) expect(c.interruptions.ipi_call_function).toBe(2);
    const without = simulate(scenarioFromObject({ ...file, workload: [...file.workload.slice(0, 2), { type: "lru-drain-all", cpus: "0", every: "700ms" }] }, { registry }), { registry });
    for (const c of without.report.cpus) expect(c.interruptions.ipi_call_function).toBe(0);
  });
});
