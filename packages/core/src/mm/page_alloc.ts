import type { Nanoseconds } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import { Context, segment } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import type { Task } from "../sched/task.js";
import { onSyscall } from "../workload/workload.js";

/**
 * zone_batchsize() (mm/page_alloc.c, 4.9) of a zone of `managedPages` pages: about a thousandth of the
 * zone, at most 512 KiB, divided by 4, then rounded to a 2^n - 1 value (31 for a zone of 1 GiB or more).
 */
export function zoneBatchsize(managedPages: number): number {
  let batch = Math.floor(managedPages / 1024);
  if (batch * 4096 > 512 * 1024) batch = (512 * 1024) / 4096;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return 2 ** Math.floor(Math.log2(batch + Math.floor(batch / 2))) - 1;
}

/**
 * The per-CPU page lists of the zone (struct per_cpu_pages of zone->pageset, mm/page_alloc.c, 4.9):
 * order-0 allocations take pages from the CPU's list, refilled `batch` pages at a time from the buddy
 * allocator when empty (buffered_rmqueue() → rmqueue_bulk()); frees put pages back on it and give
 * `batch` back past `high` (free_hot_cold_page()). Pages a CPU once allocated therefore stay on its
 * list until something drains it: drain_all_pages() reaches every CPU whose list is not empty with a
 * call-function IPI (on_each_cpu_mask(cpus_with_pcps, drain_local_pages, zone, 1)).
 */
export class PerCpuPages {
  /** pcp->count of each CPU: pages on its lists. */
  readonly count: Int32Array;
  /** pcp->batch (zone_batchsize(); pageset_set_batch()). */
  readonly batch: number;
  /** pcp->high (6 × batch, pageset_set_batch()). */
  readonly high: number;
  /** drain_all_pages() calls in the measured window. */
  drainAllCalls = 0;
  /** Remote CPUs drain_all_pages() sent its IPI to, in the measured window. */
  drainIpis = 0;

  constructor(private readonly k: Kernel) {
    this.count = new Int32Array(k.nrCpus);
    // pageset_set_batch(): high = 6 × batch, batch at least 1.
    const batch = zoneBatchsize(k.params.vmstatManagedMb * 256);
    this.batch = Math.max(1, batch);
    this.high = Math.max(this.batch, 6 * batch);
    const alloc = (cpu: number, _task: Task, pages: number): void => {
      for (let i = 0; i < pages; i++) this.allocPage(cpu);
    };
    onSyscall(k, "file-write", alloc);
    onSyscall(k, "page-fault", alloc);
    onSyscall(k, "mlock", alloc);
  }

  /** An order-0 page allocated on `cpu` (buffered_rmqueue()): an empty list is refilled with `batch` pages first (rmqueue_bulk()). */
  allocPage(cpu: number): void {
    let n = this.count[cpu]!;
    if (n === 0) n = this.batch;
    this.count[cpu] = n - 1;
  }

  /** An order-0 page freed on `cpu` (free_hot_cold_page()): onto its list; at `high`, `batch` pages go back to the buddy allocator (free_pcppages_bulk()). */
  freePage(cpu: number): void {
    let n = this.count[cpu]! + 1;
    if (n >= this.high) n -= this.batch;
    this.count[cpu] = n;
  }

  /** drain_local_pages(NULL) on `cpu` (drain_pages() → free_pcppages_bulk()): every page of its lists back to the buddy allocator; returns how many. */
  drainLocalPages(cpu: number): number {
    const n = this.count[cpu]!;
    this.count[cpu] = 0;
    return n;
  }

  /**
   * drain_all_pages(NULL) called by `caller` (mm/page_alloc.c, 4.9; alloc_contig_range(),
   * offline_pages(), __alloc_pages_direct_reclaim() after a failed retry, set_migratetype_isolate()):
   * the CPUs whose lists hold pages form cpus_with_pcps; on_each_cpu_mask(..., wait = 1) sends each
   * other one a call-function IPI running drain_local_pages() (`ipi_call_function`), spins until
   * every handler has run (smp_call_function_many() → csd_lock_wait()), then drains the caller's own
   * lists if they are in the mask. Calls `done` when it returns. A housekeeping caller's spin for
   * isolated CPUs counts in `housekeeping.noise_ns`.
   */
  drainAllPages(caller: Task, done: () => void): void {
    const k = this.k;
    const from = caller.cpu;
    if (k.measuring()) this.drainAllCalls++;
    let unstarted = 0;
    let doneAt = k.engine.now;
    let self = false;
    let isolated = 0;
    const cost = k.params.ipiHandlerNs;
    const handler = (): void => {
      this.drainLocalPages(k.executingCpu);
      unstarted--;
      doneAt = Math.max(doneAt, k.engine.now + cost);
    };
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      if (this.count[cpu]! === 0) continue;
      if (cpu === from) {
        self = true;
        continue;
      }
      unstarted++;
      if (k.cpus[cpu]!.nohzFull) isolated++;
      if (k.measuring()) this.drainIpis++;
      k.irq.callFunctionSingle(from, cpu, "drain_local_pages", handler);
    }
    k.trace?.instant(from, `drain_all_pages: ${unstarted + (self ? 1 : 0)} CPUs with pages on their per-CPU lists`, k.engine.now);
    const finish = (): void => {
      if (self) this.drainLocalPages(from);
      done();
    };
    // Time a housekeeping caller spins for isolated CPUs is housekeeping noise (a draining caller's).
    const forIsolated = isolated > 0 && !k.cpus[from]!.nohzFull;
    const wait = (): Segment => {
      const ns = unstarted === 0 ? Math.max(0, doneAt - k.engine.now) : k.params.ipiLatencyNs;
      return segment("csd_lock_wait", ns as Nanoseconds, Context.kernel, {
        end: () => {
          if (forIsolated && k.measuring()) k.housekeepingStats.noiseNs += ns;
          if (unstarted > 0 || k.engine.now < doneAt) caller.segs.unshift(wait());
          else finish();
        },
      });
    };
    if (unstarted === 0) {
      finish();
      return;
    }
    caller.segs.unshift(wait());
  }
}
