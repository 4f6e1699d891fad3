import { describe, expect, it } from "vitest";
import { buildKernel, simulate } from "../simulate.js";
import type { ScenarioSpec, WorkloadSpec } from "../scenario.js";
import { CtState, CT_STATE_MASK } from "../machine/cpu.js";
import { Src } from "../accounting/sources.js";
import type { TraceSink } from "../trace.js";
import { wheelExpiry } from "../time/timer.js";
import { Policy } from "../sched/task.js";

const S = 1_000_000_000;
const MS = 1_000_000;

function scenario(workload: WorkloadSpec[], over: Partial<ScenarioSpec["kernel"]> = {}, duration = 2 * S): ScenarioSpec {
  return {
    name: "rcu",
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 8, hz: 1000, nohzFull: "1-7", ...over },
    workload,
  };
}

const userLoop: WorkloadSpec = { type: "user-loop", cpus: "1-7" };

describe("RCU grace periods and offloaded callbacks (linux-4.9)", () => {
  it("runs call_rcu() callbacks of nohz_full CPUs in rcuo kthreads on CPU 0, never interrupting the callers", () => {
    const { report, kernel: k } = simulate(scenario([userLoop, { type: "syscall", cpus: "1-7", call: "call-rcu", every: 100 * MS }]));
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.rcu).toBe(0);
      expect(c.interruptions.kthread).toBe(0);
      expect(c.interruptions.ipi_resched).toBe(0);
      expect(c.interruptions.ipi_call_function).toBe(0);
    }
    const cpu0 = report.cpus[0]!;
    expect(cpu0.interruptions.rcu).toBeGreaterThan(0);
    expect(cpu0.interruptions.ipi_resched).toBeGreaterThan(0);
    // Calls at 100 ms .. 1.9 s (the one due at 2 s enters the kernel after the end): all invoked.
    expect(k.rcu.stats.callbacksQueued).toBe(7 * 19);
    expect(k.rcu.stats.callbacksInvoked).toBe(7 * 19);
    expect(k.rcu.nocb.pending()).toBe(0);
    for (const kt of k.rcu.nocb.kthreads) expect(kt.task.cpu).toBe(0);
    const rcuop = k.rcu.nocb.kthreads.filter((kt) => kt.spec.name.startsWith("rcuop/"));
    expect(rcuop).toHaveLength(7);
    for (const kt of rcuop) expect(kt.invoked).toBe(19);
    expect(report.housekeeping.noise_ns).toBeGreaterThan(0);
    expect(k.rcu.callRcuState.gpsCompleted).toBeGreaterThanOrEqual(19);
    expect(report.invariants.checked).toEqual(expect.arrayContaining(["rcu-gp-progress", "rcu-callbacks-invoked", "rcu-forced-tick"]));
    expect(report.invariants.violations).toEqual([]);
  });

  it("creates one GP kthread per flavour and rcuop/rcuos/rcuob per offloaded CPU: 3 and 21 for nohz_full=1-7", () => {
    const { report, kernel: k } = simulate(scenario([userLoop], {}, 10 * MS));
    expect(report.kthreads.rcu_gp).toBe(3);
    expect(report.kthreads.rcu_callback).toBe(21);
    const names = k.sched.tasks.filter((t) => t.role === "rcu_gp" || t.role === "rcu_callback").map((t) => t.name);
    expect(names.slice(0, 6)).toEqual(["rcu_preempt", "rcu_sched", "rcu_bh", "rcuop/1", "rcuos/1", "rcuob/1"]);
    expect(names).toContain("rcuob/7");
  });

  it("has only rcu_sched and rcu_bh without CONFIG_PREEMPT_RCU (preempt_rcu=false): call_rcu() goes to rcu_sched", () => {
    const { report, kernel: k } = simulate(scenario([userLoop, { type: "syscall", cpus: "2", call: "call-rcu", every: 100 * MS }], { params: { preempt_rcu: false } }, S));
    expect(report.kthreads.rcu_gp).toBe(2);
    expect(report.kthreads.rcu_callback).toBe(14);
    expect(k.rcu.callRcuState.flavour.name).toBe("rcu_sched");
    expect(k.rcu.callRcuState.gpsCompleted).toBeGreaterThan(5);
    expect(report.invariants.violations).toEqual([]);
  });

  it("scans every 1 + (HZ>250) + (HZ>500) + nr_cpu_ids/256 jiffies", () => {
    const fqs = (cpus: number, hz: number): number =>
      buildKernel({ name: "g", seed: 1, duration: S, warmup: 0, kernel: { preset: "linux-4.9", cpus, hz }, workload: [] }).rcu.fqsJiffies();
    expect(fqs(8, 1000)).toBe(3);
    expect(fqs(8, 250)).toBe(1);
    expect(fqs(8, 300)).toBe(2);
    expect(fqs(1024, 1000)).toBe(7);
  });

  it("finds busy user-mode nohz_full CPUs quiescent by reading their dynticks counter, sending them nothing", () => {
    const { report, kernel: k } = simulate(scenario([userLoop, { type: "syscall", cpus: "1", call: "call-rcu", every: 50 * MS }]));
    const rsp = k.rcu.callRcuState;
    expect(rsp.gpsCompleted).toBeGreaterThanOrEqual(35);
    expect(rsp.fqsScans).toBeGreaterThanOrEqual(rsp.gpsCompleted);
    for (const c of report.cpus.slice(1)) {
      const { tick, ...others } = c.interruptions;
      expect(Object.values(others).every((v) => v === 0)).toBe(true);
      expect(tick).toBeLessThanOrEqual(3);
    }
    expect(Array.from(k.rcu.stats.reschedCpu).every((n) => n === 0)).toBe(true);
    expect(report.invariants.violations).toEqual([]);
  });

  it("4.9 resched_cpu()s a holdout at every FQS pass once the GP is older than jiffies_till_sched_qs (tree.c:1221), not once then every 5 jiffies", () => {
    const k = buildKernel(
      scenario([
        userLoop,
        { type: "kernel-loop", cpus: "3", at: 500 * MS, every: 10 * S, run: 400 * MS },
        { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: 10 * S },
      ]),
    );
    // CPU 3's quiescent states go unseen (broken on purpose), so the GP keeps waiting on it.
    const dynticksQs = k.rcu.dynticksQs;
    k.rcu.dynticksQs = (rsp, rdp) => rdp.cpu !== 3 && dynticksQs(rsp, rdp);
    const rsp = k.rcu.callRcuState;
    k.engine.runUntil(521 * MS);
    const start = rsp.gpStartNs;
    expect(k.rcu.gpInProgress(rsp)).toBe(true);
    k.engine.runUntil(start + 49 * MS);
    expect(k.rcu.stats.reschedCpu[3]).toBe(0);
    expect(k.rcu.rcuSchedQsMask[3]).toBe(0);
    k.engine.runUntil(start + 350 * MS);
    expect(rsp.qsmask[3]).toBe(1);
    // One pass per FQS wait over the 300 ms after jiffies_till_sched_qs (50 ms): the wait is a
    // schedule_timeout(fqsJiffies()) whose level-0 wheel timer fires at its bucket's expiry, one jiffy
    // after it is due (4.9 calc_index()), so a pass comes every wheelExpiry(3 jiffies) = 4 jiffies.
    const wait = wheelExpiry(k.rcu.fqsJiffies(), 0, k.params.hz);
    const passes = Math.floor(300 / wait);
    expect(k.rcu.stats.reschedCpu[3]).toBeGreaterThanOrEqual(passes - 2);
    expect(k.rcu.stats.reschedCpu[3]).toBeLessThanOrEqual(passes + 2);
  });

  it("resched_cpu()s a nohz_full CPU looping in the kernel after jiffies_till_sched_qs; the GP completes during the loop", () => {
    const k = buildKernel(
      scenario([
        userLoop,
        { type: "kernel-loop", cpus: "3", at: 500 * MS, every: 10 * S, run: 200 * MS },
        { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: 10 * S },
      ]),
    );
    const rsp = k.rcu.callRcuState;
    k.engine.runUntil(521 * MS);
    const gp = rsp.gpnum;
    expect(k.rcu.gpInProgress(rsp)).toBe(true);
    expect(rsp.qsmask[3]).toBe(1);
    k.engine.runUntil(560 * MS);
    expect(rsp.completed).toBeLessThan(gp);
    expect(k.rcu.stats.reschedCpu[3]).toBe(0);
    k.engine.runUntil(650 * MS);
    expect(k.cpus[3]!.ctWord & CT_STATE_MASK).toBe(CtState.kernel);
    expect(rsp.completed).toBeGreaterThanOrEqual(gp);
    expect(k.rcu.stats.reschedCpu[3]).toBe(1);
    expect(k.accounting.cpus[3]!.counts[Src.ipi_resched]).toBe(1);
    expect(k.rcu.stats.callbacksInvoked).toBe(1);
    for (const cpu of [1, 2, 4, 5, 6, 7]) expect(k.rcu.stats.reschedCpu[cpu]).toBe(0);
    k.engine.runUntil(2 * S);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
  });

  it("6.1 path (tick_dep_rcu=true): the looping CPU sets TICK_DEP_BIT_RCU on itself and its tick reports the QS", () => {
    const { report, kernel: k } = simulate(
      scenario(
        [
          userLoop,
          { type: "kernel-loop", cpus: "3", at: 500 * MS, every: 10 * S, run: 200 * MS },
          { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: 10 * S },
        ],
        { params: { tick_dep_rcu: true } },
      ),
    );
    expect(k.rcu.stats.tickDepSet[3]).toBeGreaterThanOrEqual(1);
    expect(report.cpus[3]!.tick.kept_by.RCU).toBeGreaterThan(0);
    expect(k.tick.ts[3]!.depMask & (1 << 4)).toBe(0);
    expect(k.rcu.stats.callbacksInvoked).toBe(1);
    expect(report.invariants.violations).toEqual([]);
  });

  it("invokes callbacks of a non-offloaded CPU in its RCU_SOFTIRQ, counted as rcu interruptions there", () => {
    const { report, kernel: k } = simulate(
      scenario([{ type: "user-loop", cpus: "0-7" }, { type: "syscall", cpus: "0", call: "call-rcu", every: 100 * MS }]),
    );
    expect(report.cpus[0]!.interruptions.rcu).toBeGreaterThanOrEqual(18);
    expect(k.rcu.stats.callbacksInvoked).toBeGreaterThanOrEqual(19);
    expect(report.kthreads.rcu_callback).toBe(21);
    for (const kt of k.rcu.nocb.kthreads) expect(kt.task.wakeups).toBe(0);
    for (const c of report.cpus.slice(1)) expect(c.interruptions.rcu).toBe(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("counts each RCU_SOFTIRQ run once under rcu on the CPU that runs it; nohz_full CPUs ignore RCU at their residual tick (4.9 rcu_nohz_full_cpu())", () => {
    const runs = new Int32Array(8);
    const trace: TraceSink = {
      slice: () => {},
      instant: () => {},
      flow: () => {},
      segment: (cpu, seg) => {
        if (seg.name === "softirq:RCU") runs[cpu]!++;
      },
    };
    // Only CPU 0 (not offloaded) calls call_rcu(): no rcuo kthread runs, every rcu count is a softirq run.
    const spec = scenario([{ type: "user-loop", cpus: "0-7" }, { type: "syscall", cpus: "0", call: "call-rcu", every: 100 * MS }]);
    const { report } = simulate(spec, { trace });
    expect(runs[0]).toBeGreaterThanOrEqual(18);
    for (const c of report.cpus) expect(c.interruptions.rcu).toBe(runs[c.cpu]);
    // The residual tick of a busy nohz_full CPU finds no grace period older than HZ: no softirq.
    for (const c of report.cpus.slice(1)) expect(c.interruptions.rcu).toBe(0);
  });

  it("gives the same digest for the same seed", () => {
    const spec = scenario([userLoop, { type: "syscall", cpus: "1-7", call: "call-rcu", every: 30 * MS, jitter: 5 * MS }], {}, S / 2);
    expect(simulate(spec).report.digest).toBe(simulate(spec).report.digest);
  });
});

describe("PREEMPT_RT RCU kthreads (params.rcuUseSoftirq false: rcuc/N; params.rcuBoost: rcub/N)", () => {
  const rcuc = { rcu_use_softirq: false };
  const rt = { rcu_use_softirq: false, rcu_boost: true };

  it("runs RCU core work in CPU 0's rcuc/0 kthread instead of RCU_SOFTIRQ: the same callbacks invoked, each kthread run one rcu count", () => {
    const segs = new Map<string, number>();
    const trace: TraceSink = {
      slice: () => {},
      instant: () => {},
      flow: () => {},
      segment: (cpu, seg) => {
        const key = `${cpu}:${seg.name}`;
        segs.set(key, (segs.get(key) ?? 0) + 1);
      },
    };
    const work: WorkloadSpec[] = [{ type: "user-loop", cpus: "0-7" }, { type: "syscall", cpus: "0", call: "call-rcu", every: 100 * MS }];
    const soft = simulate(scenario(work));
    const { report, kernel: k } = simulate(scenario(work, { params: rcuc }), { trace });
    expect(segs.get("0:softirq:RCU")).toBeUndefined();
    const rcuc0 = k.rcu.rcucTasks[0]!;
    expect(rcuc0.name).toBe("rcuc/0");
    expect(rcuc0.wakeups).toBeGreaterThanOrEqual(18);
    expect(segs.get("0:rcu_cpu_kthread:rcu_core")).toBe(rcuc0.wakeups);
    // One count per wakeup of rcuc/0, under `rcu` (the contract's RCU core work), none under `kthread`.
    expect(report.cpus[0]!.interruptions.rcu).toBe(rcuc0.wakeups);
    expect(report.cpus[0]!.interruptions.kthread).toBe(soft.report.cpus[0]!.interruptions.kthread);
    expect(k.rcu.stats.callbacksInvoked).toBe(soft.kernel.rcu.stats.callbacksInvoked);
    expect(k.rcu.stats.callbacksInvoked).toBeGreaterThanOrEqual(19);
    // Without RCU_BOOST the rcuc kthreads stay SCHED_OTHER.
    expect(rcuc0.policy).toBe(Policy.other);
    for (const c of report.cpus.slice(1)) expect(c.interruptions.rcu).toBe(0);
    expect(report.invariants.violations).toEqual([]);
  });

  it("wakes rcuc/3 on a nohz_full CPU where the softirq would run there (a grace period it holds past HZ jiffies, seen at its residual tick), counted under rcu, not kthread", () => {
    const work: WorkloadSpec[] = [
      userLoop,
      { type: "kernel-loop", cpus: "3", at: 500 * MS, every: 10 * S, run: 3 * S },
      { type: "syscall", cpus: "1", call: "call-rcu", at: 520 * MS, every: 10 * S },
    ];
    // No resched_cpu() while the loop runs (jiffies_till_sched_qs 5 s): the grace period waits for its end.
    const slow = { rcu_jiffies_till_sched_qs_ns: 5 * S };
    const soft = simulate(scenario(work, { params: slow }, 4 * S));
    const { report, kernel: k } = simulate(scenario(work, { params: { ...rt, ...slow } }, 4 * S));
    const softRcu = soft.report.cpus[3]!.interruptions.rcu;
    expect(softRcu).toBeGreaterThan(0);
    const rcuc3 = k.rcu.rcucTasks[3]!;
    expect(rcuc3.cpu).toBe(3);
    expect(rcuc3.policy).toBe(Policy.fifo);
    expect(rcuc3.wakeups).toBe(softRcu);
    expect(report.cpus[3]!.interruptions.rcu).toBe(softRcu);
    expect(report.cpus[3]!.interruptions.kthread).toBe(soft.report.cpus[3]!.interruptions.kthread);
    expect(k.rcu.stats.callbacksInvoked).toBe(1);
    expect(report.invariants.violations).toEqual([]);
  });

  it("creates rcuc/N on every CPU (role rcu_callback) and one rcub per leaf rcu_node (role rcu_gp); busy nohz_full CPUs never run them", () => {
    const { report, kernel: k } = simulate(scenario([userLoop], { params: rt }, 100 * MS));
    const base = simulate(scenario([userLoop], {}, 100 * MS)).report;
    expect(k.rcu.rcucTasks.map((t) => t!.name)).toEqual(["rcuc/0", "rcuc/1", "rcuc/2", "rcuc/3", "rcuc/4", "rcuc/5", "rcuc/6", "rcuc/7"]);
    expect(k.rcu.rcubTasks.map((t) => t.name)).toEqual(["rcub/0"]);
    expect(k.rcu.rcubTasks[0]!.cpu).toBe(0);
    expect(report.kthreads.rcu_callback).toBe(base.kthreads.rcu_callback + 8);
    expect(report.kthreads.rcu_gp).toBe(base.kthreads.rcu_gp + 1);
    expect(report.kthreads.total).toBe(base.kthreads.total + 9);
    for (const c of report.cpus.slice(1)) {
      expect(c.interruptions.rcu).toBe(0);
      expect(c.interruptions.kthread).toBe(0);
    }
    for (const t of k.rcu.rcubTasks) expect(t.wakeups).toBe(0);
  });

  it("numbers rcub by rcu_node index: 40 CPUs have 3 leaves under a root, rcub/1-3, each on its leaf's first housekeeping CPU or a housekeeping one", () => {
    const { kernel: k } = simulate({
      ...scenario([{ type: "user-loop", cpus: "1-39" }], { cpus: 40, nohzFull: "1-15,17-39", params: rt }, 10 * MS),
    });
    expect(k.rcu.rcubTasks.map((t) => `${t.name}@${t.cpu}`)).toEqual(["rcub/1@0", "rcub/2@16", "rcub/3@0"]);
    expect(k.rcu.rcucTasks).toHaveLength(40);
  });

  it("has no rcub without CONFIG_PREEMPT_RCU, and no rcuc with use_softirq", () => {
    const noPreempt = simulate(scenario([userLoop], { params: { ...rt, preempt_rcu: false } }, 10 * MS)).kernel;
    expect(noPreempt.rcu.rcubTasks).toEqual([]);
    const boostOnly = simulate(scenario([userLoop], { params: { rcu_boost: true } }, 10 * MS)).kernel;
    expect(boostOnly.rcu.rcucTasks.every((t) => t === null)).toBe(true);
    expect(boostOnly.rcu.rcubTasks).toHaveLength(1);
  });
});

describe("6.1 rcu_pending() on a nohz_full CPU in the kernel (params.rcuPendingNohzFullUserOnly)", () => {
  // CPU 2 loops 300 ms in the kernel every second while CPU 1's call_rcu() every 100 ms keeps grace periods coming.
  const work: WorkloadSpec[] = [
    { type: "user-loop", cpus: "1-3" },
    { type: "syscall", cpus: "1", call: "call-rcu", every: 100 * MS },
    { type: "kernel-loop", cpus: "2", every: S, run: 300 * MS },
  ];
  const run = (userOnly: boolean) =>
    simulate(
      scenario(work, { cpus: 4, hz: 250, nohzFull: "1-3", params: { tick_dep_rcu: true, tick_dep_kick_all: false, rcu_flavours_merged: true, rcu_jiffies_till_sched_qs_ns: 100 * MS, rcu_pending_nohz_full_user_only: userOnly } }, 4 * S),
    ).report;

  it("a tick forced by TICK_DEP_BIT_RCU reports the quiescent state at once (RCU softirq on the CPU), so the forced tick stops again", () => {
    const on = run(true);
    const off = run(false);
    expect(on.invariants.violations).toEqual([]);
    expect(off.invariants.violations).toEqual([]);
    const c2on = on.cpus[2]!, c2off = off.cpus[2]!;
    // 6.1: RCU_SOFTIRQ runs on CPU 2 from the forced tick; 4.9's rule (ignore RCU while the GP is younger than HZ jiffies) never raises it there.
    expect(c2on.interruptions.rcu).toBeGreaterThan(0);
    expect(c2off.interruptions.rcu).toBe(0);
    // Without it the forced tick runs on for the rest of each 300 ms loop (~50 ticks at HZ 250); with it,
    // the first tick in the loop (here the residual one: no remote-stats on linux-4.9) reports the QS.
    expect(c2off.tick.kept_by.RCU).toBeGreaterThan(100);
    expect(c2on.tick.kept_by.RCU).toBeLessThan(c2off.tick.kept_by.RCU / 5);
  });
});
