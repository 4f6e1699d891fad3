import type { Kernel } from "../kernel.js";
import { Context, segment } from "../machine/cpu.js";
import { Src } from "../accounting/sources.js";
import type { WorkloadSpec } from "../scenario.js";
import { TaskState } from "../sched/task.js";
import type { Task } from "../sched/task.js";
import { onSyscall } from "../workload/workload.js";
import { periodic } from "../workload/periodic.js";
import { KernelMutex, initWork, kernelStep } from "../workqueue/workqueue.js";
import type { WorkStruct, WorkqueueStruct } from "../workqueue/workqueue.js";
import { VmItem } from "./vmstat.js";

/** The LRU lists pages are added to (enum lru_list, reduced): a page's list decides its vmstat counters. */
export const LruList = {
  /** LRU_INACTIVE_FILE: page-cache pages (file writes). */
  inactive_file: 0,
  /** LRU_ACTIVE_ANON: anonymous pages (page faults). */
  active_anon: 1,
  /** LRU_UNEVICTABLE: mlock'd pages. */
  unevictable: 2,
} as const;

/** One of {@link LruList}'s values. */
export type LruListId = (typeof LruList)[keyof typeof LruList];

/**
 * The per-CPU pagevecs of 4.9 besides lru_add_pvec (mm/swap.c): each holds pages already on an LRU
 * list that wait to be moved within it, and lru_add_drain_all() drains a CPU whose any one is not
 * empty. The model keeps their counts (what decides a drain) but not the moves inside the LRU: its
 * lists do not split active and inactive file pages.
 */
export const LruPvec = {
  /** lru_rotate_pvecs: rotate_reclaimable_page() at the end of writeback of a page reclaim marked PG_reclaim (interrupt context). */
  rotate: 0,
  /** lru_deactivate_file_pvecs: deactivate_file_page() of a page invalidate_mapping_pages() could not drop (fadvise(POSIX_FADV_DONTNEED), drop_caches). */
  deactivate_file: 1,
  /** lru_deactivate_pvecs: deactivate_page() of an anonymous page madvise(MADV_FREE) frees lazily. */
  deactivate: 2,
  /** activate_page_pvecs (need_activate_page_drain()): activate_page() from mark_page_accessed() of a PG_referenced page on the LRU. */
  activate: 3,
} as const;

/** One of {@link LruPvec}'s values. */
export type LruPvecId = (typeof LruPvec)[keyof typeof LruPvec];

const NR_MOVE_PVECS = 4;
const movePvecNames = ["lru_rotate_pvecs", "lru_deactivate_file_pvecs", "lru_deactivate_pvecs", "activate_page_pvecs"] as const;

const zoneItem = [VmItem.NR_ZONE_INACTIVE_FILE, VmItem.NR_ZONE_ACTIVE_ANON, VmItem.NR_ZONE_UNEVICTABLE] as const;
const nodeItem = [VmItem.NR_INACTIVE_FILE, VmItem.NR_ACTIVE_ANON, VmItem.NR_UNEVICTABLE] as const;

/**
 * The per-CPU batch operations (mm/swap.c), replaceable so a mechanism can put a per-CPU lock around
 * them (lru-spinlock-drain). Each touches only the batch of the CPU it names; callers go through
 * {@link Lru.lruCacheAdd}, {@link Lru.lruAddDrainCpu} and {@link Lru.drainRemote}, which check
 * lru-conservation after each.
 */
export interface LruBatchOps {
  /** __lru_cache_add() on `cpu`: pagevec_add() to its batch; a full batch goes to the LRU lists. */
  add(cpu: number, list: LruListId): void;
  /** lru_add_drain_cpu(cpu) run by `cpu` itself (lru_add_drain()): its add batch goes to the LRU lists and its other pagevecs ({@link LruPvec}) are emptied; returns pages moved. */
  drainLocal(cpu: number): number;
  /** lru_add_drain_cpu(cpu) run by another CPU `by` (the 2016 remote-drain idea), all its pagevecs; returns pages moved. */
  drainRemote(cpu: number, by: number): number;
}

/**
 * Per-CPU LRU batches (pagevecs) and lru_add_drain_all() (mm/swap.c): pages a CPU adds wait in its
 * batch of PAGEVEC_SIZE until it fills or is drained; lru_add_drain_all() queues
 * lru_add_drain_per_cpu on every CPU with a non-empty batch and flush_work()s each.
 */
