import { CompositionError, Context, costLimit, integerLimit, kernelStep, nsLimit, resolveFigures, segment } from "@isolsim/core";
import type { Cpu, Kernel, LruBatchOps, LruListId, Limit, Mechanism, Nanoseconds, Segment, Task } from "@isolsim/core";
import { BatchLock } from "./spinlock.js";
import type { BatchLockStats } from "./spinlock.js";

/** The variants of lru-spinlock-drain, the default first. */
export const lruSpinlockDrainVariants = ["spinlock", "qpw", "drain-on-return"] as const;

/** One of {@link lruSpinlockDrainVariants}. */
export type LruSpinlockDrainVariant = (typeof lruSpinlockDrainVariants)[number];

/** Deliberate faults, for tests of the `lru-exclusive` checker only. */
export interface LruSpinlockDrainFaults {
  /** lru_add_drain_all()'s caller drains remote batches without taking their lock. */
  drainerSkipsLock?: boolean;
  /**
   * The owner's side keeps local_lock() (a conversion site QPW missed: folio_add_lru() and
   * lru_add_drain() on the owner CPU take no spinlock), so the owner adds to its batch while a remote
   * drainer holds the lock and moves it.
   */
  ownerSkipsLock?: boolean;
}

/** Options of {@link lruSpinlockDrain}; every figure is overridable, defaults in {@link lruSpinlockDrainDefaults}. */
export interface LruSpinlockDrainOptions {
  /**
   * `spinlock` (remote drain under a per-CPU spinlock, always), `qpw` (the same, as Tosatti's QPW v2
   * enables it: only with the `qpw=1` boot option) or `drain-on-return` (drain on the way to user).
   */
  variant?: LruSpinlockDrainVariant;
  /** Extra cycles spin_lock() costs the owner over local_lock() on each add (QPW cover letter: ~13). */
  spinLockExtraCycles?: number;
  /** CPU clock in MHz, to turn cycles into ns (3000: 13 cycles = 4.33 ns). */
  cpuMhz?: number;
  /** lru_add_drain_all()'s caller reading one CPU's batch counts (cpu_needs_drain(), a remote cache line), ns. */
  checkCpuNs?: number;
  /** Taking a remote CPU's batch lock, uncontended (a cache-line transfer), ns. */
  remoteLockNs?: number;
  /** Moving one page from a batch to the LRU lists (folio_batch_move_lru(): lruvec lock, list add, stats), ns. */
  movePageNs?: number;
  /** Time the owner holds its lock per page added (folio_batch_add()), ns. */
  addHoldNs?: number;
  /** One poll of a spinning waiter (cpu_relax() until its MCS node is handed the lock), ns. */
  spinPollNs?: number;
  /** drain-on-return: one lru_add_drain() plus the readiness re-check on the way to user, pages excluded, ns. */
  returnDrainNs?: number;
  /** drain-on-return: iterations of the return-path drain loop after which the model stops it (the kernel has no bound). */
  returnLoopLimit?: number;
  /** Deliberate faults (tests of `lru-exclusive` and the mutation check only; scenario files cannot set them). */
  faults?: LruSpinlockDrainFaults;
}

/** The figures of {@link LruSpinlockDrainOptions}, resolved. */
export type LruSpinlockDrainFigures = Required<Omit<LruSpinlockDrainOptions, "variant" | "faults">>;

/** Default figures of {@link LruSpinlockDrainOptions}. */
export const lruSpinlockDrainDefaults: Readonly<LruSpinlockDrainFigures> = Object.freeze({
  spinLockExtraCycles: 13,
  cpuMhz: 3000,
  checkCpuNs: 20,
  remoteLockNs: 50,
  movePageNs: 50,
  addHoldNs: 20,
  spinPollNs: 20,
  returnDrainNs: 200,
  returnLoopLimit: 1000,
});

