import type { Nanoseconds } from "../../engine/engine.js";
import type { Kernel } from "../../kernel.js";
import { CT_STATE_MASK, CT_WORK_SHIFT, Context, CtState } from "../../machine/cpu.js";
import { PTE_CHUNK_PAGES } from "../../mm/vmalloc.js";

/**
 * Deferred-work bit of a kernel TLB flush in the context-tracking word's work field
 * (CT_WORK_TLBI of the 2016 idea / Schneider's "context_tracking,x86: Defer kernel text patching
 * and TLB flush IPIs" series; ct_set_cpu_work() sets it, ct_work_flush() runs it at kernel entry).
 */
export const CT_WORK_TLBI = 0x1;

/** Page index of a kernel virtual address, counted in pages from VMALLOC_START (arch/x86 PAGE_SHIFT 12). */
export type KernelPage = number;

/**
 * One flush_tlb_kernel_range() call (struct flush_tlb_info of arch/x86/mm/tlb.c): the range, whether
 * it became do_flush_tlb_all(), and what the caller still waits for in csd_lock_wait().
 */
export interface KernelFlush {
  /** First page of the range (info->start). */
  readonly start: KernelPage;
  /** Page after the range (info->end). */
  readonly end: KernelPage;
  /** True when the range exceeds tlb_single_page_flush_ceiling pages: do_flush_tlb_all() everywhere. */
  readonly all: boolean;
  /** CPU that called flush_tlb_kernel_range(). */
  readonly from: number;
  /** Call-function IPIs sent whose handler has not started yet (csd still locked). */
  unstarted: number;
  /** When the last started handler completes, ns (csd_unlock()). */
  doneAt: Nanoseconds;
  /** Cost of the caller's own flush (on_each_cpu() runs func locally with interrupts off), ns. */
  localNs: Nanoseconds;
  /** CPUs sent an IPI, in order. */
  readonly ipis: number[];
  /** CPUs whose flush was deferred to their next kernel entry (tlb-defer), in order. */
  readonly deferred: number[];
}

/**
 * Policy: flush_tlb_kernel_range() for the CPUs other than `f.from` plus the local flush. The
 * 4.9 default is {@link KernelTlb.onEachCpu}; tlb-defer replaces it (IPI or {@link KernelTlb.deferFlush}).
 */
export type FlushKernelRangePolicy = (f: KernelFlush) => void;

/** Counters of kernel TLB activity over the whole run (for mechanism statistics and tests). */
export interface KernelTlbStats {
  /** flush_tlb_kernel_range() calls. */
  flushes: number;
  /** Of which became do_flush_tlb_all(). */
  fullFlushes: number;
  /** Flush IPIs sent (ipi_tlb_flush). */
  ipis: number;
  /** Flushes deferred by cmpxchg of CT_WORK_TLBI. */
  deferred: number;
  /** Local flushes run (IPI handlers, the caller's own, deferred and entry flushes). */
  localFlushes: number;
  /** Uses of a stale cached translation (tlb-no-stale violations). */
  staleUses: number;
}

/**
 * Kernel TLB flushing on x86 (arch/x86/mm/tlb.c) and a per-CPU model of the kernel translations
 * a CPU caches for vmalloc'd pages: each cached entry remembers the generation of the PTE it was
 * filled from, so using an entry whose mapping was since freed or re-mapped is detected
 * (`tlb-no-stale`).
 */
export class KernelTlb {
  /**
   * Per-CPU cached kernel translations: page → PTE generation, least recently used first; a CPU's
   * entries are created at its first kernel translation (undefined: nothing cached yet), reporting
   * their changes to the per-CPU most-recently-used record (`mru`).
   */
  readonly cached: (TlbEntries | undefined)[];
  /**
   * Per CPU, 3 slots: a page last seen to be the most recently used entry of the CPU (-1: none
   * known), its PTE generation, and the tlb_kernel_entries its entries were within. Any change to
   * the CPU's entries clears it, so while it holds, touching that page changes nothing.
   */
  private readonly mru: Float64Array;
  /** Counters. */
  readonly stats: KernelTlbStats = { flushes: 0, fullFlushes: 0, ipis: 0, deferred: 0, localFlushes: 0, staleUses: 0 };
  /**
   * Policy: how flush_tlb_kernel_range() reaches the other CPUs (replaceable; tlb-defer replaces it).
   * Linux 4.9 default: on_each_cpu(do_kernel_range_flush or do_flush_tlb_all) — an IPI to every
   * other online CPU, whatever it runs, plus the local flush.
   */
  flushKernelRange: FlushKernelRangePolicy = (f) => this.onEachCpu(f);

