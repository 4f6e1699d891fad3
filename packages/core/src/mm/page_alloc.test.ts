import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import { zoneBatchsize } from "./page_alloc.js";

const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(workload: WorkloadSpec[], over: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: "pcp",
    seed: 1,
    duration: 2 * S,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...workload],
    ...over,
  };
}

const faultOn1: WorkloadSpec = { type: "syscall", cpus: "1", call: "page-fault", every: 10 * S, at: 100 * MS, pages: 4 };
const writeOn2: WorkloadSpec = { type: "syscall", cpus: "2", call: "file-write", every: 10 * S, at: 150 * MS, pages: 40 };

describe("per-CPU page lists and drain_all_pages() (mm/page_alloc.c, 4.9)", () => {
  it("zone_batchsize(): 31 for a zone of 4 GiB or of 1 GiB, smaller for small zones", () => {
    expect(zoneBatchsize(4096 * 256)).toBe(31);
    expect(zoneBatchsize(1024 * 256)).toBe(31);
    expect(zoneBatchsize(64 * 256)).toBe(3);
    expect(zoneBatchsize(1)).toBe(0);
  });

  it("a CPU's first allocation refills its list with a batch: the pages it did not use stay there", () => {
    const k = buildKernel(scenario([faultOn1, writeOn2]));
    k.engine.runUntil(200 * MS);
    expect(k.pcp.batch).toBe(31);
    expect(k.pcp.high).toBe(186);
    expect(k.pcp.count[1]).toBe(31 - 4);
    // 40 pages: a refill of 31, used up, then another: 62 - 40 left.
    expect(k.pcp.count[2]).toBe(62 - 40);
    expect(k.pcp.count[3]).toBe(0);
  });

  it("frees go back on the list; at pcp->high a batch returns to the buddy allocator", () => {
    const k = buildKernel(scenario([]));
    for (let i = 0; i < 185; i++) k.pcp.freePage(3);
    expect(k.pcp.count[3]).toBe(185);
    k.pcp.freePage(3);
    expect(k.pcp.count[3]).toBe(186 - 31);
  });

  it("lru-drain-all with pcp: drain_all_pages() sends a call-function IPI to each CPU with pages on its lists, and waits for it", () => {
    const drain: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 500 * MS, pcp: true };
    const { report, kernel } = simulate(scenario([faultOn1, writeOn2, drain]));
    const [, cpu1, cpu2, cpu3] = report.cpus;
    expect(cpu1!.interruptions.ipi_call_function).toBe(1);
    expect(cpu2!.interruptions.ipi_call_function).toBe(1);
    expect(cpu3!.interruptions.ipi_call_function).toBe(0);
    expect(Array.from(kernel.pcp.count)).toEqual([0, 0, 0, 0]);
    expect(kernel.pcp.drainAllCalls).toBe(1);
    expect(kernel.pcp.drainIpis).toBe(2);
    // CPU 0 spins about an IPI's latency and handler for them: housekeeping noise.
    const without = simulate(scenario([faultOn1, writeOn2, { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 500 * MS }])).report;
    expect(report.housekeeping.noise_ns - without.housekeeping.noise_ns).toBeGreaterThanOrEqual(1_000 + 1_500);
    // lru_add_drain_all() before it: the same CPUs had pages in their LRU batches.
    expect(cpu1!.interruptions.kworker_lru_drain).toBe(1);
    expect(report.invariants.violations).toEqual([]);
  });

  it("lru-drain-all without pcp leaves the per-CPU lists alone: no call-function IPI", () => {
    const drain: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 500 * MS };
    const { report, kernel } = simulate(scenario([faultOn1, writeOn2, drain]));
    for (const c of report.cpus) expect(c.interruptions.ipi_call_function).toBe(0);
    expect(kernel.pcp.count[1]).toBe(27);
    expect(kernel.pcp.drainAllCalls).toBe(0);
  });

  it("a CPU drains its own lists without an IPI (on_each_cpu_mask() runs the function locally)", () => {
    const drain: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 500 * MS, pcp: true };
    const k = buildKernel(scenario([drain]));
    k.engine.runUntil(400 * MS);
    k.pcp.allocPage(0);
    k.engine.runUntil(2 * S);
    expect(k.pcp.count[0]).toBe(0);
    expect(k.pcp.drainIpis).toBe(0);
  });
});
