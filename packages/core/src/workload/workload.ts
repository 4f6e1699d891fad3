import type { Kernel } from "../kernel.js";
import { Context, segment } from "../machine/cpu.js";
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

/** Makes the current user task of `cpu` enter the kernel for `call` (now, or when it next returns to user). */
export function syscall(k: Kernel, cpu: number, call: SyscallName | "kernel-loop", pages: number, runNs = 0): void {
  const t = userTasks(k, cpu)[0];
  if (!t) return;
  const enter = (): void => {
    const c = k.cpus[cpu]!;
    const task = c.curr;
    if (!task || !task.user) {
      t.pendingEntries.push(enter);
      return;
    }
    const body = call === "kernel-loop" ? runNs : k.params.syscallNs + (call === "getpid" || call === "call-rcu" ? 0 : pages * k.params.pageOpNs);
    const seg = segment(SYSCALL_SEGMENT[call], body, Context.kernel, {
      own: true,
      start: () => {
        if (call === "kernel-loop") return;
        const list = effects.get(k)?.get(call);
        if (!list) return;
        let extra: Segment[] | null = null;
        for (const e of list) {
          const more = e(cpu, task, pages);
          if (more && more.length > 0) (extra ??= []).push(...more);
        }
        if (extra) task.segs.splice(1, 0, ...extra);
      },
    });
    if (!k.exec.enterFromUser(cpu, [seg])) task.pendingEntries.push(enter);
  };
  enter();
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
    periodic(k, `${field}:syscall:${spec.call}`, spec, cpus, (cpu) => syscall(k, cpu, spec.call, pages));
  } else {
    periodic(k, `${field}:kernel-loop`, spec, cpus, (cpu) => syscall(k, cpu, "kernel-loop", 0, spec.run));
  }
};

const wakeupLoad: WorkloadInstaller = (k, spec, cpus, field) => {
  if (spec.type !== "wakeup") return;
  const tasksByCpu = new Map<string, Task>();
  const waker = k.hk.housekeeping.first();
  for (const cpu of cpus) {
    const t = k.sched.createTask({ name: `wakeup/${cpu}`, cpu, user: false, role: "other" });
    tasksByCpu.set(`${field}/${cpu}`, t);
  }
  periodic(k, `${field}:wakeup`, spec, cpus, (cpu) => {
    const t = tasksByCpu.get(`${field}/${cpu}`)!;
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