export class Lru {
  /**
   * Per-CPU batches (lru_add_pvec): the list each waiting page goes to, CPU `cpu`'s
   * {@link pvecCount} pages at slots cpu * {@link pvecStride} onwards.
   */
  pvecs: Uint8Array;
  /** Pages in each CPU's batch (pagevec_count()). */
  readonly pvecCount: Int32Array;
  /** Slots per CPU in {@link pvecs} (PAGEVEC_SIZE; more if a batch ever outgrew it). */
  pvecStride: number;
  /** Pages on each LRU list. */
  readonly lists: number[] = [0, 0, 0];
  /** Pages ever added (the conservation reference). */
  added = 0;
  /** Pages added per CPU (page serials for lru-drain-complete). */
  readonly addedOn: number[];
  /** Pages in each CPU's {@link LruPvec} pagevecs, at cpu * 4 + pvec. */
  readonly movePvecCount: Int32Array;
  /** Pages ever queued in each CPU's {@link LruPvec} pagevecs, at cpu * 4 + pvec (serials for lru-drain-complete). */
  readonly movedOn: Float64Array;
  /** Pages callers hold while they wait for a batch lock to add them (lru-spinlock-drain): lru-conservation counts them. */
  waiting = 0;
  /** lru_drain_gen (v5.11+; counted always, consulted only with param lru_drain_gen). */
  drainGen = 0;
  /** The static mutex of lru_add_drain_all(). */
  readonly drainMutex: KernelMutex;
  /** Per-CPU lru_add_drain_work (lru_add_drain_per_cpu). */
  readonly drainWork: WorkStruct[];
  /** lru_add_drain_wq (4.9: alloc_workqueue("lru-add-drain", WQ_MEM_RECLAIM); mm_percpu_wq from 4.11). */
  readonly wq: WorkqueueStruct;
  /** The batch operations (replaceable; see {@link LruBatchOps}). */
  ops: LruBatchOps;
  /**
   * Policy: the body of lru_add_drain_all() run by `caller` (the current task of its CPU), which
   * calls `done` when it returns; it may sleep. The lru-spinlock-drain mechanism replaces it.
   */
  drainAll: (caller: Task, done: () => void) => void;
  private readonly seen: number[];
  private seenSum = 0;
  private drift = 0;

  constructor(private readonly k: Kernel) {
    this.pvecStride = Math.max(1, k.params.pagevecSize);
    this.pvecs = new Uint8Array(k.nrCpus * this.pvecStride);
    this.pvecCount = new Int32Array(k.nrCpus);
    this.addedOn = new Array<number>(k.nrCpus).fill(0);
    this.movePvecCount = new Int32Array(k.nrCpus * NR_MOVE_PVECS);
    this.movedOn = new Float64Array(k.nrCpus * NR_MOVE_PVECS);
    this.seen = new Array<number>(k.nrCpus).fill(0);
    this.drainMutex = new KernelMutex(k, "lru_add_drain_all.lock");
    this.wq = k.workqueue.allocWorkqueue("lru-add-drain", { memReclaim: true });
    const drain = (cpu: number): void => {
      this.lruAddDrainCpu(cpu);
    };
    this.drainWork = Array.from({ length: k.nrCpus }, () => initWork("lru_add_drain_per_cpu", drain, "kworker_lru_drain", k.params.kworkerWorkNs));
    this.ops = {
      add: (cpu, list) => {
        const n = this.pvecCount[cpu]!;
        if (n === this.pvecStride) this.growPvecs();
        this.pvecs[cpu * this.pvecStride + n] = list;
        this.pvecCount[cpu] = n + 1;
        if (n + 1 >= k.params.pagevecSize) this.pagevecLruAdd(cpu, cpu);
      },
      drainLocal: (cpu) => this.pagevecLruAdd(cpu, cpu) + this.movePvecsDrain(cpu),
      drainRemote: (cpu, by) => this.pagevecLruAdd(cpu, by) + this.movePvecsDrain(cpu),
    };
    this.drainAll = (caller, done) => this.lruAddDrainAllMutex(caller, done);
    k.invariants.check("lru-conservation");
    k.invariants.check("lru-drain-complete");
    k.invariants.atEnd.push(() => this.checkAll());
    onSyscall(k, "file-write", (cpu, _task, pages) => {
      for (let i = 0; i < pages; i++) this.lruCacheAdd(cpu, LruList.inactive_file);
    });
    onSyscall(k, "page-fault", (cpu, _task, pages) => {
      for (let i = 0; i < pages; i++) this.lruCacheAdd(cpu, LruList.active_anon);
    });
    onSyscall(k, "mlock", (cpu, task, pages) => {
      const populate = (): void => this.mlockPages(cpu, pages);
      if (!k.params.mlockDrainsAll) {
        populate();
        return;
      }
      return [segment("lru_add_drain_all", 0, Context.kernel, { own: true, end: () => this.lruAddDrainAll(task, populate) })];
    });
  }

