import type { Kernel } from "../kernel.js";
import { Context } from "../machine/cpu.js";
import type { Segment } from "../machine/cpu.js";
import { CpuMask } from "../machine/cpumask.js";
import { Src } from "../accounting/sources.js";
import { InputError } from "../params.js";
import type { SyscallName, WorkloadSpec } from "../scenario.js";
import { Policy } from "../sched/task.js";
import type { Task } from "../sched/task.js";
import { periodic } from "./periodic.js";
import { vmallocChurn } from "../mm/vmalloc.js";
import { lruDrainAllWorkload } from "../mm/swap.js";
import { bpfWorkload } from "../bpf/entry-prog.js";

/** Installs one workload item into a kernel; `field` names it in errors (`workload[2]`). */
export type WorkloadInstaller = (k: Kernel, spec: WorkloadSpec, cpus: number[], field: string) => void;

/** The user tasks of a CPU, created by `user-loop` (the tasks that make syscalls), in pid order. */
export function userTasks(k: Kernel, cpu: number): readonly Task[] {
  return k.sched.userTasksOf(cpu);
}

/**
 * Kernel side effects of a syscall, by name: subsystems add theirs (page-cache writes add pages to
 * LRU batches and dirty vmstat, call_rcu() queues a callback). Each returns extra kernel work.
 */
export type SyscallEffect = (cpu: number, task: Task, pages: number) => Segment[] | void;

const effects = new WeakMap<Kernel, Map<SyscallName, SyscallEffect[]>>();

/** The side effects of `call` on this kernel: one list per call, kept for the kernel's life (registrations add to it). */
function effectsOf(k: Kernel, call: SyscallName): SyscallEffect[] {
  let m = effects.get(k);
  if (!m) effects.set(k, (m = new Map()));
  let list = m.get(call);
  if (!list) m.set(call, (list = []));
  return list;
}

/** Registers a kernel side effect of `call` on this kernel (e.g. lru_cache_add() for `file-write`). */
export function onSyscall(k: Kernel, call: SyscallName, effect: SyscallEffect): void {
  effectsOf(k, call).push(effect);
}

/** Segment names of the syscalls (the kernel functions' names). */
const SYSCALL_SEGMENT: Record<SyscallName | "kernel-loop", string> = {
  getpid: "sys_getpid",
  "file-write": "sys_file_write",
  "page-fault": "sys_page_fault",
  mlock: "sys_mlock",
  "call-rcu": "sys_call_rcu",
  "kernel-loop": "kernel_loop",
};

/**
 * The start effect of `call`'s syscall segments, shared by every call on this kernel: runs the
 * registered side effects for the CPU executing it and its current task, with the page count in
 * `seg.arg` (null for `kernel-loop`, which has none).
 */
function syscallStart(k: Kernel, call: SyscallName | "kernel-loop"): ((seg: Segment) => void) | null {
  if (call === "kernel-loop") return null;
  const list = effectsOf(k, call);
  return (seg) => {
    if (list.length === 0) return;
    const cpu = k.executingCpu;
    const task = k.cpus[cpu]!.curr!;
    let extra: Segment[] | null = null;
    for (let i = 0; i < list.length; i++) {
      const more = list[i]!(cpu, task, seg.arg);
      if (more && more.length > 0) (extra ??= []).push(...more);
    }
    if (extra) task.segs.splice(1, 0, ...extra);
  };
}

/** What one kind of syscall of a workload item enters the kernel for, made once (a call allocates only its body segment). */
interface SyscallSite {
  /** The call. */
  readonly call: SyscallName | "kernel-loop";
  /** Its body segment's name (the kernel function, {@link SYSCALL_SEGMENT}). */
  readonly name: string;
  /** Pages it touches (the body's `seg.arg`). */
  readonly pages: number;
  /** Time in the kernel of `kernel-loop`, ns. */
  readonly runNs: number;
  /** The call's shared start effect ({@link syscallStart}). */
  readonly start: ((seg: Segment) => void) | null;
  /** Per CPU, whether a call of this site waits deferred (periodic()'s overrun flags), or null. */
  readonly pending: Uint8Array | null;
}

/** A {@link SyscallSite} of `call` on this kernel. */
function syscallSite(k: Kernel, call: SyscallName | "kernel-loop", pages: number, runNs: number, pending: Uint8Array | null = null): SyscallSite {
  return { call, name: SYSCALL_SEGMENT[call], pages, runNs, start: syscallStart(k, call), pending };
}

/** Makes the current user task of `cpu` enter the kernel for `call` (now, or when it next returns to user). */
export function syscall(k: Kernel, cpu: number, call: SyscallName | "kernel-loop", pages: number, runNs = 0): void {
  enterSyscall(k, cpu, syscallSite(k, call, pages, runNs));
}

/**
 * {@link syscall} of a site made once by its workload item. A user task running now enters the
 * kernel (or, when it cannot yet, defers the call to its next return to user mode); otherwise the
 * call waits for the CPU's first user task, whose list is read only then.
 */
function enterSyscall(k: Kernel, cpu: number, site: SyscallSite): void {
  const task = k.cpus[cpu]!.curr;
  if (task !== null && task.user) {
    if (!enterFromUser(k, cpu, site)) deferSyscall(k, task, cpu, site);
    return;
  }
  const t = userTasks(k, cpu)[0];
  if (t) deferSyscall(k, t, cpu, site);
}

