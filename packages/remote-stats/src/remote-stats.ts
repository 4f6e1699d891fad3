import { WORK_CPU_UNBOUND, checkOptions } from "@isolsim/core";
import type { DelayedWork, Kernel, Mechanism, Nanoseconds } from "@isolsim/core";
import { CalcLoad } from "./loadavg.js";
import { StalenessChecker } from "./staleness.js";

/** The variants of remote-stats, the default first. */
export const remoteStatsVariants = ["mainline"] as const;

/** One of {@link remoteStatsVariants}. */
export type RemoteStatsVariant = (typeof remoteStatsVariants)[number];

/** Deliberate faults, for tests of the invariant checker only. */
export interface RemoteStatsFaults {
  /** The work runs and re-queues itself but skips task_tick() and calc_load_nohz_remote(). */
  skipWork?: boolean;
  /** The work does not check cpu_is_offline() and ticks an offline CPU's runqueue. */
  ignoreOffline?: boolean;
  /** The tail of sched_tick_remote() forgets queue_delayed_work(): each CPU's remote tick runs once, then never again. */
  noRequeue?: boolean;
}

/** Options of {@link remoteStats}. */
export interface RemoteStatsOptions {
  /** Variant: `mainline` (v4.17 sched_tick_remote() with the v5.4 hotplug state machine). */
  variant?: RemoteStatsVariant;
  /** Deliberate faults (tests of `remote-tick-staleness` and the mutation check only; scenario files cannot set them). */
  faults?: RemoteStatsFaults;
}

/** tick_work->state values (kernel/sched/core.c, v5.4+). */
export const TickSchedRemote = {
  /** TICK_SCHED_REMOTE_OFFLINE: no work queued (before boot, or after the run that saw OFFLINING). */
  OFFLINE: 0,
  /** TICK_SCHED_REMOTE_OFFLINING: the CPU went down; the pending run ends the work. */
  OFFLINING: 1,
  /** TICK_SCHED_REMOTE_RUNNING: each run re-queues the work HZ jiffies ahead. */
  RUNNING: 2,
} as const;

/** One of {@link TickSchedRemote}'s values. */
export type TickSchedRemoteState = (typeof TickSchedRemote)[keyof typeof TickSchedRemote];

/** Per-CPU remote tick work (struct tick_work, kernel/sched/core.c). */
export interface TickWork {
  /** The nohz_full CPU it ticks. */
  readonly cpu: number;
  /** tick_work->state. */
  state: TickSchedRemoteState;
  /** twork->work: the delayed work on system_unbound_wq (k.workqueue). */
  readonly work: DelayedWork;
}

/** Figures of the remote tick, counted in the measured window (report `mechanism_stats["remote-stats"]`). */
export interface RemoteStatsFigures {
  /** sched_tick_remote() runs. */
  runs: number;
  /** Runs that ran task_tick() for a busy CPU. */
  busyRuns: number;
  /** Runs for an idle CPU whose tick was stopped (load fold only; the idle class has no task_tick). */
  idleRuns: number;
  /** Runs that found the CPU's own tick running and did nothing. */
  skippedTickRunning: number;
  /** Runs that found the CPU offline and did nothing. */
  skippedOffline: number;
  /** Runs that started a jiffy or more after their timer expired (housekeeping CPU busy). */
  lateRuns: number;
  /** Largest delay from timer expiry to the start of a run, ns. */
  maxLatenessNs: Nanoseconds;
  /** Sum of the staleness found by busy runs, ns (for the mean). */
  stalenessSumNs: Nanoseconds;
}

/** State of remote-stats in one kernel. */
interface RemoteTick {
  readonly k: Kernel;
  readonly works: (TickWork | undefined)[];
  readonly offline: Uint8Array;
  readonly onlineSince: Float64Array;
}

const installed = new WeakMap<Kernel, RemoteTick>();

function stateOf(k: Kernel): RemoteTick {
  const s = installed.get(k);
  if (!s) throw new Error("remote-stats is not installed in this kernel (add remoteStats() to the mechanisms)");
  return s;
}

