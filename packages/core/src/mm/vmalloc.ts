import type { Kernel } from "../kernel.js";
import { Context, segment } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import type { KernelFlush, KernelPage } from "../arch/x86/tlb.js";
import { InputError } from "../params.js";
import { Src } from "../accounting/sources.js";
import type { Task } from "../sched/task.js";
import { periodic } from "../workload/periodic.js";
import type { WorkloadInstaller } from "../workload/workload.js";

/** Pages of the x86_64 vmalloc space, VMALLOC_START..VMALLOC_END (VMALLOC_SIZE_TB = 32, 4-level paging). */
export const VMALLOC_PAGES = (32 * 2 ** 40) / 4096;

/** What vfree() returns when it adds no work (frozen: shared by every call). */
const NO_SEGMENTS: readonly Segment[] = Object.freeze([]);

/** Pages per chunk of the modelled page table (a chunk of PTE generations is created at its first mapping). */
export const PTE_CHUNK_PAGES = 4096;

/** THREAD_SIZE in pages on x86_64 without KASAN (16 KiB; arch/x86/include/asm/page_64_types.h). */
export const THREAD_SIZE_PAGES = 4;

/** A vmalloc'd range (struct vmap_area, mm/vmalloc.c): pages counted from VMALLOC_START. */
export interface VmapArea {
  /** va_start, in pages. */
  readonly start: KernelPage;
  /** va_end, in pages: includes the guard page unless VM_NO_GUARD. */
  readonly end: KernelPage;
  /** Pages mapped (area->nr_pages): [start, start + pages). */
  readonly pages: number;
  /** VM_VM_AREA while in use; VM_LAZY_FREE once vfree()d, until __purge_vmap_area_lazy() frees it. */
  state: "busy" | "lazy";
}

/**
 * vmalloc space and its lazy TLB flushing (mm/vmalloc.c, 4.9): areas are allocated first-fit in
 * address order with the free_vmap_cache hint of alloc_vmap_area(); vfree() clears the PTEs at once
 * (vunmap_page_range()) but leaves the range busy on vmap_purge_list; when more than
 * lazy_max_pages() are waiting, __purge_vmap_area_lazy() flushes [min start, max end) once with
 * flush_tlb_kernel_range() and only then frees the ranges for reuse.
 */
export class KernelVmalloc {
  /** vmap_area_list: every allocated or lazily freed area, by address. */
  readonly areas: VmapArea[] = [];
  /** vmap_purge_list: areas vfree()d and not yet purged, in free order. */
  readonly purgeList: VmapArea[] = [];
  /** vmap_lazy_nr: pages (guard pages included) on vmap_purge_list. */
  lazyNr = 0;
  /** Purges started (each one flush_tlb_kernel_range()). */
  purges = 0;
  /** vmap_purge_lock is held (a purge waits for its flush); try_purge_vmap_area_lazy() then does nothing. */
  purging = false;
  /** PTE generation of page p at ptes[p >> 12][p & 4095], 0 when unmapped; a chunk of 4096 pages is created at its first mapping. */
  private readonly ptes: (Float64Array | undefined)[] = [];
  private mapSeq = 0;
  private freeCache: VmapArea | null = null;
  /** Where {@link freeCache} was in vmap_area_list when it was set (a hint: checked before use). */
  private freeCacheAt = -1;
  private cachedHoleSize = 0;
  private cachedAlign = 0;
  private readonly stacks = new Map<Task, VmapArea>();
  private readonly idleStacks: (VmapArea | null)[];
  /** The areas of {@link threadStack}: freeing one bumps {@link stackEpoch}. */
  private readonly stackAreas = new Set<VmapArea>();
  /** Bumped when a kernel stack's area is vfree()d or freed for reuse (its PTEs may change). */
  private stackEpoch = 0;
  /**
   * Per CPU, 4 slots: pid of the task whose stack the CPU last switched to (-1 idle, -2 none yet), the
   * stack's top page (-1 for init_stack, not vmalloc'd), that page's PTE generation, and the
   * {@link stackEpoch} they were read at. A busy area's PTEs change only once it is freed, so they
   * hold while the epoch does.
   */
  private readonly stackTop: Float64Array;