  /** Pages waiting in `cpu`'s batch (pagevec_count()). */
  batchCount(cpu: number): number {
    return this.pvecCount[cpu]!;
  }

  /** Doubles {@link pvecStride}, every batch kept (only a batch op that does not drain at PAGEVEC_SIZE can need it). */
  private growPvecs(): void {
    const old = this.pvecs, oldStride = this.pvecStride, stride = 2 * oldStride;
    const pvecs = new Uint8Array(this.k.nrCpus * stride);
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) pvecs.set(old.subarray(cpu * oldStride, cpu * oldStride + this.pvecCount[cpu]!), cpu * stride);
    this.pvecs = pvecs;
    this.pvecStride = stride;
  }

  /**
   * Whether `cpu` has pages to drain: 4.9 lru_add_drain_all()'s pagevec_count() of lru_add_pvec,
   * lru_rotate_pvecs, lru_deactivate_file_pvecs, lru_deactivate_pvecs and need_activate_page_drain();
   * 6.1 cpu_needs_drain().
   */
  cpuNeedsDrain(cpu: number): boolean {
    return this.pvecCount[cpu]! > 0 || this.movePending(cpu) > 0;
  }

  /** Pages waiting in `cpu`'s {@link LruPvec} pagevecs. */
  movePending(cpu: number): number {
    const c = this.movePvecCount, b = cpu * NR_MOVE_PVECS;
    return c[b]! + c[b + 1]! + c[b + 2]! + c[b + 3]!;
  }

  /**
   * A page already on an LRU list queued in `cpu`'s pagevec `pvec` (rotate_reclaimable_page(),
   * deactivate_file_page(), deactivate_page(), activate_page()): pagevec_add(); a full pagevec is
   * moved at once (pagevec_lru_move_fn()). The page stays counted on its list (lru-conservation).
   */
  lruMovePage(cpu: number, pvec: LruPvecId): void {
    const at = cpu * NR_MOVE_PVECS + pvec;
    const n = this.movePvecCount[at]! + 1;
    this.movedOn[at] = this.movedOn[at]! + 1;
    this.movePvecCount[at] = n >= this.k.params.pagevecSize ? 0 : n;
  }

  /** The rest of lru_add_drain_cpu(cpu) after lru_add_pvec: pagevec_move_tail(), the two deactivate moves, activate_page_drain(); returns pages moved. */
  private movePvecsDrain(cpu: number): number {
    const n = this.movePending(cpu);
    if (n > 0) this.movePvecCount.fill(0, cpu * NR_MOVE_PVECS, (cpu + 1) * NR_MOVE_PVECS);
    return n;
  }

  /** lru_cache_add() of one page on `cpu` (through ops.add), then the lru-conservation check. */
  lruCacheAdd(cpu: number, list: LruListId): void {
    this.added++;
    this.addedOn[cpu] = this.addedOn[cpu]! + 1;
    this.ops.add(cpu, list);
    this.checkConservation(cpu);
  }

  /** lru_add_drain_cpu(cpu) by `cpu` itself (lru_add_drain(), the body of lru_add_drain_per_cpu). */
  lruAddDrainCpu(cpu: number): number {
    const n = this.ops.drainLocal(cpu);
    this.checkConservation(cpu);
    return n;
  }

  /** lru_add_drain_cpu(cpu) run by CPU `by` on another CPU's batch. */
  drainRemote(cpu: number, by: number): number {
    const n = this.ops.drainRemote(cpu, by);
    this.checkConservation(cpu);
    return n;
  }

  /**
   * __pagevec_lru_add(): move the batch of `cpu` to the LRU lists; update_lru_size() changes the
   * vmstat diffs of `by`, the CPU running it (this_cpu). Returns pages moved.
   */
  pagevecLruAdd(cpu: number, by: number): number {
    const n = this.pvecCount[cpu]!;
    const pvecs = this.pvecs;
    const base = cpu * this.pvecStride;
    const vm = this.k.vmstat;
    for (let i = 0; i < n; i++) {
      const list = pvecs[base + i] as LruListId;
      this.lists[list] = this.lists[list]! + 1;
      vm.modState(by, zoneItem[list], 1);
      vm.modState(by, nodeItem[list], 1);
    }
    this.pvecCount[cpu] = 0;
    return n;
  }

  /**
   * mlock of `pages` new pages on `cpu`: 4.9 puts them straight on the unevictable list
   * (add_page_to_unevictable_list(), NR_MLOCK); with mlock_batch (v5.18+) they wait in the batch.
   */
  private mlockPages(cpu: number, pages: number): void {
    const vm = this.k.vmstat;
    for (let i = 0; i < pages; i++) {
      vm.modState(cpu, VmItem.NR_MLOCK, 1);
      if (this.k.params.mlockBatch) {
        this.lruCacheAdd(cpu, LruList.unevictable);
        continue;
      }
      this.added++;
      this.addedOn[cpu] = this.addedOn[cpu]! + 1;
      this.lists[LruList.unevictable] = this.lists[LruList.unevictable]! + 1;
      vm.modState(cpu, VmItem.NR_ZONE_UNEVICTABLE, 1);
      vm.modState(cpu, VmItem.NR_UNEVICTABLE, 1);
      this.checkConservation(cpu);
    }
  }

  /**
   * lru_add_drain_all() called by `caller`, the current task of its CPU (kernel context; it may
   * sleep): counts the call, runs the {@link drainAll} policy, and when it returns checks
   * lru-drain-complete — no page that sat in a batch at the call is still in one — then `done`.
   */
  lruAddDrainAll(caller: Task, done: () => void): void {
    const k = this.k;
    if (k.measuring()) k.housekeepingStats.lruDrains++;
    const snap: [cpu: number, added: number, moved: Float64Array][] = [];
    for (let cpu = 0; cpu < k.nrCpus; cpu++) {
      if (this.cpuNeedsDrain(cpu)) snap.push([cpu, this.addedOn[cpu]!, this.movedOn.slice(cpu * NR_MOVE_PVECS, (cpu + 1) * NR_MOVE_PVECS)]);
    }
    k.trace?.instant(caller.cpu, `lru_add_drain_all: ${snap.length} CPUs with pages in batches`, k.engine.now);
    this.drainAll(caller, () => {
      for (const [cpu, addedAtCall, movedAtCall] of snap) {
        k.invariants.evaluate("lru-drain-complete");
        const oldest = this.addedOn[cpu]! - this.pvecCount[cpu]!;
        if (oldest < addedAtCall) {
          k.invariants.violate("lru-drain-complete", cpu, `lru_add_drain_all() by ${caller.name} returned with ${addedAtCall - oldest} page(s) still in CPU ${cpu}'s batch since before the call`);
        }
        for (let pvec = 0; pvec < NR_MOVE_PVECS; pvec++) {
          const at = cpu * NR_MOVE_PVECS + pvec;
          const oldest = this.movedOn[at]! - this.movePvecCount[at]!;
          if (oldest < movedAtCall[pvec]!) {
            k.invariants.violate("lru-drain-complete", cpu, `lru_add_drain_all() by ${caller.name} returned with ${movedAtCall[pvec]! - oldest} page(s) still in CPU ${cpu}'s ${movePvecNames[pvec]} since before the call`);
          }
        }
      }
      done();
    });
  }

  /**
   * The 4.9 body (mm/swap.c lru_add_drain_all()): mutex_lock; for each online CPU with a non-empty
   * batch, queue_work_on(cpu, lru_add_drain_wq, lru_add_drain_work); flush_work() each; unlock.
   * With lru_drain_gen (v5.11+ __lru_add_drain_all()), a caller that sees a newer generation once it
   * holds the mutex returns at once: a drain that started after its call has completed.
   */
  private lruAddDrainAllMutex(caller: Task, done: () => void): void {
    const k = this.k;
    const thisGen = this.drainGen;
    this.drainMutex.lock(caller, () => {
        if (k.params.lruDrainGen && thisGen !== this.drainGen) {
          this.drainMutex.unlock(caller);
          done();
          return;
        }
        this.drainGen++;
        const hasWork: number[] = [];
        for (let cpu = 0; cpu < k.nrCpus; cpu++) if (this.cpuNeedsDrain(cpu)) hasWork.push(cpu);
        // One step at a time: `cpu` and `ns` are those of the step in progress, and each kind of step
        // has one end effect for the whole call (no closures per CPU).
        let q = 0;
        let f = 0;
        let cpu = -1;
        let ns = 0;
        const flushNext = (): void => {
          const next = hasWork[f++];
          if (next === undefined) {
            this.drainMutex.unlock(caller);
            done();
            return;
          }
          cpu = next;
          ns = k.params.flushWorkNs;
          kernelStep(caller, "flush_work", ns, flushed);
        };
        const flushed = (): void => {
          this.chargeCallerStep(caller, ns, cpu);
          if (!k.workqueue.flushWork(this.drainWork[cpu]!, caller, flushNext)) flushNext();
        };
        const queueNext = (): void => {
          const next = hasWork[q++];
          if (next === undefined) {
            flushNext();
            return;
          }
          cpu = next;
          ns = k.params.queueWorkNs;
          kernelStep(caller, "queue_work_on", ns, queued);
        };
        const queued = (): void => {
          this.chargeCallerStep(caller, ns, cpu);
          k.workqueue.queueWorkOn(cpu, this.wq, this.drainWork[cpu]!);
          queueNext();
        };
        queueNext();
    });
  }

  /** A costed step of the caller on behalf of `target`; time a housekeeping CPU spends for an isolated one is housekeeping noise. */
  callerStep(caller: Task, name: string, ns: number, target: number, next: () => void): void {
    kernelStep(caller, name, ns, () => {
      this.chargeCallerStep(caller, ns, target);
      next();
    });
  }

  /** At the end of a {@link callerStep} of `ns` for `target`: the housekeeping noise it counts, if any. */
  private chargeCallerStep(caller: Task, ns: number, target: number): void {
    const k = this.k;
    if (k.measuring() && k.cpus[target]!.nohzFull && !k.cpus[caller.cpu]!.nohzFull) k.housekeepingStats.noiseNs += ns;
  }

  /** lru-conservation after an operation on `cpu`: pages added = pages on LRU lists + pages in batches (+ waiting); also for an operation that completed later, under a contended lock. */
  checkConservation(cpu: number): void {
    const n = this.pvecCount[cpu]!;
    this.seenSum += n - this.seen[cpu]!;
    this.seen[cpu] = n;
    this.compare(cpu);
  }

  private compare(cpu: number): void {
    this.k.invariants.evaluate("lru-conservation");
    const onLists = this.lists[0]! + this.lists[1]! + this.lists[2]!;
    const have = onLists + this.seenSum + this.waiting + this.drift;
    if (have !== this.added) {
      this.k.invariants.violate("lru-conservation", cpu, `pages added ${this.added} != on LRU lists ${onLists} + in batches ${this.seenSum}${this.waiting ? ` + waiting for a batch lock ${this.waiting}` : ""}${this.drift ? ` (earlier discrepancy ${this.drift})` : ""}`);
      this.drift += this.added - have;
    }
  }

  /** End of run: every batch counted afresh. */
  private checkAll(): void {
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) {
      const n = this.pvecCount[cpu]!;
      this.seenSum += n - this.seen[cpu]!;
      this.seen[cpu] = n;
    }
    this.compare(-1);
  }
}

