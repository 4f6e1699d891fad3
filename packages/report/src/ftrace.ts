import type { TraceRecord } from "@isolsim/core";
import { splitEvent } from "./perfetto.js";
import type { TraceMeta } from "./perfetto.js";

/** The real tracepoint pair and fields an interruption maps to (arch/x86 irq_vectors, workqueue, irq). */
interface EventPair {
  entry: string;
  exit: string;
  fields: string;
  flags: string;
}

const vector = (name: string, v: number): EventPair => ({ entry: `${name}_entry`, exit: `${name}_exit`, fields: `vector=${v}`, flags: "d.h1." });

/** x86 vectors (a remote irq_work arrives on CALL_FUNCTION_SINGLE_VECTOR): LOCAL_TIMER_VECTOR 236, IRQ_WORK_VECTOR 246, CALL_FUNCTION_VECTOR 252, CALL_FUNCTION_SINGLE_VECTOR 251, RESCHEDULE_VECTOR 253. */
const BY_SOURCE: Readonly<Record<string, EventPair>> = {
  tick: vector("local_timer", 236),
  spurious_timer: vector("local_timer", 236),
  hrtimer: vector("local_timer", 236),
  ipi_irq_work: vector("irq_work", 246),
  ipi_tlb_flush: vector("call_function", 252),
  ipi_call_function: vector("call_function_single", 251),
  ipi_resched: vector("reschedule", 253),
};

/** softirq_to_name[] of include/linux/interrupt.h: the index is the vector. */
const SOFTIRQ_VECTORS = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"];

/** Model instants that are real tracepoints; any other named instant is printed as `isolsim_<name>`. */
const TRACEPOINTS = new Set(["sched_switch", "sched_wakeup", "tick_stop", "workqueue_queue_work", "rcu_grace_period", "timer_expire_entry"]);

/** FNV-1a of a name, as a stable fake kernel address (`work struct 00000000xxxxxxxx`). */
function address(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(16, "0");
}

/** The tracepoints a slice is printed as, or null for slices ftrace has no event for (user runs, own syscalls). */
function eventsOf(r: Extract<TraceRecord, { type: "slice" }>, workItems: ReadonlySet<string>): EventPair | null {
  const src = r.source;
  if (r.cat === "user") return null;
  if ((src !== null && src.startsWith("kworker_")) || workItems.has(`${r.cpu}:${r.ts}:${r.name}`)) {
    const f = `work struct ${address(r.name)}: function ${r.name}`;
    return { entry: "workqueue_execute_start", exit: "workqueue_execute_end", fields: f, flags: "....." };
  }
  if (r.cat === "softirq") {
    const action = src === "rcu" || /rcu/i.test(r.name) ? "RCU" : r.name.replace(/^softirq:/, "").toUpperCase();
    const vec = SOFTIRQ_VECTORS.indexOf(action);
    return { entry: "softirq_entry", exit: "softirq_exit", fields: `vec=${vec < 0 ? 0 : vec} [action=${action}]`, flags: "..s1." };
  }
  if (src === "ipi_irq_work" && r.name.startsWith("call_function_single:")) return vector("call_function_single", 251);
  if (src !== null && BY_SOURCE[src]) return BY_SOURCE[src]!;
  if (r.cat === "irq") {
    if (/timer/.test(r.name)) return vector("local_timer", 236);
    if (/resched/.test(r.name)) return vector("reschedule", 253);
    if (/irq_work/.test(r.name)) return vector("irq_work", 246);
    if (/call_function|flush_tlb/.test(r.name)) return vector("call_function", 252);
    if (src === "rcu") return vector("call_function_single", 251);
    return { entry: "irq_handler_entry", exit: "irq_handler_exit", fields: `irq=0 name=${r.name}`, flags: "d.h1." };
  }
  if (src !== null) return { entry: "isolsim_noise_entry", exit: "isolsim_noise_exit", fields: `name=${r.name}`, flags: "....." };
  return null;
}

/** A line of the trace before formatting. */
interface Line {
  ns: number;
  rank: number;
  len: number;
  seq: number;
  cpu: number;
  flags: string;
  event: string;
  fields: string;
  /** Task change on this CPU that this line records (sched_switch next_comm). */
  switchTo?: string;
}

const header = (entries: number, cpus: number): string[] => [
  "# tracer: nop",
  "#",
  `# entries-in-buffer/entries-written: ${entries}/${entries}   #P:${cpus}`,
  "#",
  "#                                _-----=> irqs-off/BH-disabled",
  "#                               / _----=> need-resched",
  "#                              | / _---=> hardirq/softirq",
  "#                              || / _--=> preempt-depth",
  "#                              ||| / _-=> migrate-disable",
  "#                              |||| /     delay",
  "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
  "#              | |         |   |||||     |         |",
];

/** The kernel's timestamp: seconds and microseconds, truncated (kernel/trace/trace_output.c). */
export function ftraceTimestamp(ns: number): string {
  const usTotal = Math.floor(ns / 1000);
  return `${String(Math.floor(usTotal / 1e6)).padStart(5)}.${String(usTotal % 1e6).padStart(6, "0")}`;
}

/**
 * Converts trace records to the text of /sys/kernel/tracing/trace (`task-pid [cpu] flags
 * timestamp: event: fields`), with the real tracepoint names where one exists. Each counted
 * interruption's entry line ends with `source=KEY`, its report `interruptions` key.
 */