  constructor(private readonly k: Kernel) {
    this.idleStacks = new Array<VmapArea | null>(k.nrCpus).fill(null);
    this.stackTop = new Float64Array(4 * k.nrCpus);
    for (let cpu = 0; cpu < k.nrCpus; cpu++) this.stackTop[4 * cpu] = -2;
    for (const step of k.entry.touchesVmalloc) k.entry.on(step, this.touchStack);
  }

  /** The entry step that switches to the kernel stack (stack_switch) touches the stack's top page. */
  private readonly touchStack = (cpu: number): void => {
    const t = this.k.cpus[cpu]!.curr;
    const pid = t === null ? -1 : t.pid;
    const top = this.stackTop;
    const at = 4 * cpu;
    if (top[at] !== pid || top[at + 3] !== this.stackEpoch) {
      const stack = this.threadStack(cpu);
      const page = stack ? stack.start + stack.pages - 1 : -1;
      top[at] = pid;
      top[at + 1] = page;
      top[at + 2] = page >= 0 ? this.pteGen(page) : 0;
      top[at + 3] = this.stackEpoch;
    }
    const page = top[at + 1]!;
    if (page >= 0) this.k.tlb.touchGen(cpu, page, top[at + 2]!);
  };

  /** lazy_max_pages(): fls(num_online_cpus()) * 32 MiB / PAGE_SIZE (the same in 4.9 and 6.1). */
  lazyMaxPages(): number {
    return (32 - Math.clz32(this.k.nrCpus)) * ((32 * 1024 * 1024) / 4096);
  }

  /** The generation of the PTE now mapping `page` (bumped at every vmap), or undefined when unmapped. */
  pteGeneration(page: KernelPage): number | undefined {
    const gen = this.pteGen(page);
    return gen ? gen : undefined;
  }

  /** The generation of the PTE now mapping `page`, 0 when unmapped ({@link pteGeneration} without undefined). */
  pteGen(page: KernelPage): number {
    // page - c * PTE_CHUNK_PAGES rather than page % 4096: pages pass 2^31, and % of a double is a libm call.
    const c = Math.floor(page / PTE_CHUNK_PAGES);
    const chunk = this.ptes[c];
    return chunk === undefined ? 0 : (chunk[page - c * PTE_CHUNK_PAGES] ?? 0);
  }

  /** The first page of the page-table chunk holding `page`. */
  pteChunkBase(page: KernelPage): KernelPage {
    return Math.floor(page / PTE_CHUNK_PAGES) * PTE_CHUNK_PAGES;
  }

  /** The page-table chunk holding `page`: PTE generations from {@link pteChunkBase}, 0 when unmapped (undefined: nothing mapped there yet). */
  pteChunk(page: KernelPage): Float64Array | undefined {
    return this.ptes[Math.floor(page / PTE_CHUNK_PAGES)];
  }

  /** Sets the PTE generation of pages [start, end) to `gen` (0: cleared), chunk by chunk; a chunk is created only to map. */
  private setPtes(start: KernelPage, end: KernelPage, gen: number): void {
    let p = start;
    while (p < end) {
      const c = Math.floor(p / PTE_CHUNK_PAGES);
      const stop = Math.min(end, (c + 1) * PTE_CHUNK_PAGES);
      let chunk = this.ptes[c];
      if (chunk === undefined && gen !== 0) this.ptes[c] = chunk = new Float64Array(PTE_CHUNK_PAGES);
      if (chunk !== undefined) for (let i = p - c * PTE_CHUNK_PAGES, e = stop - c * PTE_CHUNK_PAGES; i < e; i++) chunk[i] = gen;
      p = stop;
    }
  }

  /**
   * vmalloc(): alloc_vmap_area() of `pages` + 1 guard page (aligned to `align` pages), then
   * map_vm_area() sets each PTE. The caller touches the memory with `k.tlb.touch()`.
   */
  vmalloc(pages: number, align = 1): VmapArea {
    const area = this.allocVmapArea(pages + 1, align, pages);
    this.setPtes(area.start, area.start + pages, ++this.mapSeq);
    return area;
  }