/** The valid range of each option of {@link LruSpinlockDrainOptions}, with why (the limits table's rows for lru-spinlock-drain). */
export const lruSpinlockDrainOptionLimits: Readonly<Record<keyof LruSpinlockDrainFigures, Limit>> = Object.freeze({
  spinLockExtraCycles: integerLimit(0, 100_000, "cycles an uncontended spin_lock() adds: tens in practice; 100 000 is a cache-miss storm"),
  cpuMhz: integerLimit(100, 10_000, "CPU clocks, 100 MHz to 10 GHz"),
  checkCpuNs: costLimit(),
  remoteLockNs: costLimit(),
  movePageNs: costLimit(),
  addHoldNs: costLimit(),
  spinPollNs: nsLimit(1, 1_000_000_000, "one cpu_relax() poll: at least 1 ns (a waiter must advance), at most 1 s"),
  returnDrainNs: costLimit(),
  returnLoopLimit: integerLimit(1, 1_000_000, "iterations before the model stops the return-path loop: at least one pass, at most a million"),
});

type Figures = LruSpinlockDrainFigures;

function resolveOptions(options: LruSpinlockDrainOptions): Figures {
  return resolveFigures("lru-spinlock-drain", options, lruSpinlockDrainDefaults, lruSpinlockDrainOptionLimits);
}

/** The owner's side of one CPU's batch lock. */
interface OwnerState {
  /** When the owner's current hold ends, or -1. */
  releaseAt: Nanoseconds;
  /** Engine handle of that release. */
  releaseEvent: number;
  /** Batch operations waiting for the lock, in order. */
  deferred: (() => void)[];
  /** Lock cost not yet charged (a fraction of a ns), ns. */
  costFrac: number;
  /** The not-yet-started segment charging the lock cost, to merge adds of one instant into. */
  costSeg: Segment | null;
}

/** The queue of work `c` executes next at its current level (interrupt frame or current task), or null. */
function currentQueue(c: Cpu): Segment[] | null {
  if (c.inIrq) return c.irqQueue;
  return c.curr ? c.curr.segs : null;
}

const batchLocks = new WeakMap<Kernel, readonly BatchLock[]>();

/** The batch lock of `cpu` in a kernel with the `spinlock` variant installed (inspection and tests). */
export function lruBatchLock(k: Kernel, cpu: number): BatchLock {
  const lock = batchLocks.get(k)?.[cpu];
  if (!lock) throw new Error(`lru-spinlock-drain (spinlock variant) is not installed in this kernel, or CPU ${cpu} is out of range`);
  return lock;
}

