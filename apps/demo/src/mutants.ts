import type { InvariantId, Mechanism, MechanismRegistry } from "@isolsim/core";
import { lruSpinlockDrain } from "@isolsim/lru-spinlock-drain";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { rcuNocbMerge } from "@isolsim/rcu-nocb-merge";
import { remoteStats } from "@isolsim/remote-stats";
import { tlbDefer } from "@isolsim/tlb-defer";
import { vmstatQuiesce } from "@isolsim/vmstat-quiesce";
import { fromPackage, registry } from "./registry.js";

/**
 * The mutation check's deliberately broken mechanisms (issue 22): each is a mechanism package built
 * with a `faults` option, which only code can pass (the CLI's registry lets scenario files set none),
 * so a mutant is reachable from tests only. Each has a small hand-written scenario, in the scenario
 * file format, that shows which live invariant catches it (mutants.test.ts), and the mutation test
 * (mutation.test.ts) checks that `isolsim torture` finds it on its own.
 */
export interface Mutant {
  /** `<mechanism>/<fault>`, kebab-case. */
  readonly id: string;
  /** The mechanism package it breaks (the registry entry it replaces). */
  readonly mechanism: string;
  /** What the broken code does, in kernel terms. */
  readonly what: string;
  /** The broken mechanism, from the options a scenario entry gives (variant and file options kept, the fault added). */
  readonly make: (options?: object) => Mechanism;
  /** The invariant that catches it, or null for an effect failure no invariant can see. */
  readonly caughtBy: InvariantId | null;
  /** For an unseen mutant: why no invariant sees it. */
  readonly unseenBecause?: string;
  /** A scenario (file format) that shows it: caught by {@link caughtBy}, or, unseen, running clean. */
  readonly scenario: Record<string, unknown>;
}

/** The registry of the CLI with `m`'s mechanism replaced by the mutant. */
export function mutantRegistry(m: Mutant): MechanismRegistry {
  return Object.freeze({ ...registry, [m.mechanism]: fromPackage(m.make) });
}

/** A 4-CPU 4.9 machine with nohz_full 1-3 running `mechanisms`, for `duration`, no warmup. */
function machine(name: string, duration: string, mechanisms: unknown[], workload: unknown[], kernel: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    seed: 1,
    duration,
    warmup: 0,
    kernel: { preset: "linux-4.9", cpus: 4, hz: 1000, nohz_full: "1-3", mechanisms, ...kernel },
    workload,
  };
}

const BUSY = { type: "user-loop", cpus: "1-3" };

/** File writes racing lru_add_drain_all() from CPU 0 (apps/demo/scenarios/lru-exclusive.json, shortened). */
const lruRace = (name: string): Record<string, unknown> =>
  machine(name, "200ms", ["lru-spinlock-drain"], [
    BUSY,
    { type: "syscall", cpus: "1-3", every: "2ms", jitter: "2ms", call: "file-write", pages: 512 },
    { type: "lru-drain-all", cpus: "0", every: "1ms", jitter: "1ms" },
  ]);

/** Isolated CPUs 1-3 dirty vmstat with file writes every 10 ms. */
const vmstatWrites = (name: string, duration: string): Record<string, unknown> =>
  machine(name, duration, ["vmstat-quiesce"], [BUSY, { type: "syscall", cpus: "1-3", every: "10ms", call: "file-write", pages: 8 }]);

/** call_rcu() every 10 ms on the offloaded CPUs 1-3; the invocation bound lowered to 100 ms so the run stays short. */
const callRcu = (name: string): Record<string, unknown> =>
  machine(name, "400ms", ["rcu-nocb-merge"], [BUSY, { type: "syscall", cpus: "1-3", every: "10ms", call: "call-rcu" }], {
    params: { rcu_callback_invoke_bound_ns: 100_000_000 },
  });

/** remote-stats with oneshot-stopped: busy CPUs 1-2 stop their tick indefinitely; CPU 3 idles and is woken every 100 ms. */
const stopped = (name: string): Record<string, unknown> =>
  machine(name, "500ms", ["remote-stats", "oneshot-stopped"], [
    { type: "user-loop", cpus: "1-2" },
    { type: "wakeup", cpus: "2-3", every: "100ms", run: "20us" },
  ]);