  /**
   * vfree() (__vunmap() → remove_vm_area() → free_unmap_vmap_area()): clears the PTEs now, queues
   * the area on vmap_purge_list (free_vmap_area_noflush()) and, past lazy_max_pages(), tries the
   * purge. Returns the kernel work the purge adds to the caller's task (empty when none).
   */
  vfree(area: VmapArea): readonly Segment[] {
    if (area.state !== "busy") throw new Error(`vfree(): area at ${area.start} is not in use (double vfree)`);
    this.setPtes(area.start, area.start + area.pages, 0);
    if (area.pages === THREAD_SIZE_PAGES && this.stackAreas.has(area)) this.stackEpoch++;
    area.state = "lazy";
    return this.freeVmapAreaNoflush(area);
  }

  /**
   * Policy: free_vmap_area_noflush() (mm/vmalloc.c), what vfree() does with an area whose PTEs it has
   * cleared; returns kernel work it adds to the caller. Default {@link queueLazyFree}; a mechanism may
   * hold the area first (tlb-defer's vfree_rcu: an RCU grace period) and queue it later.
   */
  freeVmapAreaNoflush: (area: VmapArea) => readonly Segment[] = (area) => this.queueLazyFree(area);

  /**
   * The 4.9 free_vmap_area_noflush(): the area goes on vmap_purge_list (vmap_lazy_nr grows) and, past
   * lazy_max_pages(), try_purge_vmap_area_lazy() runs; returns its work (empty when none).
   */
  queueLazyFree(area: VmapArea): readonly Segment[] {
    this.purgeList.push(area);
    this.lazyNr += area.end - area.start;
    if (this.lazyNr > this.lazyMaxPages()) return this.tryPurgeVmapAreaLazy();
    return NO_SEGMENTS;
  }

  /**
   * try_purge_vmap_area_lazy(): if purge_lock is free (spin_trylock()), __purge_vmap_area_lazy()
   * (4.9 mm/vmalloc.c:626-670): take vmap_purge_list, subtract its pages from vmap_lazy_nr, one
   * flush_tlb_kernel_range() over every lazily freed area, wait for it (csd_lock_wait()), then
   * __free_vmap_area() each. Returns that work as task-level segments of the calling CPU.
   */
  tryPurgeVmapAreaLazy(): readonly Segment[] {
    if (this.purging || this.purgeList.length === 0) return NO_SEGMENTS;
    this.purging = true;
    const k = this.k;
    return [
      segment("__purge_vmap_area_lazy", 0, Context.kernel, {
        start: () => {
          const cpu = k.executingCpu;
          const task = k.cpus[cpu]!.curr;
          if (!task) throw new Error(`cpu ${cpu}: __purge_vmap_area_lazy() must run in a task`);
          const valist = this.purgeList.splice(0);
          let start = Infinity, end = 0, nr = 0;
          for (const va of valist) {
            if (va.start < start) start = va.start;
            if (va.end > end) end = va.end;
            nr += va.end - va.start;
          }
          // 4.9 mm/vmalloc.c:659: atomic_sub(nr, &vmap_lazy_nr) before flush_tlb_kernel_range(), not
          // after the areas are freed: vfree()s during the flush count from the lowered total.
          this.lazyNr -= nr;
          this.purges++;
          const f = k.tlb.flushTlbKernelRange(start, end);
          const free = segment(f.all ? "do_flush_tlb_all" : "do_kernel_range_flush", f.localNs, Context.kernel, {
            end: () => {
              this.freeVmapAreas(valist);
              this.purging = false;
            },
          });
          task.segs.splice(1, 0, this.csdLockWait(task, f), free);
        },
      }),
    ];
  }

