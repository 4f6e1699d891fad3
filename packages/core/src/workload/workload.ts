import type { Kernel } from "../kernel.js";
import { Context, segment, segmentOf } from "../machine/cpu.js";
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

/** Registers a kernel side effect of `call` on this kernel (e.g. lru_cache_add() for `file-write`). */
export function onSyscall(k: Kernel, call: SyscallName, effect: SyscallEffect): void {
  let m = effects.get(k);
  if (!m) effects.set(k, (m = new Map()));
  const list = m.get(call) ?? [];
  list.push(effect);
  m.set(call, list);
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
  return (seg) => {
    const list = effects.get(k)?.get(call);
    if (!list) return;
    const cpu = k.executingCpu;
    const task = k.cpus[cpu]!.curr!;
    let extra: Segment[] | null = null;
    for (const e of list) {
      const more = e(cpu, task, seg.arg);
      if (more && more.length > 0) (extra ??= []).push(...more);
    }
    if (extra) task.segs.splice(1, 0, ...extra);
  };
}

/** Makes the current user task of `cpu` enter the kernel for `call` (now, or when it next returns to user). */
export function syscall(k: Kernel, cpu: number, call: SyscallName | "kernel-loop", pages: number, runNs = 0): void {
  enterSyscall(k, cpu, call, pages, runNs, syscallStart(k, call));
}

/** {@link syscall} with the call's shared start effect made once by its workload item (no closure per call). */
function enterSyscall(k: Kernel, cpu: number, call: SyscallName | "kernel-loop", pages: number, runNs: number, start: ((seg: Segment) => void) | null): void {
  const t = userTasks(k, cpu)[0];
  if (!t) return;
  const c = k.cpus[cpu]!;
  const task = c.curr;
  // Not in a user task now: the call is made when this CPU's user task next returns to user mode.
  const waiting = !task || !task.user ? t : enterFromUser(k, cpu, call, pages, runNs, start) ? null : task;
  if (waiting) waiting.pendingEntries.push(() => enterSyscall(k, cpu, call, pages, runNs, start));
}

/** Makes the syscall's entry and body the current task's next work; false when the CPU cannot enter the kernel now. */
function enterFromUser(k: Kernel, cpu: number, call: SyscallName | "kernel-loop", pages: number, runNs: number, start: ((seg: Segment) => void) | null): boolean {
  const body = call === "kernel-loop" ? runNs : k.params.syscallNs + (call === "getpid" || call === "call-rcu" ? 0 : pages * k.params.pageOpNs);
  return k.exec.enterFromUser(cpu, segmentOf(SYSCALL_SEGMENT[call], body, Context.kernel, -1, true, start, null, pages));
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
  if (spec.type === "syscall") {
    const pages = spec.pages ?? 8;
    const start = syscallStart(k, spec.call);
    periodic(k, `${field}:syscall:${spec.call}`, spec, cpus, (cpu) => enterSyscall(k, cpu, spec.call, pages, 0, start));
  } else {
    periodic(k, `${field}:kernel-loop`, spec, cpus, (cpu) => enterSyscall(k, cpu, "kernel-loop", 0, spec.run, null));
  }
};

const wakeupLoad: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "wakeup") return;
  const tasksByCpu: Task[] = [];
  const waker = k.hk.housekeeping.first();
  for (const cpu of cpus) tasksByCpu[cpu] = k.sched.createTask({ name: `wakeup/${cpu}`, cpu, user: false, role: "other" });
  periodic(k, `${field}:wakeup`, spec, cpus, (cpu) => {
    const t = tasksByCpu[cpu]!;
    k.irq.raise(
      waker,
      segment("hrtimer_interrupt", k.params.ipiHandlerNs, Context.irq, {
        start: () => {
          if (t.segs.length === 0) t.segs.push(segment(t.name, spec.run, Context.kernel, { source: Src.kthread }));
          k.sched.wakeUp(t, waker);
        },
      }),
    );
  });
};

/** Installers of the contract's workload types; subsystems register the ones they model. */
export const workloadInstallers: Map<WorkloadSpec["type"], WorkloadInstaller> = new Map<WorkloadSpec["type"], WorkloadInstaller>([
  ["user-loop", userLoop],
  ["syscall", syscallLoad],
  ["kernel-loop", syscallLoad],
  ["wakeup", wakeupLoad],
  ["vmalloc-churn", vmallocChurn],
  ["lru-drain-all", lruDrainAllWorkload],
]);