/** Installs the `spinlock` variant, or `qpw` (the same locking, reported under its own name). */
function installSpinlock(k: Kernel, f: Figures, faults: LruSpinlockDrainFaults, variant: "spinlock" | "qpw"): void {
  const lockStats: BatchLockStats = { acquires: 0, contended: 0, maxWaitNs: 0, waitNsTotal: 0 };
  const fig = { drainCalls: 0, callerNsTotal: 0, cpusChecked: 0, remoteDrains: 0, pagesDrainedRemotely: 0, spinNsTotal: 0, ownerLockNsTotal: 0 };
  const locks = Array.from({ length: k.nrCpus }, (_, cpu) => new BatchLock(k, cpu, lockStats));
  batchLocks.set(k, locks);
  const owners: OwnerState[] = Array.from({ length: k.nrCpus }, () => ({ releaseAt: -1, releaseEvent: 0, deferred: [], costFrac: 0, costSeg: null }));
  const orig: LruBatchOps = k.lru.ops;
  /** Whether lru_add_drain_all()'s caller holds the lock of each CPU (its section ends with its step, not a timer). */
  const drainerHolds = new Uint8Array(k.nrCpus);
  const cycleNs = (f.spinLockExtraCycles * 1000) / f.cpuMhz;

  const kRelease = k.engine.register("lru_batch_spin_unlock", (cpu) => {
    const st = owners[cpu]!;
    st.releaseAt = -1;
    st.releaseEvent = 0;
    locks[cpu]!.leave(cpu);
    locks[cpu]!.release(cpu);
  });

  /** The owner stays inside its critical section `ns` longer (its batch ops of one instant are one section). */
  const extendHold = (cpu: number, ns: Nanoseconds): void => {
    if (drainerHolds[cpu]) return;
    const st = owners[cpu]!;
    st.releaseAt = Math.max(st.releaseAt, k.engine.now) + ns;
    k.engine.cancel(st.releaseEvent);
    st.releaseEvent = k.engine.schedule(st.releaseAt, kRelease, cpu);
  };

  /** Charges the owner the extra cost of spin_lock() over local_lock(), as kernel time before what it does next. */
  const chargeOwner = (cpu: number): void => {
    const st = owners[cpu]!;
    st.costFrac += cycleNs;
    const ns = Math.floor(st.costFrac);
    if (ns === 0) return;
    st.costFrac -= ns;
    const c = k.cpus[cpu]!;
    const q = currentQueue(c);
    if (!q) return;
    if (k.measuring()) fig.ownerLockNsTotal += ns;
    if (st.costSeg && q[0] === st.costSeg && st.costSeg.startedAt < 0) {
      st.costSeg.ns += ns;
      return;
    }
    st.costSeg = segment("spin_lock", ns, c.inIrq ? Context.irq : Context.kernel, { own: !c.inIrq && c.noiseSince < 0 });
    q.unshift(st.costSeg);
  };

  /** The owner spins (in its current context) until its deferred operations have run under the lock. */
  const ownerSpin = (cpu: number): void => {
    const c = k.cpus[cpu]!;
    const q = currentQueue(c);
    if (!q) return;
    const st = owners[cpu]!;
    const ctx = c.inIrq ? Context.irq : Context.kernel;
    const own = !c.inIrq && c.noiseSince < 0;
    const poll = (): Segment =>
      segment("native_queued_spin_lock_slowpath", f.spinPollNs, ctx, {
        own,
        end: () => {
          if (k.measuring()) fig.spinNsTotal += f.spinPollNs;
          if (st.deferred.length > 0) q.unshift(poll());
        },
      });
    q.unshift(poll());
  };

  /** The lock was handed to the owner: it enters and runs its deferred operations. */
  const ownerGranted = (cpu: number): void => {
    const st = owners[cpu]!;
    locks[cpu]!.enter(cpu, "owner");
    const ops = st.deferred.splice(0);
    for (const op of ops) op();
    k.lru.checkConservation(cpu);
  };

  /** The owner takes its lock for `op`, or queues it and spins; inside an own hold already, runs it at once. */
  const asOwner = (cpu: number, op: () => void, waitingPages: number): boolean => {
    const st = owners[cpu]!;
    const lock = locks[cpu]!;
    if (st.deferred.length === 0 && lock.holder === cpu) {
      if (k.measuring()) lockStats.acquires++;
      op();
      return true;
    }
    if (st.deferred.length === 0 && lock.acquire(cpu, () => ownerGranted(cpu))) {
      lock.enter(cpu, "owner");
      op();
      return true;
    }
    k.lru.waiting += waitingPages;
    const first = st.deferred.length === 0;
    st.deferred.push(() => {
      k.lru.waiting -= waitingPages;
      op();
    });
    if (first) ownerSpin(cpu);
    return false;
  };

  k.lru.ops = faults.ownerSkipsLock ? ownerLocalLockOps(k, f, locks, orig) : {
    add: (cpu, list: LruListId) => {
      chargeOwner(cpu);
      asOwner(
        cpu,
        () => {
          locks[cpu]!.touch(cpu, "owner");
          const before = k.lru.batchCount(cpu);
          orig.add(cpu, list);
          const moved = before + 1 - k.lru.batchCount(cpu);
          extendHold(cpu, f.addHoldNs + moved * f.movePageNs);
        },
        1,
      );
    },
    drainLocal: (cpu) => {
      let n = 0;
      const drained = asOwner(
        cpu,
        () => {
          locks[cpu]!.touch(cpu, "owner");
          n = orig.drainLocal(cpu);
          extendHold(cpu, n * f.movePageNs);
        },
        0,
      );
      return drained ? n : 0;
    },
    drainRemote: (cpu, by) => {
      locks[cpu]!.touch(by, "remote drainer");
      return orig.drainRemote(cpu, by);
    },
  };

  /**
   * lru_add_drain_all() with QPW (mm/swap.c __lru_add_drain_all(), qpw_queue_work_on() running the
   * work on the caller): under the static mutex, the caller checks every online CPU's batches and,
   * for each non-empty one, takes that CPU's lock and runs lru_add_drain_cpu() itself. No work is
   * queued: the time is the caller's.
   */
  k.lru.drainAll = (caller: Task, done: () => void): void => {
    const by = caller.cpu;
    const measured = k.measuring();
    const hkCaller = !k.cpus[by]!.nohzFull;
    let callerNs = 0;
    const step = (name: string, ns: Nanoseconds, forIsolatedNs: Nanoseconds, next: () => void): void => {
      callerNs += ns;
      kernelStep(caller, name, ns, () => {
        if (k.measuring() && hkCaller) k.housekeepingStats.noiseNs += forIsolatedNs;
        next();
      });
    };
    const finish = (): void => {
      k.lru.drainMutex.unlock(caller);
      if (measured) {
        fig.drainCalls++;
        fig.callerNsTotal += callerNs;
      }
      done();
    };
    const thisGen = k.lru.drainGen;
    k.lru.drainMutex.lock(caller, () => {
      if (k.params.lruDrainGen && thisGen !== k.lru.drainGen) {
        finish();
        return;
      }
      k.lru.drainGen++;
      let next = 0;
      const scan = (): void => {
        let checked = 0;
        let isolated = 0;
        let target = -1;
        while (next < k.nrCpus) {
          const cpu = next++;
          checked++;
          if (k.cpus[cpu]!.nohzFull) isolated++;
          if (k.lru.cpuNeedsDrain(cpu)) {
            target = cpu;
            break;
          }
        }
        if (checked === 0) {
          finish();
          return;
        }
        if (measured) fig.cpusChecked += checked;
        step("cpu_needs_drain", checked * f.checkCpuNs, isolated * f.checkCpuNs, () => (target < 0 ? finish() : lockAndDrain(target)));
      };
      const lockAndDrain = (target: number): void => {
        const lock = locks[target]!;
        const forIsolated = k.cpus[target]!.nohzFull;
        const drain = (): void => {
          if (!faults.drainerSkipsLock) drainerHolds[target] = 1;
          lock.enter(by, by === target ? "owner" : "remote drainer");
          const n = by === target ? k.lru.lruAddDrainCpu(target) : k.lru.drainRemote(target, by);
          if (measured && by !== target) {
            fig.remoteDrains++;
            fig.pagesDrainedRemotely += n;
          }
          const hold = f.remoteLockNs + n * f.movePageNs;
          step("lru_add_drain_cpu", hold, forIsolated ? hold : 0, () => {
            lock.leave(by);
            if (!faults.drainerSkipsLock) {
              drainerHolds[target] = 0;
              lock.release(by);
            }
            scan();
          });
        };
        if (faults.drainerSkipsLock) {
          drain();
          return;
        }
        let granted = false;
        if (lock.acquire(by, () => (granted = true))) {
          drain();
          return;
        }
        const poll = (): void =>
          step("native_queued_spin_lock_slowpath", f.spinPollNs, forIsolated ? f.spinPollNs : 0, () => {
            if (k.measuring()) fig.spinNsTotal += f.spinPollNs;
            if (granted) drain();
            else poll();
          });
        poll();
      };
      scan();
    });
  };

  k.invariants.check("lru-exclusive");
  k.mechanismStats.set("lru-spinlock-drain", () => ({
    variant,
    drain_calls: fig.drainCalls,
    drain_caller_ns_total: fig.callerNsTotal,
    drain_caller_ns_mean: fig.drainCalls > 0 ? Math.round(fig.callerNsTotal / fig.drainCalls) : 0,
    cpus_checked: fig.cpusChecked,
    remote_drains: fig.remoteDrains,
    pages_drained_remotely: fig.pagesDrainedRemotely,
    lock_acquires: lockStats.acquires,
    contended_acquires: lockStats.contended,
    max_lock_wait_ns: lockStats.maxWaitNs,
    lock_wait_ns_total: lockStats.waitNsTotal,
    spin_ns_total: fig.spinNsTotal,
    owner_lock_ns_total: fig.ownerLockNsTotal,
  }));
}

