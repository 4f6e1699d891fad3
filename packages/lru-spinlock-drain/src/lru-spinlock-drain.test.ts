import { describe, expect, it } from "vitest";
import { Context, EventPriority, LruList, buildKernel, buildReport, segment, simulate, syscall } from "@isolsim/core";
import type { Kernel, ScenarioSpec, WorkloadSpec } from "@isolsim/core";
import { lruBatchLock, lruSpinlockDrain, lruSpinlockDrainDefaults, lruSpinlockDrainOptionLimits } from "./index.js";

const S = 1_000_000_000;
const MS = 1_000_000;
const US = 1_000;

/** Isolated CPUs 1-3 run busy tasks; 1 and 2 write files; CPU 0 calls lru_add_drain_all() every 200 ms. */
function scenario(cpus = 4, workload: WorkloadSpec[] = [], over: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: "lru-spinlock-drain",
    seed: 1,
    duration: 3 * S,
    warmup: 100 * MS,
    kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull: `1-${cpus - 1}` },
    workload: [
      { type: "user-loop", cpus: `1-${cpus - 1}` },
      { type: "syscall", cpus: "1-2", every: 500 * MS, at: 250 * MS, call: "file-write", pages: 8 },
      { type: "lru-drain-all", cpus: "0", every: 200 * MS },
      ...workload,
    ],
    ...over,
  };
}

/** The figures `mechanism_stats["lru-spinlock-drain"]` holds (either variant's). */
interface Stats {
  drain_calls: number;
  drain_caller_ns_total: number;
  drain_caller_ns_mean: number;
  cpus_checked: number;
  remote_drains: number;
  pages_drained_remotely: number;
  lock_acquires: number;
  contended_acquires: number;
  max_lock_wait_ns: number;
  lock_wait_ns_total: number;
  spin_ns_total: number;
  owner_lock_ns_total: number;
  returns_drained: number;
  return_drains: number;
  return_drain_ns_total: number;
  return_loops_max: number;
  return_loop_limit: number;
  return_loop_limit_hits: number;
}

const stats = (r: { mechanism_stats: Record<string, Record<string, unknown>> }): Stats => r.mechanism_stats["lru-spinlock-drain"] as unknown as Stats;

/**
 * Block I/O completions steered back to CPU `cpu` (blk-mq rq_affinity=2): each interrupt ends the
 * writeback of one page, and end_page_writeback() → rotate_reclaimable_page() puts it in the CPU's
 * lru_rotate_pvecs batch, from interrupt context, every `every` ns in [from, to).
 */
function writebackCompletions(k: Kernel, cpu: number, every: number, from: number, to: number): void {
  const kind = k.engine.register("blk_complete_rq", () => {
    k.irq.raise(
      cpu,
      segment("blk_mq_complete_request", 100, Context.irq, {
        start: () => k.lru.lruCacheAdd(cpu, LruList.inactive_file),
      }),
    );
    const next = k.engine.now + every;
    if (next < to) k.engine.schedule(next, kind, cpu, 0, EventPriority.hardware);
  });
  k.engine.schedule(from, kind, cpu, 0, EventPriority.hardware);
}

/** Runs `k` in 10 ns steps until `pred` holds (at most `limit` ns more); returns the time. */
function runUntilTrue(k: Kernel, pred: () => boolean, limit = 10 * MS): number {
  const end = k.engine.now + limit;
  while (!pred()) {
    if (k.engine.now >= end) throw new Error("condition never held");
    k.engine.runUntil(k.engine.now + 10);
  }
  return k.engine.now;
}