/** Every mutant, by mechanism in the order. */
export const mutants: readonly Mutant[] = [
  {
    id: "remote-stats/skip-work",
    mechanism: "remote-stats",
    what: "sched_tick_remote() runs and re-queues itself but skips task_tick() and calc_load_nohz_remote()",
    make: (o) => remoteStats({ ...o, faults: { skipWork: true } }),
    caughtBy: "remote-tick-staleness",
    scenario: machine("mutant-remote-stats-skip-work", "3s", ["remote-stats"], [BUSY]),
  },
  {
    id: "remote-stats/no-requeue",
    mechanism: "remote-stats",
    what: "sched_tick_remote() forgets to re-queue itself: each busy CPU is ticked remotely once, then never",
    make: (o) => remoteStats({ ...o, faults: { noRequeue: true } }),
    caughtBy: "remote-tick-staleness",
    scenario: machine("mutant-remote-stats-no-requeue", "3s", ["remote-stats"], [BUSY]),
  },
  {
    id: "lru-spinlock-drain/drainer-skips-lock",
    mechanism: "lru-spinlock-drain",
    what: "lru_add_drain_all()'s caller drains a remote batch without taking its spinlock",
    make: (o) => lruSpinlockDrain({ ...o, faults: { drainerSkipsLock: true } }),
    caughtBy: "lru-exclusive",
    scenario: lruRace("mutant-lru-drainer-skips-lock"),
  },
  {
    id: "lru-spinlock-drain/owner-skips-lock",
    mechanism: "lru-spinlock-drain",
    what: "the owner adds to its batch under local_lock() only (a site the spinlock conversion missed)",
    make: (o) => lruSpinlockDrain({ ...o, faults: { ownerSkipsLock: true } }),
    caughtBy: "lru-exclusive",
    scenario: lruRace("mutant-lru-owner-skips-lock"),
  },
  {
    id: "vmstat-quiesce/fold-drops-diffs",
    mechanism: "vmstat-quiesce",
    what: "the fold on the way to user clears each per-CPU diff but drops the value instead of adding it to the global counter",
    make: (o) => vmstatQuiesce({ ...o, faults: { foldDropsDiffs: true } }),
    caughtBy: "vmstat-exact",
    scenario: vmstatWrites("mutant-vmstat-fold-drops-diffs", "50ms"),
  },
  {
    id: "vmstat-quiesce/fold-keeps-diffs",
    mechanism: "vmstat-quiesce",
    what: "the fold on the way to user adds each per-CPU diff to the global counter but leaves the diff (a read where this_cpu_xchg() belongs)",
    make: (o) => vmstatQuiesce({ ...o, faults: { foldKeepsDiffs: true } }),
    caughtBy: "vmstat-exact",
    scenario: vmstatWrites("mutant-vmstat-fold-keeps-diffs", "50ms"),
  },
  {
    id: "vmstat-quiesce/cancel-without-fold",
    mechanism: "vmstat-quiesce",
    what: "the way to user cancels the pending vmstat_update without folding the diffs first",
    make: (o) => vmstatQuiesce({ ...o, faults: { cancelWithoutFold: true } }),
    caughtBy: null,
    unseenBecause:
      "an effect failure: the diffs stay on the CPU, inside its threshold, so global + Σ per-CPU diffs is still exact (vmstat-exact) and no diff passes its threshold (vmstat-threshold); what is lost is the mechanism's promise (the diffs folded whenever the CPU runs in user), and on 4.9 vmstat_shepherd finds them and queues vmstat_update on the isolated CPU: noise, a kworker_vmstat interruption the correct mechanism removes",
    scenario: vmstatWrites("mutant-vmstat-cancel-without-fold", "3s"),
  },
  {
    id: "tlb-defer/skip-flush",
    mechanism: "tlb-defer",
    what: "ct-work takes the CT_WORK_TLBI bit at kernel entry but skips the __flush_tlb_all() it asks for",
    make: (o) => tlbDefer({ ...o, faults: { skipFlush: true } }),
    caughtBy: "tlb-no-stale",
    scenario: machine("mutant-tlb-skip-flush", "50ms", ["tlb-defer"], [
      BUSY,
      { type: "syscall", cpus: "1-3", every: "1.3ms", jitter: "400us", call: "getpid" },
      { type: "bpf", cpus: "1-3", attach: "sys_enter", every: "1ms", pages: 1023 },
    ]),
  },
  {
    id: "tlb-defer/defer-in-kernel",
    mechanism: "tlb-defer",
    what: "ct_set_cpu_work() sets CT_WORK_TLBI even when the target's context-tracking word says kernel, so that CPU gets no IPI",
    make: (o) => tlbDefer({ ...o, faults: { deferInKernel: true } }),
    caughtBy: "tlb-defer-only-user",
    scenario: machine("mutant-tlb-defer-in-kernel", "50ms", ["tlb-defer"], [
      BUSY,
      { type: "kernel-loop", cpus: "3", every: "10ms", run: "9ms" },
      { type: "vmalloc-churn", cpus: "0", every: "1ms", pages: 1023 },
    ]),
  },
  {
    id: "rcu-nocb-merge/drop-callback",
    mechanism: "rcu-nocb-merge",
    what: "the merged rcuo kthread's rcu_do_batch() steps past the first callback of each batch without invoking it",
    make: (o) => rcuNocbMerge({ ...o, faults: { dropCallback: true } }),
    caughtBy: "rcu-callbacks-invoked",
    scenario: callRcu("mutant-rcu-drop-callback"),
  },
  {
    id: "rcu-nocb-merge/invoke-twice",
    mechanism: "rcu-nocb-merge",
    what: "the merged rcuo kthread's rcu_do_batch() invokes the first callback of each batch twice",
    make: (o) => rcuNocbMerge({ ...o, faults: { invokeTwice: true } }),
    caughtBy: "rcu-callbacks-invoked",
    scenario: callRcu("mutant-rcu-invoke-twice"),
  },
  {
    id: "oneshot-stopped/leave-armed",
    mechanism: "oneshot-stopped",
    what: "set_state_oneshot_stopped switches the state but leaves the last deadline armed in the LAPIC",
    make: (o) => oneshotStopped({ ...o, faults: { leaveArmed: true } }),
    caughtBy: "clockevent-stopped",
    scenario: stopped("mutant-oneshot-leave-armed"),
  },
  {
    id: "oneshot-stopped/stop-reports-error",
    mechanism: "oneshot-stopped",
    what: "set_state_oneshot_stopped stops the LAPIC timer but returns an error: the state stays ONESHOT with a deadline the hardware will never fire",
    make: (o) => oneshotStopped({ ...o, faults: { stopReportsError: true } }),
    caughtBy: "clockevent-stopped",
    scenario: stopped("mutant-oneshot-stop-reports-error"),
  },
  {
    id: "oneshot-stopped/rearm-stays-stopped",
    mechanism: "oneshot-stopped",
    what: "tick_program_event() re-arms a ONESHOT_STOPPED device without switching it back to ONESHOT: the restarted tick never fires",
    make: (o) => oneshotStopped({ ...o, faults: { rearmStaysStopped: true } }),
    caughtBy: "clockevent-stopped",
    scenario: stopped("mutant-oneshot-rearm-stays-stopped"),
  },
];