  constructor(private readonly k: Kernel) {
    this.cached = new Array<TlbEntries | undefined>(k.nrCpus).fill(undefined);
    this.mru = new Float64Array(3 * k.nrCpus);
    for (let cpu = 0; cpu < k.nrCpus; cpu++) this.mru[3 * cpu] = -1;
    k.invariants.check("tlb-no-stale");
  }

  /**
   * flush_tlb_kernel_range(start, end) (4.9 arch/x86/mm/tlb.c): above tlb_single_page_flush_ceiling
   * pages it is do_flush_tlb_all(), else do_kernel_range_flush() (INVLPG per page); the policy
   * reaches the CPUs. Counted in housekeeping.tlb_flushes. The caller waits until
   * {@link flushComplete} before freeing the range for reuse.
   */
  flushTlbKernelRange(start: KernelPage, end: KernelPage): KernelFlush {
    const k = this.k;
    const now = k.engine.now;
    const all = end - start > k.params.tlbSinglePageFlushCeiling;
    const f: KernelFlush = { start, end, all, from: k.executingCpu, unstarted: 0, doneAt: now, localNs: 0, ipis: [], deferred: [] };
    this.stats.flushes++;
    if (all) this.stats.fullFlushes++;
    if (k.measuring()) k.housekeepingStats.tlbFlushes++;
    k.trace?.instant(f.from, `flush_tlb_kernel_range: pages=${end - start} ${all ? "do_flush_tlb_all" : "do_kernel_range_flush"}`, now);
    this.flushKernelRange(f);
    return f;
  }

  /** on_each_cpu() (kernel/smp.c, 4.9): an IPI to every other online CPU, then the local flush. */
  onEachCpu(f: KernelFlush): void {
    for (let cpu = 0; cpu < this.k.nrCpus; cpu++) if (cpu !== f.from) this.sendFlushIpi(f, cpu);
    f.localNs += this.flushLocal(f.from, f);
  }

  /**
   * Sends the flush to `cpu` as a call-function IPI (smp_call_function_many() → CALL_FUNCTION_VECTOR),
   * counted as `ipi_tlb_flush`; its handler costs the IPI handler plus the flush itself.
   */
  sendFlushIpi(f: KernelFlush, cpu: number): void {
    const k = this.k;
    const cost = k.params.ipiHandlerNs + this.flushCostNs(f);
    f.unstarted++;
    f.ipis.push(cpu);
    this.stats.ipis++;
    if (this.ipiFlush !== f) {
      this.ipiFlush = f;
      this.ipiHandler = this.flushIpiHandler(f, cost);
    }
    k.irq.sendIpi(f.from, cpu, "ipi_tlb_flush", f.all ? "do_flush_tlb_all" : "do_kernel_range_flush", cost, this.ipiHandler);
  }

  /** The flush whose IPI handler {@link ipiHandler} is (one handler per flush, not per CPU). */
  private ipiFlush: KernelFlush | null = null;
  /** flush_tlb_func_remote() of {@link ipiFlush}: runs on the CPU the IPI reached (kernel.executingCpu). */
  private ipiHandler: () => void = () => undefined;

  /** The IPI handler of flush `f`, `cost` ns per CPU: the local flush, then csd_unlock() (the caller's csd_lock_wait() sees it). */
  private flushIpiHandler(f: KernelFlush, cost: Nanoseconds): () => void {
    const k = this.k;
    return () => {
      this.flushLocal(k.executingCpu, f);
      f.unstarted--;
      f.doneAt = Math.max(f.doneAt, k.engine.now + cost);
    };
  }