export function formatFtrace(records: readonly TraceRecord[], meta: TraceMeta): string {
  const lines: Line[] = [];
  const pids = new Map<string, number>();
  for (const r of records) {
    if (r.type !== "instant") continue;
    const m = /^sched_wakeup: comm=(\S+) pid=(\d+)/.exec(r.name);
    if (m && !pids.has(m[1]!)) pids.set(m[1]!, Number(m[2]));
  }
  // The model marks each work item a kworker runs with a workqueue_execute_start instant; its slice
  // prints the start/end pair, so the instant itself is not printed again.
  const workItems = new Set<string>();
  for (const r of records) {
    if (r.type !== "instant" || !r.name.startsWith("workqueue_execute_start: ")) continue;
    workItems.add(`${r.cpu}:${r.ts}:${r.name.replace(/^workqueue_execute_start: function /, "")}`);
  }
  let nextPid = 1000;
  const pidOf = (comm: string): number => {
    if (comm === "<idle>" || comm.startsWith("swapper")) return 0;
    let p = pids.get(comm);
    if (p === undefined) pids.set(comm, (p = nextPid++));
    return p;
  };
  records.forEach((r, seq) => {
    if (r.type === "slice") {
      const ev = eventsOf(r, workItems);
      if (!ev) return;
      const src = r.source !== null ? ` source=${r.source}` : "";
      lines.push({ ns: r.ts, rank: 3, len: r.end - r.ts, seq, cpu: r.cpu, flags: ev.flags, event: ev.entry, fields: ev.fields + src });
      lines.push({ ns: r.end, rank: 0, len: r.end - r.ts, seq, cpu: r.cpu, flags: ev.flags, event: ev.exit, fields: ev.fields });
    } else if (r.type === "flow") {
      lines.push({ ns: r.ts, rank: 1, len: 0, seq, cpu: r.from, flags: "d..1.", event: "ipi_send_cpu", fields: `cpu=${r.to} callsite=${r.name} callback=${r.name}` });
    } else {
      const { event, fields } = splitEvent(r.name);
      if (event === "workqueue_execute_start") return;
      const line: Line = { ns: r.ts, rank: 2, len: 0, seq, cpu: r.cpu, flags: "d..1.", event, fields };
      if (event === "sched_switch") {
        const prev = /prev_comm=(\S+)/.exec(fields)?.[1] ?? "swapper";
        const next = /next_comm=(\S+)/.exec(fields)?.[1] ?? "swapper";
        const name = (c: string): string => (c === "swapper" ? `swapper/${r.cpu}` : c);
        line.flags = "d..2.";
        const state = /prev_state=(\S+)/.exec(fields)?.[1] ?? "R";
        line.fields = `prev_comm=${name(prev)} prev_pid=${pidOf(prev)} prev_prio=120 prev_state=${state} ==> next_comm=${name(next)} next_pid=${pidOf(next)} next_prio=120`;
        line.switchTo = next === "swapper" ? "<idle>" : next;
      } else if (event === "sched_wakeup") {
        const comm = /comm=(\S+)/.exec(fields)?.[1] ?? "?";
        const target = Number(/target_cpu=(\d+)/.exec(fields)?.[1] ?? r.cpu);
        line.fields = `comm=${comm} pid=${pidOf(comm)} prio=120 target_cpu=${String(target).padStart(3, "0")}`;
      } else if (event === "workqueue_queue_work") {
        // TP_printk of 4.9 include/trace/events/workqueue.h; -1 (WORK_CPU_UNBOUND, an unbound pool) prints as %u.
        const fn = /function=(\S+)/.exec(fields)?.[1] ?? "?";
        const wq = /workqueue=(\S+)/.exec(fields)?.[1] ?? "?";
        const u32 = (key: string): number => Number(new RegExp(`(?:^|\\s)${key}=(-?\\d+)`).exec(fields)?.[1] ?? r.cpu) >>> 0;
        line.fields = `work struct=${address(fn)} function=${fn} workqueue=${address(wq)} req_cpu=${u32("req_cpu")} cpu=${u32("cpu")}`;
      } else if (event === "timer_expire_entry") {
        line.fields = `timer=${address(fields)} function=${fields}`;
      } else if (event.startsWith("invariant violated")) {
        const parts = splitEvent(fields);
        line.event = "isolsim_invariant_violated";
        line.fields = `invariant=${parts.event} ${parts.fields}`;
      } else if (!fields) {
        line.event = "isolsim_event";
        line.fields = `name=${event}`;
      } else if (!TRACEPOINTS.has(event)) line.event = `isolsim_${event}`;
      lines.push(line);
    }
  });
  lines.sort((a, b) => a.ns - b.ns || a.rank - b.rank || (a.rank === 0 ? a.len - b.len : b.len - a.len) || a.seq - b.seq);
  const curr: string[] = Array.from({ length: meta.cpus }, () => "<idle>");
  const text = lines.map((l) => {
    const comm = curr[l.cpu] ?? "<idle>";
    if (l.switchTo !== undefined) curr[l.cpu] = l.switchTo;
    const task = `${comm.padStart(16)}-${String(pidOf(comm)).padEnd(7)}`;
    return `${task} [${String(l.cpu).padStart(3, "0")}] ${l.flags} ${ftraceTimestamp(l.ns)}: ${l.event}: ${l.fields}`;
  });
  return [...header(text.length, meta.cpus), ...text].join("\n") + "\n";
}
