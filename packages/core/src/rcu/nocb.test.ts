import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec } from "../scenario.js";
import type { Mechanism } from "../mechanism.js";
import { intSqrt, linux49NocbLayout } from "./nocb.js";
import type { NocbLayout } from "./nocb.js";

const S = 1_000_000_000;
const MS = 1_000_000;

const spec = (cpus: number, nohzFull: string, params: Record<string, unknown> = {}): ScenarioSpec => ({
  name: "nocb",
  seed: 1,
  duration: S,
  warmup: 0,
  kernel: { preset: "linux-4.9", cpus, hz: 1000, nohzFull, params },
  workload: [{ type: "user-loop", cpus: nohzFull }, { type: "syscall", cpus: nohzFull, call: "call-rcu", every: 100 * MS }],
});

/** The 2016 idea (mainline v4.20 in effect): one rcuo kthread per offloaded CPU for all flavours, leaders as in 4.9. */
const mergedLayout: NocbLayout = (k, flavours, nocbCpus) =>
  linux49NocbLayout(k, flavours.slice(0, 1), nocbCpus).map((s) => ({
    ...s,
    name: `rcuo/${s.cb[0]!.cpu}`,
    gp: flavours.flatMap((f) => s.gp.map((r) => ({ flavour: f.index, cpu: r.cpu }))),
    cb: flavours.map((f) => ({ flavour: f.index, cpu: s.cb[0]!.cpu })),
  }));

const withLayout = (layout: NocbLayout): Mechanism => ({
  name: "test-nocb-layout",
  description: "replaces kernel.rcu.nocbLayout",
  install(k) {
    k.rcu.nocbLayout = layout;
  },
});