  /** Whether every CPU `f` sent an IPI to has run its handler to the end (csd_lock_wait() returns). */
  flushComplete(f: KernelFlush): boolean {
    return f.unstarted === 0 && this.k.engine.now >= f.doneAt;
  }

  /** Cost of one CPU's flush: __flush_tlb_all(), or INVLPG (__flush_tlb_single()) per page of the range, ns. */
  flushCostNs(f: KernelFlush): Nanoseconds {
    return f.all ? this.k.params.tlbFlushAllNs : (f.end - f.start) * this.k.params.invlpgNs;
  }

  /** Runs `f`'s flush on `cpu` now (do_kernel_range_flush() or do_flush_tlb_all()); returns its cost, ns. */
  flushLocal(cpu: number, f: KernelFlush): Nanoseconds {
    if (f.all) return this.flushAll(cpu);
    const tlb = this.cached[cpu];
    if (tlb) tlb.deleteRange(f.start, f.end);
    this.stats.localFlushes++;
    return this.flushCostNs(f);
  }

  /**
   * __flush_tlb_all() on `cpu` now, global (kernel) entries included; returns its cost, ns. Used by
   * do_flush_tlb_all(), by a deferred flush at kernel entry (ct_work_flush()) and by a flush at every
   * kernel entry (the CR3-switch variant).
   */
  flushAll(cpu: number): Nanoseconds {
    this.cached[cpu]?.clear();
    this.stats.localFlushes++;
    return this.k.params.tlbFlushAllNs;
  }

  /**
   * Defers `f` on `cpu` instead of an IPI (ct_set_cpu_work(), 2016 idea / Schneider series): when the
   * CPU's context-tracking word shows user or idle (RCU EQS), cmpxchg CT_WORK_TLBI into it; the CPU
   * then flushes at its next kernel entry — the mechanism takes the bit with `k.entry.takeCtWork()`
   * at an entry step of its choice and calls {@link flushAll}. Returns false when the CPU is in the
   * kernel (the caller must send the IPI). Checks `tlb-defer-only-user`.
   */
  deferFlush(f: KernelFlush, cpu: number): boolean {
    const c = this.k.cpus[cpu]!;
    const old = c.ctWord;
    if (!c.inEqs()) return false;
    if (!c.ctCmpxchg(old, old | (CT_WORK_TLBI << CT_WORK_SHIFT))) return false;
    checkTlbDeferOnlyUser(this.k, cpu, old);
    f.deferred.push(cpu);
    this.stats.deferred++;
    return true;
  }

  /**
   * The CPU translates kernel page `page` (a load or store in kernel mode): a cached entry is used
   * if present — `tlb-no-stale` is violated when its PTE generation differs from the mapping now in
   * the page table (freed or re-mapped since it was filled, and this CPU has not flushed since) —
   * else the walk fills one (evicting the least recently used beyond `tlb_kernel_entries`).
   */
  touch(cpu: number, page: KernelPage): void {
    this.touchGen(cpu, page, this.k.vmalloc.pteGen(page));
  }

  /** {@link touch} of `page` whose PTE generation the caller read from the page table (0: unmapped). */
  touchGen(cpu: number, page: KernelPage, gen: number): void {
    const k = this.k;
    if (gen === 0) {
      throw new Error(`cpu ${cpu}: kernel access to unmapped vmalloc page ${formatKernelPage(page)} at ${k.engine.now} ns (model bug: a use after vfree())`);
    }
    const cap = k.params.tlbKernelEntries;
    k.invariants.evaluate("tlb-no-stale");
    // Fast path: the most recently used entry, still valid, stays where it is.
    const mru = this.mru;
    const at = 3 * cpu;
    if (mru[at] === page && mru[at + 1] === gen && mru[at + 2] === cap) return;
    const tlb = this.entriesOf(cpu);
    if (tlb.isMostRecent(page, gen) && tlb.size <= cap) {
      this.noteMru(at, page, gen, cap);
      return;
    }
    const had = tlb.take(page);
    if (had !== 0 && had !== gen) {
      this.stats.staleUses++;
      k.invariants.violate(
        "tlb-no-stale",
        cpu,
        `kernel access to ${formatKernelPage(page)} through a TLB entry of mapping generation ${had}, but the page was freed and re-mapped (generation ${gen}) without a flush on CPU ${cpu}`,
      );
    }
    if (cap === 0) return;
    tlb.push(page, gen, cap);
    if (tlb.size <= cap) this.noteMru(at, page, gen, cap);
  }

