import { describe, expect, it } from "vitest";
import { buildKernel } from "../../simulate.js";
import type { ScenarioSpec } from "../../scenario.js";
import type { Kernel } from "../../kernel.js";
import { Src } from "../../accounting/sources.js";
import { CT_WORK_SHIFT, Context } from "../../machine/cpu.js";
import { CT_WORK_TLBI, checkTlbDeferOnlyUser } from "./tlb.js";

const MS = 1_000_000;
const QUIET = MS + MS / 2;

function kernel(params: Record<string, unknown> = {}): Kernel {
  const spec: ScenarioSpec = {
    name: "tlb",
    seed: 1,
    duration: 10 * MS,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7", params },
    workload: [{ type: "user-loop", cpus: "1-7" }],
  };
  const k = buildKernel(spec);
  k.engine.runUntil(QUIET);
  return k;
}

const tlbIpis = (k: Kernel, cpu: number): number => k.accounting.cpus[cpu]!.counts[Src.ipi_tlb_flush]!;

/** tlb-defer as a mechanism would install it: defer for CPUs in user/idle, flush at the deferred_work entry step. */
function deferToEntry(k: Kernel): void {
  k.tlb.flushKernelRange = (f) => {
    for (let cpu = 0; cpu < k.nrCpus; cpu++) if (cpu !== f.from && !k.tlb.deferFlush(f, cpu)) k.tlb.sendFlushIpi(f, cpu);
    f.localNs += k.tlb.flushLocal(f.from, f);
  };
  k.entry.on("deferred_work", (cpu) => {
    if (k.entry.takeCtWork(cpu) & CT_WORK_TLBI) k.entry.charge(cpu, k.tlb.flushAll(cpu));
  });
}

describe("flush_tlb_kernel_range() on x86 (linux-4.9 arch/x86/mm/tlb.c)", () => {
  it("flushes 33 pages with INVLPG on every CPU by IPI, and 34 pages with do_flush_tlb_all", () => {
    const k = kernel();
    const a = k.vmalloc.vmalloc(32);
    const b = k.vmalloc.vmalloc(4);
    for (const va of [a, b]) for (let p = va.start; p < va.start + va.pages; p++) k.tlb.touch(0, p);
    const range = k.tlb.flushTlbKernelRange(a.start, a.end);
    expect(range.end - range.start).toBe(33);
    expect(range.all).toBe(false);
    expect(range.ipis).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(k.tlb.cached[0]!.has(a.start)).toBe(false);
    expect(k.tlb.cached[0]!.has(b.start)).toBe(true);
    k.engine.runUntil(QUIET + 10_000);
    expect(k.tlb.flushComplete(range)).toBe(true);
    const p = k.params;
    expect(range.doneAt).toBe(QUIET + p.ipiLatencyNs + p.ipiHandlerNs + 33 * p.invlpgNs);
    const all = k.tlb.flushTlbKernelRange(a.start, a.end + 1);
    expect(all.all).toBe(true);
    expect(k.tlb.cached[0]!.size).toBe(0);
    k.engine.runUntil(QUIET + 20_000);
    expect(all.doneAt).toBe(QUIET + 10_000 + p.ipiLatencyNs + p.ipiHandlerNs + p.tlbFlushAllNs);
    for (let cpu = 1; cpu < 8; cpu++) expect(tlbIpis(k, cpu)).toBe(2);
    expect(tlbIpis(k, 0)).toBe(0);
    expect(k.housekeepingStats.tlbFlushes).toBe(2);
  });

  it("the vmap'd kernel stack is touched at the stack_switch entry step", () => {
    const k = kernel();
    const stack = k.vmalloc.threadStack(3)!;
    expect(stack.pages).toBe(4);
    expect(stack.start % 4).toBe(0);
    expect(k.tlb.cached[3]!.has(stack.start + 3)).toBe(true);
    expect(k.vmalloc.threadStack(0)).toBeNull();
  });

  it("touchRange() leaves a CPU's entries as touch() of each page in turn does, the least recently used evicted past tlb_kernel_entries", () => {
    const a = kernel();
    const b = kernel();
    const va = a.vmalloc.vmalloc(100);
    const vb = b.vmalloc.vmalloc(100);
    expect(vb.start).toBe(va.start);
    const stack = a.vmalloc.threadStack(5)!;
    a.tlb.touchRange(5, va.start, va.start + 100);
    for (let p = vb.start; p < vb.start + 100; p++) b.tlb.touch(5, p);
    const cap = a.params.tlbKernelEntries;
    expect(a.tlb.cached[5]!.size).toBe(cap);
    expect(b.tlb.cached[5]!.size).toBe(cap);
    for (let p = va.start; p < va.start + 100; p++) expect(a.tlb.cached[5]!.has(p)).toBe(b.tlb.cached[5]!.has(p));
    expect(a.tlb.cached[5]!.has(va.start + 100 - cap)).toBe(true);
    expect(a.tlb.cached[5]!.has(va.start + 99 - cap)).toBe(false);
    expect(a.tlb.cached[5]!.has(stack.start + 3)).toBe(false);
    // The stack page comes back at the next kernel entry, evicting the oldest page of the range.
    a.irq.sendReschedule(0, 5);
    a.engine.runUntil(QUIET + 10_000);
    expect(a.tlb.cached[5]!.has(stack.start + 3)).toBe(true);
    expect(a.tlb.cached[5]!.has(va.start + 100 - cap)).toBe(false);
    expect(a.tlb.cached[5]!.size).toBe(cap);
  });

  it("a kernel stack vfree()d under its task is a use after vfree() at the CPU's next kernel entry", () => {
    const k = kernel();
    k.irq.sendReschedule(0, 3);
    k.engine.runUntil(QUIET + 10_000);
    k.vmalloc.vfree(k.vmalloc.threadStack(3)!);
    k.irq.sendReschedule(0, 3);
    expect(() => k.engine.runUntil(QUIET + 20_000)).toThrow(/cpu 3: kernel access to unmapped vmalloc page/);
  });
});