describe("lru-spinlock-drain, variant spinlock (QPW: remote drain under a per-CPU spinlock)", () => {
  it("linux-4.9 without it: lru_add_drain_all() queues lru_add_drain_per_cpu on the isolated CPUs that wrote", () => {
    const { report } = simulate(scenario());
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBe(6);
    expect(report.cpus[2]!.interruptions.kworker_lru_drain).toBe(6);
    expect(report.cpus[3]!.interruptions.kworker_lru_drain).toBe(0);
  });

  it("with it: no kworker_lru_drain on any isolated CPU; the caller drains their batches itself and the invariants hold", () => {
    const base = simulate(scenario()).report;
    const { report, kernel } = simulate(scenario(), { mechanisms: [lruSpinlockDrain()] });
    for (const c of report.cpus.slice(1)) expect(c.interruptions.kworker_lru_drain).toBe(0);
    // What is left of the kworker wakeups on CPUs 1-2 is vmstat_update's.
    for (const cpu of [1, 2]) {
      expect(report.cpus[cpu]!.interruptions.ipi_resched).toBeLessThan(base.cpus[cpu]!.interruptions.ipi_resched);
      expect(report.cpus[cpu]!.interruptions.ipi_resched).toBeLessThanOrEqual(report.cpus[cpu]!.interruptions.kworker_vmstat);
    }
    const st = stats(report);
    expect(report.housekeeping.lru_drains).toBe(base.housekeeping.lru_drains);
    expect(st.drain_calls).toBe(report.housekeeping.lru_drains);
    // Each write of CPUs 1 and 2 sits in its batch until the next call, which drains it remotely.
    expect(st.remote_drains).toBe(12);
    expect(st.pages_drained_remotely).toBe(12 * 8);
    expect(kernel.lru.batchCount(1) + kernel.lru.batchCount(2)).toBeLessThanOrEqual(16);
    // The isolated CPUs lose the drain noise; the owner pays ~13 cycles per add.
    expect(report.cpus[1]!.noise_ns).toBeLessThan(base.cpus[1]!.noise_ns);
    expect(st.owner_lock_ns_total).toBeGreaterThan(0);
    expect(report.kernel.mechanisms).toEqual([{ name: "lru-spinlock-drain", variant: "spinlock" }]);
    expect(report.invariants.checked).toEqual(expect.arrayContaining(["lru-exclusive", "lru-conservation", "lru-drain-complete"]));
    expect(report.invariants.violations).toEqual([]);
  });

  it("moves the cost to the caller, and the caller's time grows with the CPU count: it checks every CPU", () => {
    const small = stats(simulate(scenario(8), { mechanisms: [lruSpinlockDrain()] }).report);
    const large = stats(simulate(scenario(64), { mechanisms: [lruSpinlockDrain()] }).report);
    expect(small.cpus_checked).toBe(small.drain_calls * 8);
    expect(large.cpus_checked).toBe(large.drain_calls * 64);
    expect(small.drain_caller_ns_mean).toBeGreaterThanOrEqual(8 * 20);
    expect(large.drain_caller_ns_mean).toBeGreaterThanOrEqual(64 * 20);
    expect(large.drain_caller_ns_mean - small.drain_caller_ns_mean).toBeGreaterThanOrEqual(56 * 20);
  });

  it("the owner's adds are charged the extra cycles: 13 cycles at 3 GHz per page", () => {
    const { report } = simulate(scenario(), { mechanisms: [lruSpinlockDrain()] });
    // 2 CPUs × 6 writes × 8 pages in the window, 4.33 ns each (fractions carried).
    const adds = 2 * 6 * 8;
    expect(stats(report).owner_lock_ns_total).toBeGreaterThanOrEqual(Math.floor((adds * 13) / 3) - 2);
    expect(stats(report).owner_lock_ns_total).toBeLessThanOrEqual(Math.ceil((adds * 13) / 3));
  });

  it("an owner's add while the drainer holds its lock waits, in simulated time, until the drainer releases it", () => {
    const spec = scenario(4, [], { warmup: 0, workload: [{ type: "user-loop", cpus: "1-3" }, { type: "syscall", cpus: "1", every: 10 * S, at: 100 * MS, call: "file-write", pages: 8 }, { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 200 * MS }] });
    const k = buildKernel(spec, { mechanisms: [lruSpinlockDrain()] });
    k.engine.runUntil(199 * MS);
    const lock = lruBatchLock(k, 1);
    expect(k.lru.batchCount(1)).toBe(8);
    const taken = runUntilTrue(k, () => lock.holder === 0);
    syscall(k, 1, "file-write", 8);
    const released = runUntilTrue(k, () => lock.holder !== 0);
    expect(released - taken).toBeGreaterThanOrEqual(50 + 8 * 50 - 10);
    // The owner got the lock at the handoff and added its 8 pages then.
    k.engine.runUntil(k.engine.now + 100 * US);
    expect(k.lru.batchCount(1)).toBe(8);
    expect(k.lru.waiting).toBe(0);
    k.engine.runUntil(spec.duration);
    k.finish();
    const report = buildReport(k, spec);
    const st = stats(report);
    expect(st.contended_acquires).toBe(1);
    expect(st.max_lock_wait_ns).toBeGreaterThan(0);
    expect(st.max_lock_wait_ns).toBeLessThanOrEqual(released - taken);
    expect(st.spin_ns_total).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("lru-exclusive catches a drainer that skips the lock: the owner adds while the drainer is inside its batch", () => {
    const spec = scenario(4, [], { warmup: 0, workload: [{ type: "user-loop", cpus: "1-3" }, { type: "syscall", cpus: "1", every: 10 * S, at: 100 * MS, call: "file-write", pages: 8 }, { type: "lru-drain-all", cpus: "0", every: 10 * S, at: 200 * MS }] });
    const k = buildKernel(spec, { mechanisms: [lruSpinlockDrain({ faults: { drainerSkipsLock: true } })] });
    k.engine.runUntil(199 * MS);
    const lock = lruBatchLock(k, 1);
    runUntilTrue(k, () => lock.inside.includes(0));
    syscall(k, 1, "file-write", 8);
    k.engine.runUntil(spec.duration);
    k.finish();
    const v = buildReport(k, spec).invariants.violations;
    expect(v.length).toBeGreaterThan(0);
    expect(v.every((x) => x.invariant === "lru-exclusive" && x.cpu === 1)).toBe(true);
    expect(v[0]!.detail).toMatch(/CPU 1 \(owner\) entered CPU 1's LRU batch while CPU 0 \(a remote drainer\) was inside it/);
  });

  /** The workload of apps/demo/scenarios/lru-exclusive.json (its test in apps/demo runs the file itself): 2 MiB writes every 2 ms racing drains every 1 ms, both jittered. */
  const racing = scenario(4, [], {
    name: "lru-exclusive",
    duration: S,
    warmup: 100 * MS,
    workload: [
      { type: "user-loop", cpus: "1-3" },
      { type: "syscall", cpus: "1-3", every: 2 * MS, jitter: 2 * MS, call: "file-write", pages: 512 },
      { type: "lru-drain-all", cpus: "0", every: MS, jitter: MS },
    ],
  });

  it("a drain racing the owners' adds (the shipped lru-exclusive scenario): the locks are contended and lru-exclusive holds", () => {
    const { report } = simulate(racing, { mechanisms: [lruSpinlockDrain()] });
    expect(stats(report).contended_acquires).toBeGreaterThan(10);
    expect(report.invariants.checked).toContain("lru-exclusive");
    expect(report.invariants.violations).toEqual([]);
  });

  it("lru-exclusive catches, in that scenario run, a drainer that skips the lock", () => {
    const { report } = simulate(racing, { mechanisms: [lruSpinlockDrain({ faults: { drainerSkipsLock: true } })] });
    const v = report.invariants.violations;
    expect(v.length).toBeGreaterThan(0);
    expect(v.every((x) => x.invariant === "lru-exclusive")).toBe(true);
    // Found live, at the first drain that reached a batch while its owner was adding.
    expect(v[0]!.time_ns).toBeGreaterThan(0);
    expect(v[0]!.time_ns).toBeLessThan(S);
    expect([1, 2, 3]).toContain(v[0]!.cpu);
    expect(v[0]!.detail).toMatch(new RegExp(`^CPU \\d \\((owner|remote drainer)\\) (entered|touched) CPU ${v[0]!.cpu}'s LRU batch while CPU \\d \\((its owner|a remote drainer)\\) was inside it$`));
  });

  it("under a storm of interrupt-context page adds every lru_add_drain_all() still completes, each lock wait bounded", () => {
    const spec = scenario(4, [], { warmup: 0, duration: S });
    const k = buildKernel(spec, { mechanisms: [lruSpinlockDrain()] });
    writebackCompletions(k, 1, 300, 390 * MS, 410 * MS);
    k.engine.runUntil(spec.duration);
    k.finish();
    const report = buildReport(k, spec);
    const st = stats(report);
    expect(st.drain_calls).toBe(report.housekeeping.lru_drains);
    expect(report.housekeeping.lru_drains).toBe(4);
    expect(report.cpus[1]!.interruptions.kworker_lru_drain).toBe(0);
    expect(st.max_lock_wait_ns).toBeLessThan(2 * US);
    expect(report.invariants.violations).toEqual([]);
  });
});

describe("lru-spinlock-drain, variant drain-on-return (pre-2016 task isolation)", () => {
  it("drains on every return to user of an isolated CPU: no kworker_lru_drain there, the cost is on the return path", () => {
    const { report } = simulate(scenario(), { mechanisms: [lruSpinlockDrain({ variant: "drain-on-return" })] });
    for (const c of report.cpus.slice(1)) expect(c.interruptions.kworker_lru_drain).toBe(0);
    const st = stats(report);
    expect(st.returns_drained).toBe(12);
    expect(st.return_loops_max).toBe(1);
    expect(st.return_loop_limit_hits).toBe(0);
    expect(st.return_drain_ns_total).toBe(12 * (200 + 8 * 50));
    expect(report.kernel.mechanisms).toEqual([{ name: "lru-spinlock-drain", variant: "drain-on-return" }]);
    expect(report.invariants.violations).toEqual([]);
  });

  it("can fail to terminate: interrupt-context adds refill the batch in every drain window, until the loop limit", () => {
    const spec = scenario(4, [], { warmup: 0, duration: S });
    const k = buildKernel(spec, { mechanisms: [lruSpinlockDrain({ variant: "drain-on-return", returnLoopLimit: 200 })] });
    writebackCompletions(k, 1, 300, 390 * MS, 410 * MS);
    k.engine.runUntil(spec.duration);
    k.finish();
    const st = stats(buildReport(k, spec));
    expect(st.return_loop_limit).toBe(200);
    expect(st.return_loops_max).toBe(200);
    expect(st.return_loop_limit_hits).toBeGreaterThan(0);
  });

  it("terminates after one or two iterations when the adds are slower than a drain", () => {
    const spec = scenario(4, [], { warmup: 0, duration: S });
    const k = buildKernel(spec, { mechanisms: [lruSpinlockDrain({ variant: "drain-on-return" })] });
    writebackCompletions(k, 1, 20 * US, 390 * MS, 410 * MS);
    k.engine.runUntil(spec.duration);
    k.finish();
    const st = stats(buildReport(k, spec));
    expect(st.return_loops_max).toBeLessThanOrEqual(2);
    expect(st.return_loop_limit_hits).toBe(0);
  });
});

describe("lru-spinlock-drain options", () => {
  it("rejects an invalid figure, naming it and what is valid", () => {
    expect(() => lruSpinlockDrain({ spinPollNs: 0 })).toThrow(/spinPollNs: 0 is not valid \(valid: an integer >= 1 and <= 1000000000 ns \(1ns to 1s\)\)/);
    expect(() => lruSpinlockDrain({ movePageNs: 1.5 })).toThrow(/movePageNs: 1.5 is not valid/);
    expect(() => lruSpinlockDrain({ checkCpuNs: 1e30 })).toThrow("lru-spinlock-drain.options.checkCpuNs: 1e+30 is not valid (valid: an integer >= 0 and <= 1000000000 ns (0ns to 1s))");
    expect(() => lruSpinlockDrain({ cpuMhz: "3000" as unknown as number })).toThrow(/cpuMhz: "3000" is not valid/);
    expect(() => lruSpinlockDrain({ colour: 1 } as never)).toThrow(/lru-spinlock-drain\.options\.colour: unknown option of lru-spinlock-drain \(valid: spinLockExtraCycles, /);
  });

  it("has a row of the limits table for every option, and every default lies within it", () => {
    expect(Object.keys(lruSpinlockDrainOptionLimits).sort()).toEqual(Object.keys(lruSpinlockDrainDefaults).sort());
    expect(() => lruSpinlockDrain({ ...lruSpinlockDrainDefaults })).not.toThrow();
    expect(lruSpinlockDrain().options).toBe(lruSpinlockDrainOptionLimits);
  });
});

describe("lru-spinlock-drain qpw (Tosatti, QPW v2: CONFIG_QPW, qpw=1)", () => {
  /** scenario() on a 1 s run, booted from a command line (qpw= is a boot option). */
  const booted = (cmdline: string): ScenarioSpec => {
    const s = scenario(4, [], { duration: S });
    return { ...s, kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, cmdline } };
  };

  it("with qpw=1 the caller drains remote batches as spinlock does: no kworker_lru_drain on isolated CPUs", () => {
    const base = simulate(booted("nohz_full=1-3 qpw=1")).report;
    expect(base.cpus[1]!.interruptions.kworker_lru_drain).toBeGreaterThan(0);
    const { report } = simulate(booted("nohz_full=1-3 qpw=1"), { mechanisms: [lruSpinlockDrain({ variant: "qpw" })] });
    const spin = simulate(booted("nohz_full=1-3 qpw=1"), { mechanisms: [lruSpinlockDrain()] }).report;
    for (const c of report.cpus.slice(1)) expect(c.interruptions.kworker_lru_drain).toBe(0);
    expect(stats(report).remote_drains).toBeGreaterThan(0);
    expect(stats(report).remote_drains).toBe(stats(spin).remote_drains);
    expect(report.mechanism_stats["lru-spinlock-drain"]!.variant).toBe("qpw");
    expect(report.kernel.mechanisms).toEqual([{ name: "lru-spinlock-drain", variant: "qpw" }]);
    expect(report.invariants.violations).toEqual([]);
  });

  it("without qpw=1 (or with qpw=0) it is a composition error saying what is missing", () => {
    for (const cmdline of ["nohz_full=1-3", "nohz_full=1-3 qpw=0"]) {
      expect(() => simulate(booted(cmdline), { mechanisms: [lruSpinlockDrain({ variant: "qpw" })] })).toThrow(
        /lru-spinlock-drain\.variant: "qpw" needs QPW enabled at boot \(CONFIG_QPW with qpw=1, QPW v2\).*add qpw=1 to kernel\.cmdline/,
      );
    }
    // The param does the same as the boot option.
    const s = scenario(4, [], { duration: 200 * MS });
    const { report } = simulate({ ...s, kernel: { ...s.kernel, params: { qpw: true } } }, { mechanisms: [lruSpinlockDrain({ variant: "qpw" })] });
    expect(report.invariants.violations).toEqual([]);
  });
});