  /** csd_lock_wait(): the caller spins until every IPI'd CPU has run the flush (re-checked as handlers start). */
  private csdLockWait(task: Task, f: KernelFlush): Segment {
    const k = this.k;
    const ns = f.unstarted === 0 ? Math.max(0, f.doneAt - k.engine.now) : k.params.ipiLatencyNs;
    return segment("csd_lock_wait", ns, Context.kernel, {
      end: () => {
        if (!k.tlb.flushComplete(f)) task.segs.unshift(this.csdLockWait(task, f));
      },
    });
  }

  /**
   * The kernel stack of what `cpu` runs (alloc_thread_stack_node(): __vmalloc_node_range() of
   * THREAD_SIZE, THREAD_SIZE-aligned, CONFIG_VMAP_STACK), mapped when first needed; null for the
   * boot CPU's idle task, whose init_stack is in the kernel image.
   */
  threadStack(cpu: number): VmapArea | null {
    const t = this.k.cpus[cpu]!.curr;
    if (!t) {
      if (cpu === this.k.bootCpu) return null;
      return (this.idleStacks[cpu] ??= this.allocThreadStack());
    }
    let s = this.stacks.get(t);
    if (!s) this.stacks.set(t, (s = this.allocThreadStack()));
    return s;
  }

  /** alloc_thread_stack_node(): a THREAD_SIZE, THREAD_SIZE-aligned area, remembered as a stack. */
  private allocThreadStack(): VmapArea {
    const s = this.vmalloc(THREAD_SIZE_PAGES, THREAD_SIZE_PAGES);
    this.stackAreas.add(s);
    return s;
  }

  /**
   * alloc_vmap_area(): the lowest free range of `size` pages aligned to `align`, searched from the
   * free_vmap_cache hint unless a hole below it may fit (cached_hole_size, cached_align); the area
   * will map `pages` of them.
   */
  private allocVmapArea(size: number, align: number, pages: number): VmapArea {
    const list = this.areas;
    let i = 0;
    let addr = 0;
    if (!this.freeCache || size < this.cachedHoleSize || align < this.cachedAlign) {
      this.cachedHoleSize = 0;
      this.freeCache = null;
    } else {
      const at = this.freeCacheAt;
      i = (list[at] === this.freeCache ? at : this.indexAt(this.freeCache.start)) + 1;
      addr = alignUp(this.freeCache.end, align);
    }
    this.cachedAlign = align;
    for (; i < list.length; i++) {
      const next = list[i]!;
      if (addr + size <= next.start) break;
      if (addr < next.start && next.start - addr > this.cachedHoleSize) this.cachedHoleSize = next.start - addr;
      addr = Math.max(addr, alignUp(next.end, align));
    }
    if (addr + size > VMALLOC_PAGES) throw new Error(`vmalloc: allocation failed: ${size} pages, vmalloc space full`);
    const va: VmapArea = { start: addr, end: addr + size, pages, state: "busy" };
    if (i === list.length) list.push(va);
    else list.splice(i, 0, va);
    this.freeCache = va;
    this.freeCacheAt = i;
    return va;
  }

  /**
   * __free_vmap_area() of each area of `valist` in turn: each range becomes free for reuse and the
   * cache hint moves below it (rb_prev) when it lay at or above it. One pass over vmap_area_list:
   * the areas below a freed one are found through links past the ones already freed.
   */
  private freeVmapAreas(valist: readonly VmapArea[]): void {
    const areas = this.areas;
    const below = new Int32Array(areas.length);
    const gone = new Uint8Array(areas.length);
    const prev = (j: number): number => {
      let r = j;
      while (r >= 0 && gone[r]) r = below[r]!;
      while (j >= 0 && gone[j]) {
        const next = below[j]!;
        below[j] = r;
        j = next;
      }
      return r;
    };
    let i = -1;
    for (const va of valist) {
      // Areas are mostly freed in address order: each search starts after the previous one's.
      i = this.indexAt(va.start, i + 1);
      if (gone[i]) throw new Error(`vmalloc: vmap_area at page ${va.start} freed twice`);
      const cache = this.freeCache;
      if (cache && va.start <= cache.start) {
        const p = prev(i - 1);
        this.freeCache = p >= 0 ? areas[p]! : null;
      }
      gone[i] = 1;
      below[i] = i - 1;
      if (va.pages === THREAD_SIZE_PAGES && this.stackAreas.delete(va)) this.stackEpoch++;
    }
    let w = 0;
    for (let r = 0; r < areas.length; r++) if (!gone[r]) areas[w++] = areas[r]!;
    areas.length = w;
  }

