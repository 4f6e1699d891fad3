import type { Kernel, Nanoseconds } from "@isolsim/core";

/**
 * The part of the load average a tickless CPU must keep folding (kernel/sched/loadavg.c): each
 * runqueue's last sampled number of active tasks (rq->calc_load_active), their sum as the global
 * count feeds it (calc_load_tasks + calc_load_nohz[]), and when each runqueue was last folded.
 */
export class CalcLoad {
  /** rq->calc_load_active per CPU. */
  readonly active: Int32Array;
  /** When calc_load_fold_active() last sampled each runqueue, ns (-1: never). */
  readonly foldedAt: Float64Array;
  /** calc_load_tasks plus the pending calc_load_nohz[] deltas: Σ of the sampled active counts. */
  tasks = 0;

  constructor(private readonly k: Kernel) {
    this.active = new Int32Array(k.nrCpus);
    this.foldedAt = new Float64Array(k.nrCpus).fill(-1);
  }

  /**
   * calc_load_nohz_fold() → calc_load_fold_active(): samples the runqueue's nr_running and folds the
   * change into the global count. Called by calc_load_nohz_start() (first tick stop) and
   * calc_load_nohz_remote() (sched_tick_remote()).
   */
  fold(cpu: number): void {
    const nr = this.k.sched.rqs[cpu]!.tasks.length;
    this.tasks += nr - this.active[cpu]!;
    this.active[cpu] = nr;
    this.foldedAt[cpu] = this.k.engine.now;
  }

  /** How long ago the runqueue of `cpu` was last folded, ns (Infinity when never). */
  age(cpu: number, now: Nanoseconds): Nanoseconds {
    const at = this.foldedAt[cpu]!;
    return at < 0 ? Infinity : now - at;
  }
}