/**
 * The `lru-drain-all` workload: a kernel thread per listed CPU (`lru-drain-all/N`, standing for
 * kcompactd, migration or `blockdev --flushbufs`) calls lru_add_drain_all() at each firing; with
 * `pcp`, then drain_all_pages() (alloc_contig_range() and offline_pages() of 4.9 call both, in that
 * order: mm/page_alloc.c, mm/memory_hotplug.c).
 */
export function lruDrainAllWorkload(k: Kernel, spec: WorkloadSpec, cpus: number[], field: string): void {
  if (spec.type !== "lru-drain-all") return;
  const callers = new Map<number, { task: Task; requests: number; busy: boolean }>();
  for (const cpu of cpus) {
    const task = k.sched.createTask({ name: `lru-drain-all/${cpu}`, cpu, user: false, role: "other" });
    const st = { task, requests: 0, busy: false };
    const idle = (): void => {
      st.busy = false;
    };
    const drainPages = (): void => k.pcp.drainAllPages(task, idle);
    task.onIdle = () => {
      if (st.busy || st.requests === 0) return;
      st.requests--;
      st.busy = true;
      task.segs.push(
        segment("lru_add_drain_all", k.params.syscallNs, Context.kernel, {
          source: Src.kthread,
          end: () => k.lru.lruAddDrainAll(task, spec.pcp ? drainPages : idle),
        }),
      );
    };
    callers.set(cpu, st);
  }
  periodic(k, `${field}:lru-drain-all`, spec, cpus, (cpu) => {
    const st = callers.get(cpu)!;
    st.requests++;
    if (!st.busy && st.task.state === TaskState.sleeping) k.sched.wakeUp(st.task, cpu);
  });
}
