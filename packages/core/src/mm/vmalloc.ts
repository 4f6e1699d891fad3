import type { Kernel } from "../kernel.js";
import { Context, segment, segmentOf } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import type { KernelFlush, KernelPage } from "../arch/x86/tlb.js";
import { InputError } from "../params.js";
import type { Task } from "../sched/task.js";
import { periodic } from "../workload/periodic.js";
import type { WorkloadInstaller } from "../workload/workload.js";

/** Pages of the x86_64 vmalloc space, VMALLOC_START..VMALLOC_END (VMALLOC_SIZE_TB = 32, 4-level paging). */
export const VMALLOC_PAGES = (32 * 2 ** 40) / 4096;

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
  private cachedHoleSize = 0;
  private cachedAlign = 0;
  private readonly stacks = new Map<Task, VmapArea>();
  private readonly idleStacks: (VmapArea | null)[];

  constructor(private readonly k: Kernel) {
    this.idleStacks = new Array<VmapArea | null>(k.nrCpus).fill(null);
    for (const step of k.entry.touchesVmalloc) {
      k.entry.on(step, (cpu) => {
        const stack = this.threadStack(cpu);
        if (stack) k.tlb.touch(cpu, stack.start + stack.pages - 1);
      });
    }
  }

  /** lazy_max_pages(): fls(num_online_cpus()) * 32 MiB / PAGE_SIZE (the same in 4.9 and 6.1). */
  lazyMaxPages(): number {
    return (32 - Math.clz32(this.k.nrCpus)) * ((32 * 1024 * 1024) / 4096);
  }

  /** The generation of the PTE now mapping `page` (bumped at every vmap), or undefined when unmapped. */
  pteGeneration(page: KernelPage): number | undefined {
    const gen = this.ptes[Math.floor(page / 4096)]?.[page % 4096];
    return gen ? gen : undefined;
  }

  /**
   * vmalloc(): alloc_vmap_area() of `pages` + 1 guard page (aligned to `align` pages), then
   * map_vm_area() sets each PTE. The caller touches the memory with `k.tlb.touch()`.
   */
  vmalloc(pages: number, align = 1): VmapArea {
    const area = this.allocVmapArea(pages + 1, align, pages);
    const gen = ++this.mapSeq;
    for (let p = area.start; p < area.start + pages; p++) {
      const c = Math.floor(p / 4096);
      (this.ptes[c] ??= new Float64Array(4096))[p % 4096] = gen;
    }
    return area;
  }

  /**
   * vfree() (__vunmap() → remove_vm_area() → free_unmap_vmap_area()): clears the PTEs now, queues
   * the area on vmap_purge_list (free_vmap_area_noflush()) and, past lazy_max_pages(), tries the
   * purge. Returns the kernel work the purge adds to the caller's task (empty when none).
   */
  vfree(area: VmapArea): Segment[] {
    if (area.state !== "busy") throw new Error(`vfree(): area at ${area.start} is not in use (double vfree)`);
    for (let p = area.start; p < area.start + area.pages; p++) {
      const chunk = this.ptes[Math.floor(p / 4096)];
      if (chunk) chunk[p % 4096] = 0;
    }
    area.state = "lazy";
    return this.freeVmapAreaNoflush(area);
  }

  /**
   * Policy: free_vmap_area_noflush() (mm/vmalloc.c), what vfree() does with an area whose PTEs it has
   * cleared; returns kernel work it adds to the caller. Default {@link queueLazyFree}; a mechanism may
   * hold the area first (tlb-defer's vfree_rcu: an RCU grace period) and queue it later.
   */
  freeVmapAreaNoflush: (area: VmapArea) => Segment[] = (area) => this.queueLazyFree(area);

  /**
   * The 4.9 free_vmap_area_noflush(): the area goes on vmap_purge_list (vmap_lazy_nr grows) and, past
   * lazy_max_pages(), try_purge_vmap_area_lazy() runs; returns its work (empty when none).
   */
  queueLazyFree(area: VmapArea): Segment[] {
    this.purgeList.push(area);
    this.lazyNr += area.end - area.start;
    if (this.lazyNr > this.lazyMaxPages()) return this.tryPurgeVmapAreaLazy();
    return [];
  }

  /**
   * try_purge_vmap_area_lazy(): if vmap_purge_lock is free, __purge_vmap_area_lazy(): one
   * flush_tlb_kernel_range() over every lazily freed area, wait for it (csd_lock_wait()), then
   * __free_vmap_area() each. Returns that work as task-level segments of the calling CPU.
   */
  tryPurgeVmapAreaLazy(): Segment[] {
    if (this.purging || this.purgeList.length === 0) return [];
    this.purging = true;
    const k = this.k;
    return [
      segment("__purge_vmap_area_lazy", 0, Context.kernel, {
        start: () => {
          const cpu = k.executingCpu;
          const task = k.cpus[cpu]!.curr;
          if (!task) throw new Error(`cpu ${cpu}: __purge_vmap_area_lazy() must run in a task`);
          const valist = this.purgeList.splice(0);
          let start = Infinity, end = 0;
          for (const va of valist) {
            if (va.start < start) start = va.start;
            if (va.end > end) end = va.end;
          }
          this.purges++;
          const f = k.tlb.flushTlbKernelRange(start, end);
          const free = segment(f.all ? "do_flush_tlb_all" : "do_kernel_range_flush", f.localNs, Context.kernel, {
            end: () => {
              this.freeVmapAreas(valist);
              for (const va of valist) this.lazyNr -= va.end - va.start;
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
      return (this.idleStacks[cpu] ??= this.vmalloc(THREAD_SIZE_PAGES, THREAD_SIZE_PAGES));
    }
    let s = this.stacks.get(t);
    if (!s) this.stacks.set(t, (s = this.vmalloc(THREAD_SIZE_PAGES, THREAD_SIZE_PAGES)));
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
      i = this.indexAt(this.freeCache.start) + 1;
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
    list.splice(i, 0, va);
    this.freeCache = va;
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
    for (const va of valist) {
      const i = this.indexAt(va.start);
      if (gone[i]) throw new Error(`vmalloc: vmap_area at page ${va.start} freed twice`);
      const cache = this.freeCache;
      if (cache && va.start <= cache.start) {
        const p = prev(i - 1);
        this.freeCache = p >= 0 ? areas[p]! : null;
      }
      gone[i] = 1;
      below[i] = i - 1;
    }
    let w = 0;
    for (let r = 0; r < areas.length; r++) if (!gone[r]) areas[w++] = areas[r]!;
    areas.length = w;
  }

  private indexAt(start: KernelPage): number {
    let lo = 0, hi = this.areas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.areas[mid]!.start;
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
  const rounds: (() => void)[] = [];
  for (const cpu of cpus) {
    const t = k.sched.createTask({ name: `vmalloc-churn/${cpu}`, cpu, user: false, role: "other" });
    let area: VmapArea | null = null;
    const alloc = (): void => {
      area = k.vmalloc.vmalloc(pages);
    };
    const write = (): void => {
      for (let p = area!.start; p < area!.start + pages; p++) k.tlb.touch(cpu, p);
    };
    const free = (): void => {
      t.segs.splice(1, 0, ...k.vmalloc.vfree(area!));
    };
    rounds[cpu] = () => {
      const cost = pages * k.params.vmallocPageNs;
      t.segs.push(segmentOf("vmalloc", cost, Context.kernel, -1, false, alloc, write, 0), segmentOf("vfree", cost, Context.kernel, -1, false, free, null, 0));
      k.sched.wakeUp(t, cpu);
    };
  }
  periodic(k, `${field}:vmalloc-churn`, spec, cpus, (cpu) => {
    k.irq.raise(cpu, segmentOf("hrtimer_wakeup", k.params.ipiHandlerNs, Context.irq, -1, false, rounds[cpu]!, null, 0));
  });
};
