import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import type { Kernel } from "../kernel.js";

const MS = 1_000_000;
const PAGES = 1023;

function scenario(workload: WorkloadSpec[], duration = 200 * MS + MS / 2): ScenarioSpec {
  return {
    name: "vmalloc-churn",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7" },
    workload: [{ type: "user-loop", cpus: "1-7" }, ...workload],
  };
}

/** Purges expected from vfree() alone: each vfree adds its pages and a guard page; past lazy_max_pages() one purge takes them all. */
function expectedPurges(vfrees: number, pagesPerVfree: number, nrCpus: number): number {
  const lazyMax = (32 - Math.clz32(nrCpus)) * ((32 << 20) / 4096);
  let lazy = 0, purges = 0;
  for (let i = 0; i < vfrees; i++) {
    lazy += pagesPerVfree;
    if (lazy > lazyMax) {
      purges++;
      lazy = 0;
    }
  }
  return purges;
}

/** Replaces flush_tlb_kernel_range()'s policy with a broken on_each_cpu() that forgets `skip`. */
function skipCpuInFlush(k: Kernel, skip: number): void {
  k.tlb.flushKernelRange = (f) => {
    for (let cpu = 0; cpu < k.nrCpus; cpu++) if (cpu !== f.from && cpu !== skip) k.tlb.sendFlushIpi(f, cpu);
    f.localNs += k.tlb.flushLocal(f.from, f);
  };
}

/** A driver on `cpu` reads, at every kernel entry, the buffer CPU 0's churn has vmalloc'd (when one is live). */
function readChurnBufferAtEntry(k: Kernel, cpu: number): void {
  k.entry.on("deferred_work", (c) => {
    if (c !== cpu) return;
    const buf = k.vmalloc.areas.find((a) => a.state === "busy" && a.pages === PAGES);
    if (buf) k.tlb.touch(c, buf.start);
  });
}