  /** Index of the area starting at `start` in vmap_area_list; the search gallops from `hint` when given. */
  private indexAt(start: KernelPage, hint = -1): number {
    const areas = this.areas;
    let lo = 0, hi = areas.length - 1;
    if (hint >= 0 && hint <= hi) {
      const s = areas[hint]!.start;
      if (s === start) return hint;
      if (s < start) {
        lo = hint + 1;
        for (let step = 1; ; step *= 2) {
          const j = hint + step;
          if (j > hi) break;
          if (areas[j]!.start >= start) {
            hi = j;
            break;
          }
          lo = j + 1;
        }
      } else hi = hint - 1;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = areas[mid]!.start;
      if (s === start) return mid;
      if (s < start) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new Error(`vmalloc: no vmap_area at page ${start}`);
  }
}

function alignUp(x: number, align: number): number {
  return Math.ceil(x / align) * align;
}

/**
 * The `vmalloc-churn` workload: each period a kernel thread bound to the CPU, woken without a
 * counted interruption, vmalloc()s `pages` pages, writes them, and vfree()s them (the pattern of
 * module loads, BPF JIT and VMAP_STACK fork/exit that feeds __purge_vmap_area_lazy()).
 */
export const vmallocChurn: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "vmalloc-churn") return;
  const pages = spec.pages;
  if (!Number.isInteger(pages) || pages < 1) {
    throw new InputError(`${field}.pages`, `${JSON.stringify(pages)} is not valid (valid: an integer >= 1)`);
  }
  // Each CPU's effects are made once: a round's segments stay in its task's queue in order (vmalloc,
  // then vfree with its purge work), so the area of the round in progress is enough to carry.
  // Nothing references a round's segments once they complete: they come from the executor's pool.
  const pool = k.exec.segments;
  const rounds: (() => void)[] = [];
  // Set from a firing until its round's vmalloc() starts: the next firings are overruns meanwhile
  // (periodic()), so at most one round per CPU waits, whatever the period.
  const pending = new Uint8Array(k.nrCpus);
  for (const cpu of cpus) {
    const t = k.sched.createTask({ name: `vmalloc-churn/${cpu}`, cpu, user: false, role: "other" });
    let area: VmapArea | null = null;
    const alloc = (): void => {
      pending[cpu] = 0;
      area = k.vmalloc.vmalloc(pages);
    };
    const write = (): void => {
      k.tlb.touchRange(cpu, area!.start, area!.start + pages);
    };
    const free = (): void => {
      const purge = k.vmalloc.vfree(area!);
      if (purge.length > 0) t.segs.splice(1, 0, ...purge);
    };
    rounds[cpu] = () => {
      const cost = pages * k.params.vmallocPageNs;
      // Each round is one run of the kthread, counted as `kthread` on its CPU (housekeeping or not).
      t.segs.push(pool.take("vmalloc", cost, Context.kernel, Src.kthread, false, alloc, write, 0), pool.take("vfree", cost, Context.kernel, -1, false, free, null, 0));
      k.sched.wakeUp(t, cpu);
    };
  }
  periodic(
    k,
    `${field}:vmalloc-churn`,
    spec,
    cpus,
    (cpu) => {
      pending[cpu] = 1;
      // The churn kthread sleeps on an hrtimer (usleep_range()): its expiry is a local timer interrupt
      // that is not the tick, counted under `hrtimer` on that CPU.
      k.irq.raise(cpu, pool.take("hrtimer_wakeup", k.params.ipiHandlerNs, Context.irq, Src.hrtimer, false, rounds[cpu]!, null, 0));
    },
    pending,
  );
};