/**
 * sched_tick_start() (kernel/sched/core.c), run when a nohz_full CPU comes online: RUNNING, and the
 * delayed work is queued HZ jiffies ahead if it was OFFLINE.
 */
export function schedTickStart(k: Kernel, cpu: number): void {
  const s = stateOf(k);
  const tw = s.works[cpu];
  if (s.offline[cpu]) s.onlineSince[cpu] = k.engine.now;
  s.offline[cpu] = 0;
  if (!tw) return;
  const os = tw.state;
  tw.state = TickSchedRemote.RUNNING;
  if (os === TickSchedRemote.OFFLINE) queueTickWork(k, tw);
}

/** queue_delayed_work(system_unbound_wq, &twork->work, HZ): the remote tick's timer, HZ jiffies ahead. */
function queueTickWork(k: Kernel, tw: TickWork): void {
  k.workqueue.queueDelayedWorkOn(WORK_CPU_UNBOUND, k.workqueue.systemUnboundWq, tw.work, k.params.hz * k.tickPeriod);
}

/**
 * How long the work of `tw` has been due at `now`: the time since its timer's requested expiry
 * (HZ jiffies after the last run) while the timer waits for its wheel bucket (up to a level's
 * granularity: 64 ms at HZ=1000), for the timer softirq and then for the unbound kworker; 0 while
 * that expiry has not passed or nothing is pending.
 */
function dueFor(k: Kernel, tw: TickWork, now: Nanoseconds): Nanoseconds {
  const w = tw.work;
  if (!k.workqueue.delayedWorkPending(w) || w.timer.expires > now) return 0;
  return now - w.timer.expires;
}

/**
 * sched_tick_stop() (kernel/sched/core.c), run when a nohz_full CPU goes offline: the CPU is marked
 * offline and the state goes OFFLINING; the pending work is not cancelled, its next run ends it.
 */
export function schedTickStop(k: Kernel, cpu: number): void {
  const s = stateOf(k);
  const tw = s.works[cpu];
  s.offline[cpu] = 1;
  if (tw) tw.state = TickSchedRemote.OFFLINING;
}

/** The remote tick work of `cpu` in a kernel with remote-stats (undefined for housekeeping CPUs). */
export function tickWorkOf(k: Kernel, cpu: number): TickWork | undefined {
  return stateOf(k).works[cpu];
}

/**
 * remote-stats: a busy nohz_full CPU's residual 1 Hz tick is replaced by sched_tick_remote() (v4.17;
 * v5.4 state machine and calc_load_nohz_remote()), a delayed work on system_unbound_wq that a
 * housekeeping CPU runs every HZ jiffies per nohz_full CPU. Its tick then stops indefinitely
 * (scheduler_tick_max_deferment() is gone: the max-deferment policy returns Infinity).
 */