  /** The CPU's entries, created at its first kernel translation. */
  private entriesOf(cpu: number): TlbEntries {
    let tlb = this.cached[cpu];
    if (tlb === undefined) this.cached[cpu] = tlb = new TlbEntries(this.mru, 3 * cpu);
    return tlb;
  }

  /** Records `page` (PTE generation `gen`) as the most recently used entry at slot `at` of {@link mru}, with at most `cap` entries. */
  private noteMru(at: number, page: KernelPage, gen: number, cap: number): void {
    this.mru[at] = page;
    this.mru[at + 1] = gen;
    this.mru[at + 2] = cap;
  }

  /**
   * {@link touch} of each page of [start, end) in address order (a memset() of a vmalloc'd buffer).
   * A page the CPU's entries prove absent is filled at once; any other goes through {@link touch}.
   */
  touchRange(cpu: number, start: KernelPage, end: KernelPage): void {
    const vm = this.k.vmalloc;
    const cap = this.k.params.tlbKernelEntries;
    const tlb = this.entriesOf(cpu);
    let p = start;
    while (p < end) {
      // The pages of one page-table chunk: their PTE generations are read straight from it.
      const base = vm.pteChunkBase(p);
      const chunk = vm.pteChunk(p);
      const stop = Math.min(end, base + PTE_CHUNK_PAGES);
      for (; p < stop; p++) {
        const gen = chunk === undefined ? 0 : (chunk[p - base] ?? 0);
        if (gen === 0 || !tlb.fillAbsent(p, gen, cap)) this.touchGen(cpu, p, gen);
      }
    }
  }
}

/**
 * One CPU's cached kernel translations: page → PTE generation, least recently used first. The first
 * entry is held inline; at the second, the entries move to typed arrays in LRU order (an idle CPU
 * caches only its stack page).
 */
export class TlbEntries {
  /** True while the inline entry holds a translation (and {@link pages} is null). */
  private one = false;
  private onePage: KernelPage = 0;
  private oneGen = 0;
  /**
   * Once there were two entries at the same time: cached pages in a ring, least recently used at
   * {@link head}, so that evicting it moves nothing. The capacity is a power of two.
   */
  private pages: Float64Array | null = null;
  /** The PTE generation of each slot of {@link pages}. */
  private gens: Float64Array | null = null;
  /** Entries of the ring per bucket `page & 1023`: a zero proves a page absent without a scan. */
  private buckets: Uint8Array | null = null;
  /** Slot of the least recently used entry. */
  private head = 0;
  /** Entries in the ring. */
  private n = 0;

  constructor(
    /** The owner's record of a most recently used entry ({@link KernelTlb}'s per-CPU one), cleared at any change; null when none. */
    private readonly mru: Float64Array | null = null,
    /** This map's slot in `mru`. */
    private readonly mruAt = 0,
  ) {}

  /** Any change: the owner's record of the most recently used entry no longer holds. */
  private changed(): void {
    if (this.mru !== null) this.mru[this.mruAt] = -1;
  }

  /** Number of cached translations. */
  get size(): number {
    return this.pages ? this.n : this.one ? 1 : 0;
  }

  /** Position (0 = least recently used) of `page` in the ring, or -1; searched from the most recently used. */
  private indexOf(page: KernelPage): number {
    if (this.buckets![page & 1023] === 0) return -1;
    const pages = this.pages!, mask = pages.length - 1;
    for (let i = this.n - 1; i >= 0; i--) if (pages[(this.head + i) & mask] === page) return i;
    return -1;
  }