/**
 * The `ownerSkipsLock` fault: the owner's batch operations under local_lock() only (4.9-6.12
 * mm/swap.c folio_batch_add() with cpu_fbatches.lock a local_lock_t). The owner is inside its
 * batch's critical section for as long as the spinlock variant would hold the lock (local_lock()
 * keeps it there against local preemption), but never takes the spinlock, so a remote drainer that
 * takes it walks in; the drainer's side is unchanged.
 */
function ownerLocalLockOps(k: Kernel, f: Figures, locks: readonly BatchLock[], orig: LruBatchOps): LruBatchOps {
  const until = new Float64Array(k.nrCpus).fill(-1);
  const events = new Float64Array(k.nrCpus);
  const kUnlock = k.engine.register("lru_batch_local_unlock", (cpu) => {
    until[cpu] = -1;
    locks[cpu]!.leave(cpu);
  });
  /** local_lock() by the owner for `ns` more (one section for the operations of one instant). */
  const hold = (cpu: number, ns: Nanoseconds): void => {
    if (until[cpu]! < 0) locks[cpu]!.enter(cpu, "owner");
    else k.engine.cancel(events[cpu]!);
    until[cpu] = Math.max(until[cpu]!, k.engine.now) + ns;
    events[cpu] = k.engine.schedule(until[cpu]!, kUnlock, cpu);
  };
  return {
    add: (cpu, list) => {
      locks[cpu]!.touch(cpu, "owner");
      const before = k.lru.batchCount(cpu);
      orig.add(cpu, list);
      hold(cpu, f.addHoldNs + (before + 1 - k.lru.batchCount(cpu)) * f.movePageNs);
    },
    drainLocal: (cpu) => {
      locks[cpu]!.touch(cpu, "owner");
      const n = orig.drainLocal(cpu);
      hold(cpu, n * f.movePageNs);
      return n;
    },
    drainRemote: (cpu, by) => {
      locks[cpu]!.touch(by, "remote drainer");
      return orig.drainRemote(cpu, by);
    },
  };
}

