/**
 * Comm prefixes of kernel threads (kthreadd's children name themselves `name/N`, `name/N:M`, ...).
 * A trace does not say whether a task is a kernel thread (PF_KTHREAD is not printed); this list of
 * the threads a 4.9-6.12 kernel creates stands in for it. A user task named like one is misread.
 */
const KTHREAD_PREFIXES = [
  "kworker/", "ksoftirqd/", "migration/", "cpuhp/", "idle_inject/", "watchdog/", "irq/", "ktimers/",
  "rcuc/", "rcuo", "rcu_", "rcub/", "kthreadd", "kswapd", "kcompactd", "khugepaged", "khungtaskd",
  "oom_reaper", "kdevtmpfs", "kauditd", "ksmd", "kblockd", "writeback", "jbd2/", "kintegrityd",
  "kthrotld", "watchdogd", "netns", "mm_percpu_wq", "pool_workqueue_", "kstrp", "ipv6_addrconf",
  "ext4-rsv-conver", "scsi_", "ata_sff", "psimon", "hwrng", "kdamond", "ksgxd", "edac-poller",
  "devfreq_wq", "inet_frag_wq", "tpm_dev_wq", "blkcg_punt_bio", "zswap", "kpsmoused", "nvme-",
  "xfs", "kvm-", "kaluad", "slub_flushwq",
] as const;

/** Whether a comm is a kernel thread's (from a list of the comm prefixes of the kernel threads a 4.9-6.12 kernel creates); pid 0 is the idle task, not a kthread. */
export function isKthreadComm(comm: string): boolean {
  for (const p of KTHREAD_PREFIXES) if (comm.startsWith(p)) return true;
  return false;
}

/** Whether a comm is a kworker (kernel/workqueue.c names them `kworker/N:M[H]` and `kworker/uN:M`). */
export function isKworkerComm(comm: string): boolean {
  return comm.startsWith("kworker/");
}

/** Whether a comm runs RCU callbacks or RCU core work on a CPU: `rcuc/N` (kernel/rcu/tree.c rcu_cpu_kthread) or `rcuo[ps]/N` (tree_nocb.h). */
export function isRcuCallbackComm(comm: string): boolean {
  return comm.startsWith("rcuc/") || /^rcuo[ps]\//.test(comm);
}

/** Whether a comm is an RCU grace-period kthread of the nocb machinery, `rcuog/N` (kernel/rcu/tree_nocb.h). */
export function isRcuGpComm(comm: string): boolean {
  return comm.startsWith("rcuog/");
}
