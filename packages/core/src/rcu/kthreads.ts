/**
 * RCU kthreads of later kernels that exist but, in the modelled workloads, never run: the
 * expedited-GP kthread workers (6.12 kernel/rcu/tree.c) and the tasks-RCU kthreads
 * (kernel/rcu/tasks.h). They count in the report's `kthreads` under `other`.
 */
import type { Kernel } from "../kernel.js";

/** RCU_FANOUT_LEAF (x86_64 default 16): CPUs per leaf rcu_node. */
export const RCU_FANOUT_LEAF = 16;
/** RCU_FANOUT (64-bit default 64): children per inner rcu_node. */
export const RCU_FANOUT = 64;

/**
 * Index in the rcu_node array (rcu_state.node, breadth-first from the root) of each leaf
 * rcu_node for `nrCpus` CPUs (rcu_init_geometry()): one node that is root and leaf on up to
 * RCU_FANOUT_LEAF CPUs, else the leaves follow the upper levels.
 */
export function rcuLeafNodeIndexes(nrCpus: number): number[] {
  const levels: number[] = [Math.max(1, Math.ceil(nrCpus / RCU_FANOUT_LEAF))];
  while (levels[levels.length - 1]! > 1) levels.push(Math.ceil(levels[levels.length - 1]! / RCU_FANOUT));
  const upper = levels.slice(1).reduce((a, b) => a + b, 0);
  return Array.from({ length: levels[0]! }, (_, i) => upper + i);
}

/**
 * Spawns, as the params ask, `rcu_exp_gp_kthread_worker` (rcu_start_exp_gp_kworker()) and one
 * `rcu_exp_par_gp_kthread_worker/N` per leaf rcu_node (rcu_spawn_exp_par_gp_kworker(), named by
 * the leaf's index; the boot CPU's first), then `rcu_tasks_kthread`, `rcu_tasks_rude_kthread`, `rcu_tasks_trace_kthread`
 * (rcu_spawn_tasks_kthread_generic(): "%s_kthread" of each flavour's kname). Unbound kthreads,
 * affined to housekeeping CPUs (HK_TYPE_KTHREAD); placed on the first.
 */
export function spawnExpAndTasksKthreads(k: Kernel): void {
  const p = k.params;
  if (!p.rcuExpKthreadWorkers && !p.rcuTasksKthreads) return;
  const cpu = k.hk.housekeeping.isEmpty() ? k.bootCpu : k.hk.housekeeping.first();
  const names: string[] = [];
  if (p.rcuExpKthreadWorkers) {
    // rcu_spawn_gp_kthread(): the boot CPU's leaf worker, then the expedited GP worker; the other
    // leaves' as their CPUs come online (rcutree_online_cpu() → rcu_spawn_rnp_kthreads()).
    const leaves = rcuLeafNodeIndexes(k.nrCpus);
    const bootLeaf = leaves[Math.floor(k.bootCpu / RCU_FANOUT_LEAF)]!;
    names.push(`rcu_exp_par_gp_kthread_worker/${bootLeaf}`, "rcu_exp_gp_kthread_worker");
    for (const i of leaves) if (i !== bootLeaf) names.push(`rcu_exp_par_gp_kthread_worker/${i}`);
  }
  if (p.rcuTasksKthreads) names.push("rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread");
  for (const name of names) k.sched.createTask({ name, cpu, user: false, role: "other" });
}