/**
 * Installs the `drain-on-return` variant: an isolated CPU drains its own batches on the way back to
 * user, so lru_add_drain_all() finds them empty and queues nothing there. As Weisbecker's "mm: Drain
 * LRUs upon resume to userspace on nohz_full CPUs" (2025, pending) does it, and before it the
 * pre-2016 task-isolation patches (Chris Metcalf, task_isolation_enter() from
 * exit_to_usermode_loop()), whose loop while task_isolation_ready() finds them non-empty the model
 * keeps (with nothing refilling the batch on the way out, one pass, as in Weisbecker's series).
 */
function installDrainOnReturn(k: Kernel, f: Figures): void {
  const fig = { returnsDrained: 0, returnDrains: 0, loopsMax: 0, limitHits: 0, drainNsTotal: 0 };
  k.hooks.exitToUserMode.push((cpu, task) => {
    const c = k.cpus[cpu]!;
    if (!c.nohzFull || !k.lru.cpuNeedsDrain(cpu)) return;
    const own = c.noiseSince < 0;
    let loops = 0;
    const done = (): void => {
      if (!k.measuring()) return;
      fig.returnsDrained++;
      if (loops > fig.loopsMax) fig.loopsMax = loops;
    };
    const iteration = (): Segment => {
      const ns = f.returnDrainNs + k.lru.batchCount(cpu) * f.movePageNs;
      return segment("lru_add_drain", ns, Context.kernel, {
        own,
        start: () => {
          k.lru.lruAddDrainCpu(cpu);
        },
        end: () => {
          loops++;
          if (k.measuring()) {
            fig.returnDrains++;
            fig.drainNsTotal += ns;
          }
          if (!k.lru.cpuNeedsDrain(cpu)) return done();
          if (loops >= f.returnLoopLimit) {
            if (k.measuring()) fig.limitHits++;
            k.trace?.instant(cpu, `task_isolation: lru drain loop stopped after ${loops} iterations, batch refilled each time`, k.engine.now);
            return done();
          }
          task.segs.unshift(iteration());
        },
      });
    };
    task.segs.push(iteration());
  });
  k.mechanismStats.set("lru-spinlock-drain", () => ({
    variant: "drain-on-return",
    returns_drained: fig.returnsDrained,
    return_drains: fig.returnDrains,
    return_drain_ns_total: fig.drainNsTotal,
    return_loops_max: fig.loopsMax,
    return_loop_limit: f.returnLoopLimit,
    return_loop_limit_hits: fig.limitHits,
  }));
}