describe("rcuo kthreads (CONFIG_RCU_NOCB_CPU, 4.9 tree_plugin.h)", () => {
  it("int_sqrt() is the floor of the square root", () => {
    expect([0, 1, 3, 4, 8, 9, 15, 16, 1023, 1024].map(intSqrt)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 31, 32]);
  });

  it("groups offloaded CPUs by rcu_nocb_leader_stride = int_sqrt(nr_cpu_ids); the group's first CPU leads", () => {
    const k = buildKernel(spec(16, "1-15"));
    const leaders = k.rcu.nocb.kthreads.filter((kt) => kt.gpQueues.length > 0 && kt.spec.name.startsWith("rcuop/"));
    expect(leaders.map((kt) => kt.spec.name)).toEqual(["rcuop/1", "rcuop/4", "rcuop/8", "rcuop/12"]);
    expect(leaders.map((kt) => kt.gpQueues.map((q) => q.ref.cpu))).toEqual([[1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]);
    const k2 = buildKernel(spec(16, "1-15", { rcu_nocb_leader_stride: 8 }));
    expect(k2.rcu.nocb.kthreads.filter((kt) => kt.gpQueues.length > 0).map((kt) => kt.spec.name)).toEqual(["rcuop/1", "rcuos/1", "rcuob/1", "rcuop/8", "rcuos/8", "rcuob/8"]);
  });

  it("a call_rcu() on an empty queue wakes only the group leader; the leader wakes its followers after the grace period", () => {
    const { kernel: k, report } = simulate(spec(16, "1-15"));
    const byName = new Map(k.rcu.nocb.kthreads.map((kt) => [kt.spec.name, kt]));
    // 9 rounds: each wakes the leader, which runs once to collect, once after the GP; followers once per GP.
    expect(byName.get("rcuop/5")!.task.wakeups).toBe(9);
    expect(byName.get("rcuop/5")!.invoked).toBe(9);
    expect(byName.get("rcuop/4")!.invoked).toBe(9);
    expect(byName.get("rcuop/4")!.task.wakeups).toBeGreaterThanOrEqual(18);
    expect(byName.get("rcuos/5")!.task.wakeups).toBe(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("lets a mechanism replace the layout: one rcuo per CPU for all flavours leaves 7 kthreads for nohz_full=1-7", () => {
    const { report, kernel: k } = simulate(spec(8, "1-7"), { mechanisms: [withLayout(mergedLayout)] });
    expect(report.kthreads.rcu_callback).toBe(7);
    expect(k.rcu.stats.callbacksInvoked).toBe(k.rcu.stats.callbacksQueued);
    for (const c of report.cpus.slice(1)) expect(c.interruptions.rcu).toBe(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("rejects a layout that leaves an offloaded queue without a grace-period kthread", () => {
    const broken: NocbLayout = (k, f, cpus) => linux49NocbLayout(k, f, cpus).map((s) => ({ ...s, gp: [] }));
    expect(() => buildKernel(spec(8, "1-7"), { mechanisms: [withLayout(broken)] })).toThrow(/no grace-period kthread/);
  });
});

describe("CONFIG_RCU_LAZY (6.12 tree_nocb.h: rcu_nocb_try_bypass(), LAZY_FLUSH_JIFFIES)", () => {
  /** 4 CPUs, HZ 250, nohz_full=1-3 (offloaded), a busy task on each, a rare call_rcu() on CPU 3 every second. */
  const lazySpec = (params: Record<string, unknown>, duration = 25 * S): ScenarioSpec => ({
    name: "rcu-lazy",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 250, nohzFull: "1-3", params },
    workload: [{ type: "user-loop", cpus: "1-3" }, { type: "syscall", cpus: "3", call: "call-rcu", every: S }],
  });
  const leaderOf3 = (k: ReturnType<typeof simulate>["kernel"]) => k.rcu.nocb.kthreads.find((kt) => kt.gpQueues.some((q) => q.ref.cpu === 3 && q.ref.flavour === k.rcu.callRcuState.flavour.index))!;

  it("without it, each rare call_rcu() wakes the GP kthread of CPU 3's queue on the housekeeping CPU", () => {
    const { kernel: k, report } = simulate(lazySpec({}));
    const kt = leaderOf3(k);
    expect(k.rcu.stats.callbacksQueued).toBe(24);
    // one wakeup to collect, one after the grace period, per call
    expect(kt.task.wakeups).toBeGreaterThanOrEqual(2 * 24);
    expect(report.invariants.violations).toEqual([]);
  });

  it("batches rare call_rcu() callbacks for jiffies_lazy_flush: the GP kthread wakes about once per 10 s, the callbacks still run, no rcu-callbacks-invoked violation", () => {
    const { kernel: k, report } = simulate(lazySpec({ rcu_lazy: true }));
    const kt = leaderOf3(k);
    expect(k.rcu.stats.callbacksQueued).toBe(24);
    // Two lazy flushes in 25 s (the calls of 1-11 s at ~11 s, of 12-22 s at ~22 s): each a timer
    // wakeup and a wakeup after the grace period, instead of two wakeups per call.
    expect(kt.task.wakeups).toBe(4);
    // The callbacks of both flushed windows ran; the last two calls' are still in the lazy bypass.
    expect(k.rcu.stats.callbacksInvoked).toBe(22);
    expect(k.rcu.nocb.pending()).toBe(2);
    expect(report.invariants.violations).toEqual([]);
    // The housekeeping CPU sees the rcuo kthreads run a few times, not per call.
    const eager = simulate(lazySpec({})).report.cpus[0]!.interruptions;
    expect(report.cpus[0]!.interruptions.rcu).toBe(4);
    expect(eager.rcu).toBe(48);
    expect(report.cpus[3]!.interruptions.rcu).toBe(0);
  });

  it("a non-lazy grace period on the way does not make the checker expect a lazy callback early", () => {
    // rcu_sched/rcu_bh grace periods of the housekeeping CPU's own callbacks run throughout.
    const s = lazySpec({ rcu_lazy: true, rcu_lazy_flush_ns: 2 * S }, 12 * S);
    s.workload = [{ type: "user-loop", cpus: "0-3" }, ...s.workload.slice(1), { type: "syscall", cpus: "0", call: "call-rcu", every: 100 * MS }];
    let lazyInvoked = 0;
    let longestWait = 0;
    const watch: Mechanism = {
      name: "test-watch-lazy",
      description: "records when lazy callbacks run",
      install(kk) {
        kk.hooks.rcuInvokeCallback.push((cb) => {
          if (!cb.lazy) return;
          lazyInvoked++;
          longestWait = Math.max(longestWait, kk.engine.now - cb.queuedAt);
        });
      },
    };
    const { kernel: k, report } = simulate(s, { mechanisms: [watch] });
    // CPU 0's callbacks keep grace periods completing, so the grace period numbered after a lazy
    // callback's call_rcu() ends long before that callback is even handed to RCU...
    expect(k.rcu.callRcuState.completed).toBeGreaterThan(50);
    expect(lazyInvoked).toBeGreaterThanOrEqual(8);
    expect(longestWait).toBeGreaterThan(1.5 * S);
    // ...which the checker allows for (bound 1 s after the later of that end and the lazy flush window).
    expect(report.invariants.violations).toEqual([]);
    expect(k.rcu.stats.callbacksInvoked + k.rcu.nocb.pending()).toBe(k.rcu.stats.callbacksQueued);
  });
});