export function remoteStats(options: RemoteStatsOptions = {}): Mechanism {
  checkOptions("remote-stats", options, {});
  const variant = options.variant ?? "mainline";
  const faults = options.faults ?? {};
  return {
    name: "remote-stats",
    description: "sched_tick_remote(): a housekeeping CPU ticks busy nohz_full CPUs remotely at 1 Hz; their tick stops indefinitely",
    variants: remoteStatsVariants,
    variant,
    install(k: Kernel): void {
      const load = new CalcLoad(k);
      const offline = new Uint8Array(k.nrCpus);
      const works: (TickWork | undefined)[] = new Array<TickWork | undefined>(k.nrCpus);
      const onlineSince = new Float64Array(k.nrCpus);
      const s: RemoteTick = { k, works, offline, onlineSince };
      installed.set(k, s);
      const fig: RemoteStatsFigures = { runs: 0, busyRuns: 0, idleRuns: 0, skippedTickRunning: 0, skippedOffline: 0, lateRuns: 0, maxLatenessNs: 0, stalenessSumNs: 0 };
      const checker = new StalenessChecker(
        k,
        load,
        {
          offline: (cpu) => offline[cpu] === 1,
          onlineSince: (cpu) => onlineSince[cpu]!,
          delay: (cpu) => {
            const tw = works[cpu];
            return tw ? dueFor(k, tw, k.engine.now) : 0;
          },
        },
        k.tickPeriod * k.params.hz,
      );

      /** The body of sched_tick_remote(), under the remote rq lock. */
      const tickRemote = (tw: TickWork, hk: number): void => {
        const cpu = tw.cpu;
        const now = k.engine.now;
        const measuring = k.measuring();
        if (measuring) {
          fig.runs++;
          k.housekeepingStats.remoteTicks++;
          k.housekeepingStats.noiseNs += k.params.remoteTickNs;
          const late = now - tw.work.timer.fires;
          if (late > fig.maxLatenessNs) fig.maxLatenessNs = late;
          if (late >= k.tickPeriod) fig.lateRuns++;
        }
        if (!k.tick.ts[cpu]!.stopped) {
          if (measuring) fig.skippedTickRunning++;
          return;
        }
        if (offline[cpu] && !faults.ignoreOffline) {
          if (measuring) fig.skippedOffline++;
          return;
        }
        if (faults.skipWork) return;
        if (offline[cpu]) k.invariants.violate("remote-tick-staleness", cpu, `sched_tick_remote() ran task_tick() for offline CPU ${cpu}`);
        const curr = k.cpus[cpu]!.curr;
        if (curr) {
          const st = checker.sample(cpu);
          if (measuring) {
            fig.busyRuns++;
            fig.stalenessSumNs += st.runtimeNs;
          }
          k.sched.schedulerTick(cpu, hk);
        } else if (measuring) fig.idleRuns++;
        load.fold(cpu);
        k.trace?.instant(hk, `sched_tick_remote: cpu=${cpu}${curr ? ` comm=${curr.name}` : " idle"}`, now);
      };

      /** The tail of sched_tick_remote(): atomic_fetch_add_unless(&state, -1, RUNNING), re-queue if RUNNING. */
      const requeue = (tw: TickWork): void => {
        const os = tw.state;
        if (os !== TickSchedRemote.RUNNING) tw.state = (os - 1) as TickSchedRemoteState;
        if (os === TickSchedRemote.RUNNING && !faults.noRequeue) queueTickWork(k, tw);
      };

      /**
       * sched_tick_remote(), run by the unbound kworker on CPU `hk` when it starts the work: the body
       * under the remote rq lock, then the tail that re-queues it.
       */
      const schedTickRemote = (tw: TickWork, hk: number): void => {
        tickRemote(tw, hk);
        requeue(tw);
      };

      for (let cpu = 0; cpu < k.nrCpus; cpu++) {
        if (k.hk.byType.tick.has(cpu)) continue;
        const tw: TickWork = {
          cpu,
          state: TickSchedRemote.OFFLINE,
          work: k.workqueue.initDelayedWork("sched_tick_remote", (hk) => schedTickRemote(tw, hk), "kworker_other", k.params.remoteTickNs, false),
        };
        works[cpu] = tw;
      }
      k.maxDeferment = () => Infinity;
      k.hooks.tickStopped.push((cpu) => load.fold(cpu));
      k.hooks.boot.push(() => {
        for (const tw of works) if (tw) schedTickStart(k, tw.cpu);
      });
      k.mechanismStats.set("remote-stats", () => ({
        runs: fig.runs,
        busy_runs: fig.busyRuns,
        idle_runs: fig.idleRuns,
        skipped_tick_running: fig.skippedTickRunning,
        skipped_offline: fig.skippedOffline,
        late_runs: fig.lateRuns,
        max_lateness_ns: fig.maxLatenessNs,
        max_staleness_ns: checker.maxNs,
        mean_staleness_ns: fig.busyRuns > 0 ? Math.round(fig.stalenessSumNs / fig.busyRuns) : 0,
        max_load_staleness_ns: checker.maxLoadNs,
        housekeeping_cpu: k.workqueue.unboundPool.worker?.cpu ?? -1,
      }));
    },
  };
}