describe("vmalloc lazy purge and kernel TLB flushes (linux-4.9)", () => {
  it("lazy_max_pages() is fls(online CPUs) * 32 MiB / 4 KiB", () => {
    const at = (cpus: number): number => buildKernel({ ...scenario([]), kernel: { preset: "linux-4.9", cpus }, workload: [] }).vmalloc.lazyMaxPages();
    expect(at(1)).toBe(8192);
    expect(at(8)).toBe(4 * 8192);
    expect(at(64)).toBe(7 * 8192);
  });

  it("vmalloc-churn on CPU 0 IPIs every isolated CPU once per purge, one flush_tlb_kernel_range() each", () => {
    const { kernel: k, report } = simulate(scenario([{ type: "vmalloc-churn", cpus: "0", every: MS, pages: PAGES }]));
    const purges = expectedPurges(200, PAGES + 1, 8);
    expect(purges).toBe(6);
    expect(k.vmalloc.purges).toBe(purges);
    expect(report.housekeeping.tlb_flushes).toBe(purges);
    expect(report.cpus[0]!.interruptions.ipi_tlb_flush).toBe(0);
    for (const c of report.cpus.slice(1)) {
      expect(c.isolated).toBe(true);
      expect(c.interruptions.ipi_tlb_flush).toBe(purges);
      expect(c.interruptions.kthread).toBe(0);
    }
    expect(k.tlb.stats.fullFlushes).toBe(purges);
    expect(report.invariants.checked).toContain("tlb-no-stale");
    expect(report.invariants.violations).toEqual([]);
  });

  it("re-maps the purged addresses: the first vmalloc after a purge gets the lowest freed range again", () => {
    const k = buildKernel(scenario([{ type: "vmalloc-churn", cpus: "0", every: MS, pages: PAGES }]));
    const starts: number[] = [];
    const vmalloc = k.vmalloc.vmalloc.bind(k.vmalloc);
    k.vmalloc.vmalloc = (pages, align) => {
      const a = vmalloc(pages, align);
      if (pages === PAGES) starts.push(a.start);
      return a;
    };
    k.engine.runUntil(70 * MS + MS / 2);
    expect(starts.length).toBe(70);
    expect(starts[33]).toBe(starts[0]);
    expect(starts[66]).toBe(starts[0]);
    expect(new Set(starts.slice(0, 33)).size).toBe(33);
  });

  it("reports tlb-no-stale when a flush skips a CPU that later reads a re-mapped buffer at kernel entry", () => {
    const spec = scenario(
      [
        { type: "vmalloc-churn", cpus: "0", every: MS, pages: PAGES },
        { type: "syscall", cpus: "3", every: MS / 10, call: "getpid" },
      ],
      40 * MS,
    );
    const run = (broken: boolean): Kernel => {
      const k = buildKernel(spec);
      if (broken) skipCpuInFlush(k, 3);
      readChurnBufferAtEntry(k, 3);
      k.engine.runUntil(spec.duration);
      k.finish();
      return k;
    };
    const good = run(false);
    expect(good.vmalloc.purges).toBe(1);
    expect(good.invariants.violations).toEqual([]);
    const bad = run(true);
    expect(bad.vmalloc.purges).toBe(1);
    const stale = bad.invariants.violations.filter((v) => v.invariant === "tlb-no-stale");
    expect(stale.length).toBeGreaterThan(0);
    expect(stale.every((v) => v.cpu === 3)).toBe(true);
    expect(stale[0]!.detail).toMatch(/freed and re-mapped/);
  });

  it("one purge frees areas vfree()d in any address order, and the lowest freed range is reused first", () => {
    const k = buildKernel(scenario([]));
    k.engine.runUntil(MS);
    k.executingCpu = 0;
    const areas = [0, 1, 2, 3, 4].map(() => k.vmalloc.vmalloc(8000));
    const kept = k.vmalloc.vmalloc(1);
    const work = [3, 1, 4, 0, 2].map((i) => k.vmalloc.vfree(areas[i]!));
    expect(work.map((w) => w.length)).toEqual([0, 0, 0, 0, 1]);
    const t = k.sched.createTask({ name: "purger", cpu: 0, user: false, role: "other" });
    t.segs.push(...work[4]!);
    k.sched.wakeUp(t, 0);
    expect(k.vmalloc.purging).toBe(true);
    k.engine.runUntil(2 * MS);
    expect(k.vmalloc.purging).toBe(false);
    expect(k.vmalloc.purges).toBe(1);
    expect(k.vmalloc.purgeList).toEqual([]);
    expect(k.vmalloc.lazyNr).toBe(0);
    for (const a of areas) expect(k.vmalloc.areas).not.toContain(a);
    expect(k.vmalloc.areas).toContain(kept);
    expect(k.vmalloc.vmalloc(8000).start).toBe(areas[0]!.start);
    expect(k.invariants.violations).toEqual([]);
  });

  it("__purge_vmap_area_lazy() subtracts vmap_lazy_nr before its flush, not after freeing the areas (4.9)", () => {
    const k = buildKernel(scenario([]));
    k.engine.runUntil(MS);
    k.executingCpu = 0;
    const areas = [0, 1, 2, 3, 4].map(() => k.vmalloc.vmalloc(8000));
    const work = areas.map((a) => k.vmalloc.vfree(a));
    expect(k.vmalloc.lazyNr).toBe(5 * 8001);
    const t = k.sched.createTask({ name: "purger", cpu: 0, user: false, role: "other" });
    t.segs.push(...work[4]!);
    let atFlush = -1;
    const policy = k.tlb.flushKernelRange;
    k.tlb.flushKernelRange = (f) => {
      atFlush = k.vmalloc.lazyNr;
      policy(f);
    };
    k.sched.wakeUp(t, 0);
    let now = MS;
    while (atFlush < 0 && now < 2 * MS) k.engine.runUntil((now += 100));
    // The flush is under way (IPIs in flight), the areas not yet free: vmap_lazy_nr already dropped.
    expect(k.vmalloc.purging).toBe(true);
    expect(atFlush).toBe(0);
    expect(k.vmalloc.lazyNr).toBe(0);
    expect(k.vmalloc.areas).toContain(areas[0]);
    k.engine.runUntil(2 * MS);
    expect(k.vmalloc.purging).toBe(false);
    expect(k.vmalloc.areas).not.toContain(areas[0]);
  });

  it("counts each vmalloc-churn round as a kthread run on its CPU, housekeeping or isolated", () => {
    const { report } = simulate(scenario([{ type: "vmalloc-churn", cpus: "0,5", every: 10 * MS, pages: 4 }], 100 * MS + MS / 2));
    expect(report.cpus[0]!.interruptions.kthread).toBe(10);
    expect(report.cpus[5]!.interruptions.kthread).toBe(10);
    expect(report.cpus[4]!.interruptions.kthread).toBe(0);
  });

  it("rejects a vmalloc-churn without a positive page count", () => {
    expect(() => buildKernel(scenario([{ type: "vmalloc-churn", cpus: "0", every: MS, pages: 0 }]))).toThrow(/workload\[1\]\.pages: 0 is not valid/);
  });
});