/**
 * Queues the call on `waiting`'s pending entries (a closure only for a deferred call, not in every
 * call's frame), flagged in the site's `pending` until it is taken up: a periodic item's next
 * firings are overruns meanwhile, so one call per item and CPU waits at most.
 */
function deferSyscall(k: Kernel, waiting: Task, cpu: number, site: SyscallSite): void {
  const pending = site.pending;
  if (pending === null) {
    waiting.pendingEntries.push(() => enterSyscall(k, cpu, site));
    return;
  }
  pending[cpu] = 1;
  waiting.pendingEntries.push(() => {
    pending[cpu] = 0;
    enterSyscall(k, cpu, site);
  });
}

/**
 * Makes the syscall's entry and body the current task's next work; false when the CPU cannot enter
 * the kernel now. The body comes from the executor's pool: nothing references it once it completes.
 */
function enterFromUser(k: Kernel, cpu: number, site: SyscallSite): boolean {
  const call = site.call;
  const body = call === "kernel-loop" ? site.runNs : k.params.syscallNs + (call === "getpid" || call === "call-rcu" ? 0 : site.pages * k.params.pageOpNs);
  return k.exec.enterFromUser(cpu, k.exec.segments.take(site.name, body, Context.kernel, -1, true, site.start, null, site.pages));
}

const userLoop: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "user-loop") return;
  const n = spec.tasks ?? 1;
  const policy = spec.policy === "fifo" ? Policy.fifo : spec.policy === "rr" ? Policy.rr : Policy.other;
  if (policy !== Policy.other && (spec.priority === undefined || spec.priority < 1 || spec.priority > 99)) {
    throw new InputError(`${field}.priority`, `${JSON.stringify(spec.priority)} is not valid for policy ${spec.policy} (valid: an integer 1-99)`);
  }
  for (const cpu of cpus) {
    k.accounting.cpus[cpu]!.hasUserTask = true;
    for (let i = 0; i < n; i++) {
      const t = k.sched.createTask({ name: n > 1 ? `user-loop/${cpu}.${i}` : `user-loop/${cpu}`, cpu, user: true, policy, rtPriority: spec.priority ?? 0 });
      k.sched.wakeUp(t, cpu);
    }
  }
};

const needsUserTask = (k: Kernel, spec: WorkloadSpec, cpus: number[], field: string): void => {
  for (const cpu of cpus) {
    if (userTasks(k, cpu).length === 0) {
      throw new InputError(`${field}.cpus`, `CPU ${cpu} has no user-loop task to make the ${spec.type} (valid: CPUs listed by a user-loop item: ${CpuMask.of(k.nrCpus, k.sched.tasks.filter((t) => t.user).map((t) => t.cpu)).toString() || "none"})`);
    }
  }
};

const syscallLoad: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "syscall" && spec.type !== "kernel-loop") return;
  needsUserTask(k, spec, cpus, field);
  const pending = new Uint8Array(k.nrCpus);
  const site = spec.type === "syscall" ? syscallSite(k, spec.call, spec.pages ?? 8, 0, pending) : syscallSite(k, "kernel-loop", 0, spec.run, pending);
  periodic(k, spec.type === "syscall" ? `${field}:syscall:${spec.call}` : `${field}:kernel-loop`, spec, cpus, (cpu) => enterSyscall(k, cpu, site), pending);
};

const wakeupLoad: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "wakeup") return;
  const tasksByCpu: Task[] = [];
  const waker = k.hk.housekeeping.first();
  for (const cpu of cpus) tasksByCpu[cpu] = k.sched.createTask({ name: `wakeup/${cpu}`, cpu, user: false, role: "other" });
  // Nothing references these segments once they complete: they come from the executor's pool, and
  // one start effect serves every firing (the woken task's CPU in seg.arg).
  const pool = k.exec.segments;
  // A raised timer interrupt not yet handled makes the next firings overruns (periodic()).
  const pending = new Uint8Array(k.nrCpus);
  const wake = (seg: Segment): void => {
    pending[seg.arg] = 0;
    const t = tasksByCpu[seg.arg]!;
    if (t.segs.length === 0) t.segs.push(pool.take(t.name, spec.run, Context.kernel, Src.kthread, false, null, null, 0));
    k.sched.wakeUp(t, waker);
  };
  periodic(
    k,
    `${field}:wakeup`,
    spec,
    cpus,
    (cpu) => {
      pending[cpu] = 1;
      // The woken thread's hrtimer expires on the housekeeping CPU (get_nohz_timer_target()): a local
      // timer interrupt that is not the tick, counted under `hrtimer` there (docs/model.md).
      k.irq.raise(waker, pool.take("hrtimer_interrupt", k.params.ipiHandlerNs, Context.irq, Src.hrtimer, false, wake, null, cpu));
    },
    pending,
  );
};

/** Installers of the contract's workload types; subsystems register the ones they model. */
export const workloadInstallers: Map<WorkloadSpec["type"], WorkloadInstaller> = new Map<WorkloadSpec["type"], WorkloadInstaller>([
  ["user-loop", userLoop],
  ["syscall", syscallLoad],
  ["kernel-loop", syscallLoad],
  ["wakeup", wakeupLoad],
  ["vmalloc-churn", vmallocChurn],
  ["lru-drain-all", lruDrainAllWorkload],
  ["bpf", bpfWorkload],
]);
