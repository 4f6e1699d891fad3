import { initWork } from "@isolsim/core";
import type { Kernel, Nanoseconds, VmapArea } from "@isolsim/core";

/** Bytes per vmalloc page (PAGE_SIZE on x86_64). */
export const PAGE_BYTES = 4096;

/** What vfree() held back and how long, counted in the measured window ({@link vfreeAccounting}). */
export interface VfreeFigures {
  /** vfree() calls. */
  vfrees: number;
  /** Largest vmalloc space held back (freed, not yet reusable: waiting for a grace period or a purge) seen at a vfree(), pages with guard pages. */
  heldPagesMax: number;
  /** Sum of the held-back pages seen at each vfree() (for the mean). */
  heldPagesSum: number;
  /** vfree_rcu: callbacks invoked (areas that came back from their grace period). */
  rcuCallbacks: number;
  /** vfree_rcu: longest wait from vfree() to its callback, ns. */
  gpWaitNsMax: Nanoseconds;
  /** vfree_rcu: sum of the waits, ns (for the mean). */
  gpWaitNsSum: Nanoseconds;
}

/**
 * Accounts for the vmalloc space vfree() holds back and, with `rcu`, replaces free_vmap_area_noflush()
 * by the seed's "vfree via RCU": each vfree()d area (PTEs already cleared) waits for an RCU grace
 * period (call_rcu() on the freeing CPU, as kvfree_rcu() does), then goes on vmap_purge_list and
 * the callback schedules drain_vmap_area_work (mm/vmalloc.c, v5.13+) on system_wq: a kworker runs
 * __purge_vmap_area_lazy() at once, so the areas whose grace period ended together share one
 * flush_tlb_kernel_range(), whatever lazy_max_pages() says. Without `rcu` the 4.9 lazy purge stays.
 */
export function vfreeAccounting(k: Kernel, rcu: boolean): VfreeFigures {
  const fig: VfreeFigures = { vfrees: 0, heldPagesMax: 0, heldPagesSum: 0, rcuCallbacks: 0, gpWaitNsMax: 0, gpWaitNsSum: 0 };
  const waiting = new Map<number, { area: VmapArea; at: Nanoseconds }>();
  let rcuHeldPages = 0;
  const sample = (): void => {
    if (!k.measuring()) return;
    const held = rcuHeldPages + k.vmalloc.lazyNr;
    fig.vfrees++;
    fig.heldPagesSum += held;
    if (held > fig.heldPagesMax) fig.heldPagesMax = held;
  };
  if (!rcu) {
    k.vmalloc.freeVmapAreaNoflush = (area) => {
      const segs = k.vmalloc.queueLazyFree(area);
      sample();
      return segs;
    };
    return fig;
  }
  const drain = initWork(
    "drain_vmap_area_work",
    (cpu) => {
      const worker = k.cpus[cpu]!.curr!;
      worker.segs.splice(1, 0, ...k.vmalloc.tryPurgeVmapAreaLazy());
    },
    "kworker_other",
    0,
  );
  k.vmalloc.freeVmapAreaNoflush = (area) => {
    rcuHeldPages += area.end - area.start;
    const cb = k.rcu.callRcu(k.executingCpu);
    waiting.set(cb.id, { area, at: k.engine.now });
    sample();
    return [];
  };
  k.hooks.rcuInvokeCallback.push((cb) => {
    const w = waiting.get(cb.id);
    if (!w) return;
    waiting.delete(cb.id);
    const va = w.area;
    rcuHeldPages -= va.end - va.start;
    if (k.measuring()) {
      const wait = k.engine.now - w.at;
      fig.rcuCallbacks++;
      fig.gpWaitNsSum += wait;
      if (wait > fig.gpWaitNsMax) fig.gpWaitNsMax = wait;
    }
    k.vmalloc.purgeList.push(va);
    k.vmalloc.lazyNr += va.end - va.start;
    k.workqueue.queueWorkOn(k.executingCpu, k.workqueue.systemWq, drain);
  });
  return fig;
}