  /** Whether `page` is cached. */
  has(page: KernelPage): boolean {
    return this.pages ? this.indexOf(page) >= 0 : this.one && this.onePage === page;
  }

  /** The PTE generation cached for `page`, or undefined. */
  get(page: KernelPage): number | undefined {
    if (this.pages) {
      const i = this.indexOf(page);
      return i >= 0 ? this.gens![(this.head + i) & (this.pages.length - 1)] : undefined;
    }
    return this.one && this.onePage === page ? this.oneGen : undefined;
  }

  /** Whether `page` is the most recently used translation, cached with PTE generation `gen` (touching it again changes nothing). */
  isMostRecent(page: KernelPage, gen: number): boolean {
    const pages = this.pages;
    if (pages === null) return this.one && this.onePage === page && this.oneGen === gen;
    if (this.n === 0) return false;
    const slot = (this.head + this.n - 1) & (pages.length - 1);
    return pages[slot] === page && this.gens![slot] === gen;
  }

  /** Drops the translation of `page` and returns the PTE generation it held, or 0 when it was not cached ({@link get} then {@link delete}). */
  take(page: KernelPage): number {
    this.changed();
    if (this.pages) {
      const i = this.indexOf(page);
      if (i < 0) return 0;
      const gen = this.gens![(this.head + i) & (this.pages.length - 1)]!;
      this.removeAt(i);
      return gen;
    }
    if (!this.one || this.onePage !== page) return 0;
    this.one = false;
    return this.oneGen;
  }

  /** {@link set}, then evicts the least recently used translation if there are more than `cap` (the caller took any older entry of `page`). */
  push(page: KernelPage, gen: number, cap: number): void {
    this.set(page, gen);
    if (this.size > cap) this.deleteOldest();
  }

  /**
   * {@link push} of `page` when a bucket count proves it absent from the ring (then true); false,
   * changing nothing, when it may be cached, the entries are not in the ring yet, or `cap` is 0.
   */
  fillAbsent(page: KernelPage, gen: number, cap: number): boolean {
    const pages = this.pages;
    if (pages === null || cap === 0) return false;
    const buckets = this.buckets!;
    const b = page & 1023;
    if (buckets[b] !== 0) return false;
    this.changed();
    if (this.n === pages.length) {
      this.grow();
      return this.fillAbsent(page, gen, cap);
    }
    const mask = pages.length - 1;
    const slot = (this.head + this.n) & mask;
    pages[slot] = page;
    this.gens![slot] = gen;
    buckets[b] = 1;
    if (++this.n > cap) {
      const head = this.head;
      const old = pages[head]! & 1023;
      buckets[old] = buckets[old]! - 1;
      this.head = (head + 1) & mask;
      this.n--;
    }
    return true;
  }

  /** Caches `page` as the most recently used translation (the caller deleted any older entry of it). */
  set(page: KernelPage, gen: number): void {
    this.changed();
    if (this.pages) {
      if (this.n === this.pages.length) this.grow();
      const slot = (this.head + this.n++) & (this.pages.length - 1);
      this.pages[slot] = page;
      this.gens![slot] = gen;
      this.bucketAdd(page, 1);
    } else if (!this.one || this.onePage === page) {
      this.one = true;
      this.onePage = page;
      this.oneGen = gen;
    } else {
      this.pages = new Float64Array(8);
      this.gens = new Float64Array(8);
      this.pages[0] = this.onePage;
      this.gens[0] = this.oneGen;
      this.pages[1] = page;
      this.gens[1] = gen;
      this.buckets = new Uint8Array(1024);
      this.bucketAdd(this.onePage, 1);
      this.bucketAdd(page, 1);
      this.head = 0;
      this.n = 2;
      this.one = false;
    }
  }

  /** Counts `d` more entries of `page`'s bucket. */
  private bucketAdd(page: KernelPage, d: number): void {
    const b = this.buckets!;
    b[page & 1023] = b[page & 1023]! + d;
  }

