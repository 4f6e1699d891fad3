import type { Nanoseconds } from "../engine/engine.js";
import type { Segment } from "../machine/cpu.js";

/** Scheduling policies (include/uapi/linux/sched.h). */
export const Policy = {
  /** SCHED_OTHER (CFS). */
  other: 0,
  /** SCHED_FIFO. */
  fifo: 1,
  /** SCHED_RR. */
  rr: 2,
} as const;

/** One of {@link Policy}'s values. */
export type PolicyId = (typeof Policy)[keyof typeof Policy];

/** Roles of kernel threads, as the report's `kthreads` counts them. */
export type KthreadRole = "kworker" | "rcu_callback" | "rcu_gp" | "other";

/** Task states (TASK_RUNNING on a runqueue or current; sleeping otherwise). */
export const TaskState = {
  /** TASK_RUNNING and current on its CPU. */
  running: 0,
  /** TASK_RUNNING, queued on a runqueue. */
  runnable: 1,
  /** Sleeping (TASK_INTERRUPTIBLE): not on a runqueue. */
  sleeping: 2,
} as const;

/** One of {@link TaskState}'s values. */
export type TaskStateId = (typeof TaskState)[keyof typeof TaskState];

/** A schedulable task: a user task or a kernel thread (struct task_struct, reduced). */
export interface Task {
  /** Process id. */
  readonly pid: number;
  /** comm, e.g. `kworker/3:1`, `rcuos/5`, `user-loop/2`. */
  readonly name: string;
  /** True for a user task; false for a kernel thread. */
  readonly user: boolean;
  /** Kernel thread role (report), or null for user tasks. */
  readonly role: KthreadRole | null;
  /** Scheduling policy. */
  policy: PolicyId;
  /** RT priority 1..99 for fifo/rr. */
  rtPriority: number;
  /** CPU the task is bound to (kthreads per CPU, user tasks affined by the workload). */
  cpu: number;
  /** Scheduler state. */
  state: TaskStateId;
  /** Kernel work still to execute at task level, FIFO; empty for a user task in user mode. */
  readonly segs: Segment[];
  /** True once a user task's kernel work is done and it is on its way back to user mode. */
  returning: boolean;
  /** CFS virtual runtime, ns. */
  vruntime: Nanoseconds;
  /** Runtime accumulated (sum_exec_runtime), ns. */
  sumExec: Nanoseconds;
  /** sum_exec_runtime when the task last started running (prev_sum_exec_runtime). */
  sliceStart: Nanoseconds;
  /** When the task last started running on its CPU (exec_start). */
  execStart: Nanoseconds;
  /** For kthreads: called when the task has no segment left; may queue more, else it sleeps. One function may serve many kthreads, telling them apart by `data`. */
  onIdle: ((task: Task) => void) | null;
  /** kthread_data(): the kthread's private data (its worker pool, its rcuo state), or null. */
  data: unknown;
  /** Kernel entries (syscalls) requested while the task was not in user mode; made on its return there. */
  readonly pendingEntries: (() => void)[];
  /** Number of times the task was woken (kthreads: runs). */
  wakeups: number;
}