describe("deferring the kernel flush of CPUs in user mode (tlb-defer core pieces)", () => {
  it("cmpxchg's CT_WORK_TLBI into the context-tracking word instead of an IPI, and flushes at the next entry", () => {
    const k = kernel();
    deferToEntry(k);
    const a = k.vmalloc.vmalloc(8);
    k.tlb.touch(3, a.start);
    const f = k.tlb.flushTlbKernelRange(a.start, a.end);
    expect(f.ipis).toEqual([]);
    expect(f.deferred).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((k.cpus[3]!.ctWord >> CT_WORK_SHIFT) & CT_WORK_TLBI).toBe(CT_WORK_TLBI);
    expect(k.tlb.cached[3]!.has(a.start)).toBe(true);
    k.irq.sendReschedule(0, 3);
    k.engine.runUntil(QUIET + 10_000);
    expect(k.tlb.cached[3]!.has(a.start)).toBe(false);
    expect((k.cpus[3]!.ctWord >> CT_WORK_SHIFT) & CT_WORK_TLBI).toBe(0);
    for (let cpu = 1; cpu < 8; cpu++) expect(tlbIpis(k, cpu)).toBe(0);
    expect(k.invariants.checked.has("tlb-defer-only-user")).toBe(true);
    expect(k.invariants.violations).toEqual([]);
  });

  it("does not defer for a CPU in the kernel, and reports a deferral made for one anyway", () => {
    const k = kernel();
    deferToEntry(k);
    k.irq.sendReschedule(0, 3);
    k.engine.runUntil(QUIET + k.params.ipiLatencyNs + 10);
    const c = k.cpus[3]!;
    expect(c.inIrq).toBe(true);
    const a = k.vmalloc.vmalloc(8);
    const f = k.tlb.flushTlbKernelRange(a.start, a.end);
    expect(f.ipis).toEqual([3]);
    expect(f.deferred).toEqual([1, 2, 4, 5, 6, 7]);
    expect(k.invariants.violations).toEqual([]);
    checkTlbDeferOnlyUser(k, 3, c.ctWord);
    expect(k.invariants.violations.map((v) => [v.invariant, v.cpu])).toEqual([["tlb-defer-only-user", 3]]);
    expect(c.ctx).toBe(Context.irq);
  });

  it("a flush at every kernel entry (CR3-switch variant, a PTI kernel) costs tlb_flush_all_ns on each entry", () => {
    expect(() => kernel().entry.on("cr3_switch", () => undefined)).toThrow(/no step "cr3_switch"/);
    const k = kernel({ pti: true });
    k.entry.on("cr3_switch", (cpu) => k.entry.charge(cpu, k.tlb.flushAll(cpu)));
    const before = k.accounting.cpus[3]!.noiseNs;
    k.irq.sendReschedule(0, 3);
    k.engine.runUntil(QUIET + 10_000);
    const p = k.params;
    expect(k.accounting.cpus[3]!.noiseNs - before).toBe(p.kernelEntryNs + p.tlbFlushAllNs + p.ipiReschedNs + p.kernelExitNs);
  });
});