  /** Doubles the ring, its entries moved to slots 0..n-1 in LRU order. */
  private grow(): void {
    const old = this.pages!, oldGens = this.gens!, mask = old.length - 1;
    const pages = new Float64Array(2 * old.length), gens = new Float64Array(2 * old.length);
    for (let i = 0; i < this.n; i++) {
      pages[i] = old[(this.head + i) & mask]!;
      gens[i] = oldGens[(this.head + i) & mask]!;
    }
    this.pages = pages;
    this.gens = gens;
    this.head = 0;
  }

  /** Removes the entry at position `i`, keeping the others in LRU order (the newer ones move down a slot). */
  private removeAt(i: number): void {
    const pages = this.pages!, gens = this.gens!, mask = pages.length - 1;
    this.bucketAdd(pages[(this.head + i) & mask]!, -1);
    if (i === 0) this.head = (this.head + 1) & mask;
    else {
      for (let j = i; j < this.n - 1; j++) {
        const to = (this.head + j) & mask, from = (this.head + j + 1) & mask;
        pages[to] = pages[from]!;
        gens[to] = gens[from]!;
      }
    }
    this.n--;
  }

  /** Drops the translation of `page` (INVLPG); true when it was cached. */
  delete(page: KernelPage): boolean {
    this.changed();
    if (this.pages) {
      const i = this.indexOf(page);
      if (i < 0) return false;
      this.removeAt(i);
      return true;
    }
    if (!this.one || this.onePage !== page) return false;
    this.one = false;
    return true;
  }

  /** Drops the translations of pages [start, end) (INVLPG over a range), in one pass. */
  deleteRange(start: KernelPage, end: KernelPage): void {
    this.changed();
    if (!this.pages) {
      if (this.one && this.onePage >= start && this.onePage < end) this.one = false;
      return;
    }
    const pages = this.pages, gens = this.gens!, mask = pages.length - 1;
    let keep = 0;
    for (let i = 0; i < this.n; i++) {
      const from = (this.head + i) & mask;
      const p = pages[from]!;
      if (p >= start && p < end) {
        this.bucketAdd(p, -1);
        continue;
      }
      const to = (this.head + keep++) & mask;
      pages[to] = p;
      gens[to] = gens[from]!;
    }
    this.n = keep;
  }

  /** Drops every translation (a full flush). */
  clear(): void {
    this.changed();
    if (this.n > 0) this.buckets!.fill(0);
    this.n = 0;
    this.one = false;
  }

  /** Evicts the least recently used translation. */
  deleteOldest(): void {
    this.changed();
    if (!this.pages) {
      this.one = false;
      return;
    }
    if (this.n > 0) this.removeAt(0);
  }
}

/** A kernel page as a virtual address (VMALLOC_START + page << PAGE_SHIFT, x86_64 4-level paging). */
export function formatKernelPage(page: KernelPage): string {
  return "0x" + (0xffffc90000000000n + BigInt(page) * 4096n).toString(16);
}

/**
 * `tlb-defer-only-user`: a flush may be deferred (CT_WORK bit set by cmpxchg) only for a CPU seen in
 * user or idle at the cmpxchg — both in the context-tracking word it read (`seenWord`) and in what
 * the CPU is actually executing. Mechanisms that do their own cmpxchg call this right after it.
 */
export function checkTlbDeferOnlyUser(k: Kernel, cpu: number, seenWord: number): void {
  k.invariants.check("tlb-defer-only-user");
  k.invariants.evaluate("tlb-defer-only-user");
  const c = k.cpus[cpu]!;
  const state = seenWord & CT_STATE_MASK;
  const wordOk = state === CtState.user || state === CtState.idle;
  const runningOk = !c.inIrq && (c.ctx === Context.user || c.ctx === Context.idle);
  if (!wordOk || !runningOk) {
    k.invariants.violate(
      "tlb-defer-only-user",
      cpu,
      `kernel TLB flush deferred for CPU ${cpu} with context-tracking state ${state} while it executes ${c.inIrq ? "an interrupt" : ["user", "kernel", "irq", "softirq", "idle"][c.ctx]} (deferral needs user or idle; otherwise IPI)`,
    );
  }
}
