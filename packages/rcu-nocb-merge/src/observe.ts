import type { Kernel, Task } from "@isolsim/core";

/** What {@link observeNocb} measured: the figures `mechanism_stats["rcu-nocb-merge"]` reports (snake_case). */
export interface NocbFigures {
  /** Offloading kthreads the layout spawned (rcuo*, rcuog), whether or not they ran. */
  nocb_kthreads: number;
  /** Of them, callback kthreads (role rcu_callback: rcuop/N, rcuos/N, rcuob/N). */
  rcu_callback_kthreads: number;
  /** Of them, grace-period kthreads (role rcu_gp: rcuog/N). */
  rcu_gp_kthreads: number;
  /** Kernel stacks they hold: nocb_kthreads × THREAD_SIZE (param thread_size_bytes), bytes. */
  nocb_kthread_stack_bytes: number;
  /** try_to_wake_up() of offloading kthreads in the measured window. */
  nocb_kthread_wakeups: number;
  /** sched_switch events on housekeeping CPUs in the measured window, any task. */
  housekeeping_context_switches: number;
  /** Of them, switches into or out of an offloading kthread. */
  nocb_context_switches: number;
  /** Switches into an offloading kthread on a nohz_full CPU in the measured window (must be 0). */
  cb_kthread_runs_on_isolated: number;
  /** Grace periods (all flavours) that ended in the measured window. */
  grace_periods: number;
  /** Mean time from rcu_gp_init() to rcu_gp_cleanup() of those, ns. */
  gp_latency_mean_ns: number;
  /** Longest of those, ns. */
  gp_latency_max_ns: number;
  /** Callbacks invoked in the measured window (offloaded or not). */
  callbacks_invoked: number;
  /** Mean time from call_rcu() to the callback's invocation, ns. */
  callback_latency_mean_ns: number;
  /** Longest such time, ns. */
  callback_latency_max_ns: number;
}

/**
 * Attaches read-only observers to a kernel's tracepoint hooks (sched_wakeup, sched_switch,
 * rcu_grace_period end, rcu_invoke_callback) and returns a function giving the RCU-offloading
 * figures so far. It changes no behaviour, so the same figures come from a baseline kernel
 * (attach after buildKernel(), before running) and from one with rcu-nocb-merge.
 */
export function observeNocb(k: Kernel): () => NocbFigures {
  const nocb = new Set<Task>();
  const refresh = (): void => {
    if (nocb.size === k.rcu.nocb.kthreads.length) return;
    for (const kt of k.rcu.nocb.kthreads) nocb.add(kt.task);
  };
  let wakeups = 0;
  let hkSwitches = 0;
  let nocbSwitches = 0;
  let onIsolated = 0;
  let gps = 0;
  let gpSum = 0;
  let gpMax = 0;
  let cbs = 0;
  let cbSum = 0;
  let cbMax = 0;
  k.hooks.schedWakeup.push((task) => {
    if (!k.measuring() || task.user) return;
    refresh();
    if (nocb.has(task)) wakeups++;
  });
  k.hooks.schedSwitch.push((cpu, prev, next) => {
    if (!k.measuring()) return;
    refresh();
    const isolated = k.cpus[cpu]!.nohzFull;
    if (isolated) {
      if (next && nocb.has(next)) onIsolated++;
      return;
    }
    hkSwitches++;
    if ((prev && nocb.has(prev)) || (next && nocb.has(next))) nocbSwitches++;
  });
  k.hooks.rcuGpEnd.push((_flavour, startNs) => {
    if (!k.measuring()) return;
    const d = k.engine.now - startNs;
    gps++;
    gpSum += d;
    if (d > gpMax) gpMax = d;
  });
  k.hooks.rcuInvokeCallback.push((cb) => {
    if (!k.measuring()) return;
    const d = k.engine.now - cb.queuedAt;
    cbs++;
    cbSum += d;
    if (d > cbMax) cbMax = d;
  });
  return () => {
    refresh();
    let callback = 0;
    let gp = 0;
    for (const t of nocb) {
      if (t.role === "rcu_gp") gp++;
      else callback++;
    }
    return {
      nocb_kthreads: nocb.size,
      rcu_callback_kthreads: callback,
      rcu_gp_kthreads: gp,
      nocb_kthread_stack_bytes: nocb.size * k.params.threadSizeBytes,
      nocb_kthread_wakeups: wakeups,
      housekeeping_context_switches: hkSwitches,
      nocb_context_switches: nocbSwitches,
      cb_kthread_runs_on_isolated: onIsolated,
      grace_periods: gps,
      gp_latency_mean_ns: gps > 0 ? Math.round(gpSum / gps) : 0,
      gp_latency_max_ns: gpMax,
      callbacks_invoked: cbs,
      callback_latency_mean_ns: cbs > 0 ? Math.round(cbSum / cbs) : 0,
      callback_latency_max_ns: cbMax,
    };
  };
}
