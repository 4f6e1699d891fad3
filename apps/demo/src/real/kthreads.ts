/** The contract's `kthreads` block: kernel threads by role. */
export interface KthreadCounts {
  /** rcuo* (rcuop/N, rcuos/N, rcuob/N): RCU callback offload kthreads. */
  rcu_callback: number;
  /** rcuog/N: RCU grace-period kthreads of the offloaded CPUs. */
  rcu_gp: number;
  /** kworker/*. */
  kworker: number;
  /** Every other kernel thread (ksoftirqd, migration, cpuhp, rcu_preempt, …): total minus the roles above. */
  other: number;
  /** Every kernel thread (kthreadd and its children), whatever its role. */
  total: number;
}

/**
 * Counts the kernel threads of the guest's `ps -o pid,ppid,comm` listing at the end of the run:
 * kthreadd (pid 2) and every process whose parent is kthreadd (kernel/kthread.c kthreadd()
 * creates them all), by role.
 */
export function kthreadsFromPs(listing: string): KthreadCounts {
  const out: KthreadCounts = { rcu_callback: 0, rcu_gp: 0, kworker: 0, other: 0, total: 0 };
  for (const line of listing.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(line);
    if (!m || (m[1] !== "2" && m[2] !== "2")) continue;
    const comm = m[3]!;
    out.total++;
    if (comm.startsWith("rcuog/")) out.rcu_gp++;
    else if (/^rcuo[psb]\//.test(comm)) out.rcu_callback++;
    else if (comm.startsWith("kworker/")) out.kworker++;
    else out.other++;
  }
  return out;
}
