import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import { buildReport } from "../report.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import type { Mechanism } from "../mechanism.js";
import { Src } from "../accounting/sources.js";
import { LruList, LruPvec } from "./swap.js";
import { Context, segment } from "../machine/cpu.js";
import { EventPriority } from "../engine/engine.js";

const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(workload: WorkloadSpec[], over: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: "lru",
    seed: 1,
    duration: 3 * S,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3" },
    workload: [{ type: "user-loop", cpus: "1-3" }, ...workload],
    ...over,
  };
}

const drainEvery200ms: WorkloadSpec = { type: "lru-drain-all", cpus: "0", every: 200 * MS };
const writeOn1: WorkloadSpec = { type: "syscall", cpus: "1", call: "file-write", every: 500 * MS, at: 250 * MS, pages: 3 };

describe("LRU batches (linux-4.9: PAGEVEC_SIZE 14)", () => {
  it("keeps pages in the CPU's batch until it holds 14, then moves the batch to the LRU lists", () => {
    const k = buildKernel(scenario([]));
    for (let i = 0; i < 13; i++) k.lru.lruCacheAdd(2, LruList.inactive_file);
    expect(k.lru.batchCount(2)).toBe(13);
    expect(k.lru.lists[LruList.inactive_file]).toBe(0);
    k.lru.lruCacheAdd(2, LruList.inactive_file);
    expect(k.lru.batchCount(2)).toBe(0);
    expect(k.lru.lists[LruList.inactive_file]).toBe(14);
    expect(k.invariants.violations).toEqual([]);
  });

  it("keeps every page of batches that outgrow the PAGEVEC_SIZE they started with", () => {
    const k = buildKernel(scenario([]));
    k.params.pagevecSize = 40;
    for (let i = 0; i < 30; i++) k.lru.lruCacheAdd(2, i % 3 === 0 ? LruList.active_anon : LruList.inactive_file);
    for (let i = 0; i < 20; i++) k.lru.lruCacheAdd(1, LruList.unevictable);
    expect(k.lru.batchCount(2)).toBe(30);
    expect(k.lru.batchCount(1)).toBe(20);
    expect(k.lru.lruAddDrainCpu(2)).toBe(30);
    expect(k.lru.lists).toEqual([20, 10, 0]);
    for (let i = 0; i < 20; i++) k.lru.lruCacheAdd(1, LruList.inactive_file);
    expect(k.lru.batchCount(1)).toBe(0);
    expect(k.lru.lists).toEqual([40, 10, 20]);
    expect(k.invariants.violations).toEqual([]);
  });

  it("lru_add_drain_all() on CPU 0 every 200 ms hits only the isolated CPU whose batch is non-empty", () => {
    const { report } = simulate(scenario([writeOn1, drainEvery200ms], { duration: 3100 * MS }));
    const [cpu0, cpu1, cpu2, cpu3] = report.cpus;
    expect(report.housekeeping.lru_drains).toBe(15);
    // Writes at 0.25, 0.75, ... 2.75 s: 6 writes, each drained by the next call.
    expect(cpu1!.interruptions.kworker_lru_drain).toBe(6);
    expect(cpu2!.interruptions.kworker_lru_drain).toBe(0);
    expect(cpu3!.interruptions.kworker_lru_drain).toBe(0);
    expect(cpu2!.interruptions.ipi_resched).toBe(0);
    expect(cpu0!.interruptions.kworker_lru_drain).toBe(0);
    expect(report.housekeeping.noise_ns).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
    expect(report.invariants.checked).toEqual(expect.arrayContaining(["lru-conservation", "lru-drain-complete"]));
  });

  it("one drain of a busy nohz_full CPU is several interruptions: resched IPI, SCHED kick, tick restart, the kworker, one more tick", () => {
    const spec = scenario([
      { type: "syscall", cpus: "1", call: "page-fault", every: 100 * S, at: 500 * MS, pages: 2 },
      { type: "lru-drain-all", cpus: "0", every: 100 * S, at: 1300 * MS },
    ]);
    const k = buildKernel(spec);
    k.engine.runUntil(1300 * MS - 1);
    const counts = (): number[] => Array.from(k.accounting.cpus[1]!.counts);
    const before = counts();
    const restartsBefore = k.tick.ts[1]!.restarts;
    expect(k.tick.ts[1]!.stopped).toBe(true);
    k.engine.runUntil(1320 * MS);
    const after = counts();
    const d = (src: number): number => after[src]! - before[src]!;
    expect(d(Src.ipi_resched)).toBe(1);
    expect(d(Src.ipi_irq_work)).toBe(1);
    expect(d(Src.kworker_lru_drain)).toBe(1);
    expect(d(Src.tick)).toBeGreaterThanOrEqual(1);
    expect(k.tick.ts[1]!.restarts - restartsBefore).toBe(1);
    expect(k.tick.ts[1]!.stopped).toBe(true);
    expect(k.lru.batchCount(1)).toBe(0);
    const total = after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(4);
    k.finish();
    expect(buildReport(k, spec).invariants.violations).toEqual([]);
  });

  it("mlock() calls lru_add_drain_all() in 4.9, and not when the parameter is off", () => {
    const mlock: WorkloadSpec = { type: "syscall", cpus: "2", call: "mlock", every: 500 * MS };
    const on = simulate(scenario([writeOn1, mlock]));
    expect(on.report.housekeeping.lru_drains).toBe(5);
    expect(on.report.cpus[1]!.interruptions.kworker_lru_drain).toBeGreaterThan(0);
    expect(on.report.invariants.violations).toEqual([]);
    const off = simulate(scenario([writeOn1, mlock], { kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohzFull: "1-3", params: { mlock_drains_all: false } } }));
    expect(off.report.housekeeping.lru_drains).toBe(0);
    expect(off.kernel.lru.lists[LruList.unevictable]).toBe(5 * 8);
  });

  it("reports lru-drain-complete when a drain policy skips a CPU", () => {
    const skipping: Mechanism = {
      name: "skip-cpu1",
      description: "a lru_add_drain_all() that drains every batch but CPU 1's",
      install(k) {
        k.lru.drainAll = (caller, done) => {
          for (let cpu = 0; cpu < k.nrCpus; cpu++) if (cpu !== 1) k.lru.drainRemote(cpu, caller.cpu);
          done();
        };
      },
    };
    const { report } = simulate(scenario([writeOn1, drainEvery200ms]), { mechanisms: [skipping] });
    const v = report.invariants.violations.filter((x) => x.invariant === "lru-drain-complete");
    expect(v.length).toBeGreaterThan(0);
    // Found live, when the first call after the 0.25 s write returns (0.4 s), not at the end of the run.
    expect(v[0]).toMatchObject({ invariant: "lru-drain-complete", cpu: 1 });
    expect(v[0]!.time_ns).toBeGreaterThanOrEqual(400 * MS);
    expect(v[0]!.time_ns).toBeLessThan(401 * MS);
    expect(v[0]!.detail).toBe("lru_add_drain_all() by lru-drain-all/0 returned with 3 page(s) still in CPU 1's batch since before the call");
  });

  it("reports lru-conservation when a batch operation drops a page", () => {
    const dropping: Mechanism = {
      name: "drop-page",
      description: "a pagevec_add() that loses every fifth page",
      install(k) {
        const add = k.lru.ops.add;
        let n = 0;
        k.lru.ops.add = (cpu, list) => {
          if (++n % 5 !== 0) add(cpu, list);
        };
      },
    };
    const { report } = simulate(scenario([writeOn1]), { mechanisms: [dropping] });
    const v = report.invariants.violations.filter((x) => x.invariant === "lru-conservation");
    // Found live, at the second write (0.75 s: its 2nd page is the 5th added), then at each later loss.
    expect(v.length).toBeGreaterThan(1);
    expect(v[0]).toMatchObject({ invariant: "lru-conservation", cpu: 1 });
    expect(v[0]!.time_ns).toBeGreaterThanOrEqual(750 * MS);
    expect(v[0]!.time_ns).toBeLessThan(751 * MS);
    expect(v[0]!.detail).toBe("pages added 5 != on LRU lists 0 + in batches 4");
  });

  describe("the other 4.9 pagevecs lru_add_drain_all() checks (rotate, deactivate_file, deactivate, activate)", () => {
    /**
     * A block I/O completion interrupt on `cpu` at `at` ends the writeback of a page reclaim marked
     * PG_reclaim: end_page_writeback() → rotate_reclaimable_page() queues it in lru_rotate_pvecs.
     */
    const writebackEnd = (at: number, cpu: number): Mechanism => ({
      name: "writeback-end",
      description: "one rotate_reclaimable_page() from a block I/O completion interrupt",
      install(k) {
        const kind = k.engine.register("blk_complete_rq", () => {
          k.irq.raise(cpu, segment("blk_mq_complete_request", 100, Context.irq, { start: () => k.lru.lruMovePage(cpu, LruPvec.rotate) }));
        });
        k.engine.schedule(at, kind, cpu, 0, EventPriority.hardware);
      },
    });

    it("a CPU whose only non-empty pagevec is activate_page_pvecs is drained (need_activate_page_drain())", () => {
      const spec = scenario([{ type: "lru-drain-all", cpus: "0", every: 100 * S, at: 500 * MS }], { duration: S });
      const k = buildKernel(spec);
      k.engine.runUntil(300 * MS);
      k.lru.lruMovePage(3, LruPvec.activate);
      expect(k.lru.batchCount(3)).toBe(0);
      expect(k.lru.cpuNeedsDrain(3)).toBe(true);
      const before = k.accounting.cpus[3]!.counts[Src.kworker_lru_drain]!;
      k.engine.runUntil(S);
      expect(k.accounting.cpus[3]!.counts[Src.kworker_lru_drain]! - before).toBe(1);
      expect(k.lru.movePending(3)).toBe(0);
      k.finish();
      expect(buildReport(k, spec).invariants.violations).toEqual([]);
    });

    it("a full pagevec (PAGEVEC_SIZE) is moved at once, with nothing left to drain", () => {
      const k = buildKernel(scenario([]));
      for (let i = 0; i < 13; i++) k.lru.lruMovePage(2, LruPvec.deactivate_file);
      expect(k.lru.movePending(2)).toBe(13);
      k.lru.lruMovePage(2, LruPvec.deactivate_file);
      expect(k.lru.movePending(2)).toBe(0);
      expect(k.lru.cpuNeedsDrain(2)).toBe(false);
    });

    it("a writeback completion interrupt on an isolated CPU fills lru_rotate_pvecs, and the next lru_add_drain_all() queues a kworker there", () => {
      const { report } = simulate(scenario([drainEvery200ms], { duration: S }), { mechanisms: [writebackEnd(300 * MS, 2)] });
      expect(report.cpus[2]!.interruptions.kworker_lru_drain).toBe(1);
      expect(report.invariants.violations).toEqual([]);
    });

    it("reports lru-drain-complete when the drain body empties lru_add_pvec only", () => {
      const addOnly: Mechanism = {
        name: "add-pvec-only",
        description: "an lru_add_drain_cpu() that forgets the rotate/deactivate/activate pagevecs",
        install(k) {
          k.lru.ops.drainLocal = (cpu) => k.lru.pagevecLruAdd(cpu, cpu);
        },
      };
      const { report } = simulate(scenario([drainEvery200ms], { duration: S }), { mechanisms: [writebackEnd(300 * MS, 2), addOnly] });
      const v = report.invariants.violations.filter((x) => x.invariant === "lru-drain-complete");
      expect(v.length).toBeGreaterThan(0);
      expect(v[0]!.cpu).toBe(2);
      expect(v[0]!.time_ns).toBeGreaterThan(400 * MS);
      expect(v[0]!.time_ns).toBeLessThan(401 * MS);
      expect(v[0]!.detail).toMatch(/lru_add_drain_all\(\) by lru-drain-all\/0 returned with 1 page\(s\) still in CPU 2's lru_rotate_pvecs since before the call/);
    });
  });
});