/**
 * lru-spinlock-drain: isolated CPUs get no lru_add_drain_per_cpu kworker. `spinlock` (default; the
 * 2016 consensus): each CPU's LRU batches are guarded by a per-CPU spinlock and lru_add_drain_all()'s
 * caller drains every remote batch itself (mm/swap.c lru_add_drain_all() → lru_add_drain_cpu(cpu)
 * under qpw_lock()). `qpw`: the same locking and remote drain as Tosatti's "Introduce QPW for per-cpu
 * operations" v2 (Mar 2026, pending) gives it: CONFIG_QPW, active only with the `qpw=1` boot option
 * (the `qpw` param; without it a composition error, since the kernel would keep local_lock and
 * queue_work_on()); QPW's other users (SLUB's per-CPU data) are not modelled. `drain-on-return`:
 * the isolated CPU drains its batches on every return to user (Weisbecker's "mm: Drain LRUs upon
 * resume to userspace on nohz_full CPUs", 2025; before it Metcalf's task isolation, never merged).
 */
export function lruSpinlockDrain(options: LruSpinlockDrainOptions = {}): Mechanism {
  const variant = options.variant ?? "spinlock";
  const f = resolveOptions(options);
  const faults = options.faults ?? {};
  return {
    name: "lru-spinlock-drain",
    description: "per-CPU LRU batches under a per-CPU spinlock: lru_add_drain_all()'s caller drains remote batches itself, no kworker on isolated CPUs (qpw: as QPW v2, needs qpw=1)",
    variants: lruSpinlockDrainVariants,
    variant,
    options: lruSpinlockDrainOptionLimits,
    install(k: Kernel): void {
      if (variant === "drain-on-return") installDrainOnReturn(k, f);
      else if (variant === "qpw") {
        if (!k.params.qpw) {
          throw new CompositionError(
            "lru-spinlock-drain.variant",
            `"qpw" needs QPW enabled at boot (CONFIG_QPW with qpw=1, QPW v2); this kernel has it off (qpw: false), so lru_add_drain_all() would still queue work: add qpw=1 to kernel.cmdline (or set kernel.params.qpw to true), or use "spinlock"`,
          );
        }
        installSpinlock(k, f, faults, "qpw");
      } else installSpinlock(k, f, faults, "spinlock");
    },
  };
}
