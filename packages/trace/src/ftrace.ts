import { StreamDigest } from "@isolsim/core";
import type { FtraceRecord } from "./ftrace-line.js";
import { isKthreadComm, isKworkerComm, isRcuCallbackComm, isRcuGpComm } from "./kthread.js";

/** TICK_DEP_BIT_* names in bit order (include/linux/tick.h; 4.9 stops at CLOCK_UNSTABLE). */
export const TICK_DEP_NAMES = ["POSIX_TIMER", "PERF_EVENTS", "SCHED", "CLOCK_UNSTABLE", "RCU", "RCU_EXP"] as const;

/** The hrtimer callback of the tick: tick_sched_timer() up to 6.x, tick_nohz_handler() from v6.11 (kernel/time/tick-sched.c). */
const TICK_HRTIMER_FUNCTIONS = new Set(["tick_sched_timer", "tick_nohz_handler"]);
/** Callbacks of kernel TLB flush IPIs (arch/x86/mm/tlb.c). */
const TLB_FLUSH_FUNCTIONS = new Set(["do_flush_tlb_all", "do_kernel_range_flush", "flush_tlb_func", "flush_tlb_func_remote"]);
/** The callback of a nohz_full tick-dependency kick (kernel/time/tick-sched.c nohz_full_kick_func()). */
const KICK_FUNCTIONS = new Set(["nohz_full_kick_func"]);
/** Functions counted under `housekeeping` when the function tracer shows them. */
export const HOUSEKEEPING_FUNCTIONS = {
  /** kernel/sched/core.c sched_tick_remote(). */
  remote_ticks: "sched_tick_remote",
  /** mm/swap.c lru_add_drain_all(). */
  lru_drains: "lru_add_drain_all",
  /** arch/x86/mm/tlb.c flush_tlb_kernel_range(). */
  tlb_flushes: "flush_tlb_kernel_range",
} as const;

/** Raw per-CPU counts of what the trace shows, before the mapping to report keys decides what is known. */
export interface FtraceCpuCounts {
  /** local_timer_entry in the window. */
  local_timer: number;
  /** Of those, interrupts that expired the tick's hrtimer (hrtimer_expire_entry of tick_sched_timer/tick_nohz_handler). */
  timer_tick: number;
  /** Of those, interrupts that expired only other hrtimers. */
  timer_other: number;
  /** Of those, interrupts that expired no hrtimer. */
  timer_none: number;
  /** call_function_entry and call_function_single_entry in the window. */
  call_function: number;
  /** Of those, IPIs that ran a kernel TLB flush callback. */
  cf_tlb: number;
  /** Of those, IPIs that ran nohz_full_kick_func(). */
  cf_kick: number;
  /** Of those, IPIs whose function lines named other callbacks only. */
  cf_other: number;
  /** Of those, IPIs with no function line inside. */
  cf_bare: number;
  /** reschedule_entry. */
  reschedule: number;
  /** irq_work_entry. */
  irq_work: number;
  /** spurious_apic_entry (a spurious APIC vector, not a timer interrupt). */
  spurious_apic: number;
  /** irq_handler_entry (device interrupts; no report key). */
  device_irq: number;
  /** softirq_entry vec=9 (RCU). */
  softirq_rcu: number;
  /** workqueue_execute_start of lru_add_drain_per_cpu. */
  work_lru: number;
  /** workqueue_execute_start of vmstat_update. */
  work_vmstat: number;
  /** Other workqueue_execute_start. */
  work_other: number;
  /** sched_switch to a non-kworker kthread other than rcuc/rcuo. */
  kthread: number;
  /** sched_switch to rcuc/N or rcuo[ps]/N. */
  rcu_kthread: number;
  /** tick_stop success=1. */
  tick_stops: number;
  /** tick_stop success=0 right after a timer interrupt, by dependency (TICK_DEP_NAMES order). */
  kept_by: number[];
  /** Noise from entry/exit pairs and preemptions of the user task, ns. */
  pair_noise_ns: number;
  /** Longest such interval, ns. */
  pair_max_single_ns: number;
  /** Net noise from osnoise:* events, ns. */
  osnoise_noise_ns: number;
  /** Longest osnoise:* event, ns. */
  osnoise_max_single_ns: number;
  /** osnoise:* events. */
  osnoise_events: number;
  /** Whether a user task ran on the CPU in the trace. */
  has_user: boolean;
}

interface CpuState extends FtraceCpuCounts {
  timerOpen: boolean;
  timerInWindow: boolean;
  timerTick: boolean;
  timerOther: boolean;
  ipiOpen: boolean;
  ipiInWindow: boolean;
  ipiTlb: boolean;
  ipiKick: boolean;
  ipiFunctions: boolean;
  awaitingReason: boolean;
  irqDepth: number;
  userUnder: boolean;
  preempted: boolean;
  noiseStart: number;
}

function newCpu(): CpuState {
  return {
    local_timer: 0, timer_tick: 0, timer_other: 0, timer_none: 0, call_function: 0, cf_tlb: 0, cf_kick: 0, cf_other: 0, cf_bare: 0,
    reschedule: 0, irq_work: 0, spurious_apic: 0, device_irq: 0, softirq_rcu: 0, work_lru: 0, work_vmstat: 0, work_other: 0,
    kthread: 0, rcu_kthread: 0, tick_stops: 0, kept_by: TICK_DEP_NAMES.map(() => 0), pair_noise_ns: 0, pair_max_single_ns: 0,
    osnoise_noise_ns: 0, osnoise_max_single_ns: 0, osnoise_events: 0, has_user: false,
    timerOpen: false, timerInWindow: false, timerTick: false, timerOther: false, ipiOpen: false, ipiInWindow: false, ipiTlb: false,
    ipiKick: false, ipiFunctions: false, awaitingReason: false, irqDepth: 0, userUnder: false, preempted: false, noiseStart: -1,
  };
}

/** sched_switch fields as the kernel prints them (include/trace/events/sched.h) or trace-cmd's sched_switch plugin. */
const SCHED_SWITCH = /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(-?\d+) prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(-?\d+)/;
const SCHED_SWITCH_TRACE_CMD = /^(.*):(\d+) \[(-?\d+)\] (\S+) ==> (.*):(\d+) \[(-?\d+)\]/;

/** What a line's fields failed to match, for the caller's line error; null when they parsed. */
export type FieldProblem = string | null;

const isUser = (comm: string, pid: number): boolean => pid !== 0 && !isKthreadComm(comm);

/** FNV-1a 32 of a string, to feed an event's fields to the digest. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Parses a tick_stop `dependency=` value: a name (6.x prints __print_symbolic's name) or a TICK_DEP_MASK_* number. */
function tickDepIndex(s: string): number {
  const byName = (TICK_DEP_NAMES as readonly string[]).indexOf(s);
  if (byName >= 0) return byName;
  const n = Number(s);
  if (Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0) {
    const bit = Math.log2(n);
    if (bit < TICK_DEP_NAMES.length) return bit;
  }
  return -1;
}

/**
 * Counts ftrace events per CPU the way the report maps them (see the package README): fed one
 * record at a time, in trace order, with memory bounded by the number of CPUs, event names and
 * kernel threads, never by the trace's length.
 */
export class FtraceCounter {
  /** Per-CPU counts, indexed by CPU. */
  readonly cpus: FtraceCpuCounts[] = [];
  /** Events seen (anywhere in the trace, window or not), by name, in order of first appearance. */
  readonly events = new Map<string, number>();
  /** Function tracer lines by function name (in the window). */
  readonly functions = new Map<string, number>();
  /** Kernel threads seen (pid → comm). */
  readonly kthreads = new Map<number, string>();
  /** Event records fed. */
  records = 0;
  /** First and last timestamp, ns (NaN before any record). */
  firstNs = NaN;
  /** Last timestamp, ns. */
  lastNs = NaN;
  /** Whether any `*_exit` event was seen (entry/exit pairs make noise measurable). */
  exitsSeen = false;
  private readonly digest = new StreamDigest();
  private readonly eventIndex = new Map<string, number>();
  private windowStart = -Infinity;
  private windowEnd = Infinity;

  /** `window`: [from, to] in seconds after the trace's first timestamp; events outside are not counted. */
  constructor(private readonly window: readonly [number, number] | null = null) {}

  /** The counted window in absolute trace ns: [start, end] (the trace's span without a window). */
  span(): [number, number] {
    if (Number.isNaN(this.firstNs)) return [0, 0];
    return [Math.max(this.windowStart, this.firstNs), Math.min(this.windowEnd, this.lastNs)];
  }

  /** The digest of the ordered event stream (time, event, CPU, fields). */
  digestHex(): string {
    return this.digest.hex();
  }

  private cpu(n: number): CpuState {
    while (this.cpus.length <= n) this.cpus.push(newCpu());
    return this.cpus[n] as CpuState;
  }

  /** Counts one event record; returns a problem with its fields (the caller names the line), or null. */
  add(r: FtraceRecord): FieldProblem {
    if (Number.isNaN(this.firstNs)) {
      this.firstNs = r.timeNs;
      if (this.window) {
        this.windowStart = r.timeNs + Math.round(this.window[0] * 1e9);
        this.windowEnd = r.timeNs + Math.round(this.window[1] * 1e9);
      }
    }
    this.lastNs = Math.max(Number.isNaN(this.lastNs) ? r.timeNs : this.lastNs, r.timeNs);
    this.records++;
    let idx = this.eventIndex.get(r.event);
    if (idx === undefined) {
      idx = this.eventIndex.size;
      this.eventIndex.set(r.event, idx);
    }
    this.events.set(r.event, (this.events.get(r.event) ?? 0) + 1);
    this.digest.event(r.timeNs, idx, r.cpu, hash32(r.fields));
    const t = r.timeNs;
    const inWin = t >= this.windowStart && t <= this.windowEnd;
    const s = this.cpu(r.cpu);
    if (isUser(r.task, r.pid)) s.has_user = true;
    else if (r.pid !== 0) this.kthreads.set(r.pid, r.task);
    const ev = r.event;
    if (s.timerOpen && ev !== "hrtimer_expire_entry" && ev !== "hrtimer_expire_exit" && ev !== "hrtimer_start" && ev !== "hrtimer_cancel" && ev !== "function" && ev !== "softirq_raise") {
      this.closeTimer(s);
    }
    if (ev.endsWith("_exit")) this.exitsSeen = true;
    switch (ev) {
      case "local_timer_entry":
        s.timerOpen = true;
        s.timerInWindow = inWin;
        s.timerTick = false;
        s.timerOther = false;
        s.awaitingReason = inWin;
        this.irqEnter(s, r);
        return null;
      case "hrtimer_expire_entry": {
        if (!s.timerOpen) return null;
        const fn = /function=([\w.$]+)/.exec(r.fields);
        if (!fn) return `hrtimer_expire_entry without function= (valid: "hrtimer=%p function=%ps now=%llu", include/trace/events/timer.h)`;
        if (TICK_HRTIMER_FUNCTIONS.has(fn[1]!)) s.timerTick = true;
        else s.timerOther = true;
        return null;
      }
      case "call_function_entry":
      case "call_function_single_entry":
        this.closeIpi(s);
        s.ipiOpen = true;
        s.ipiInWindow = inWin;
        s.ipiTlb = s.ipiKick = s.ipiFunctions = false;
        this.irqEnter(s, r);
        return null;
      case "call_function_exit":
      case "call_function_single_exit":
        this.closeIpi(s);
        this.irqExit(s, t);
        return null;
      case "function": {
        if (inWin) this.functions.set(r.fields, (this.functions.get(r.fields) ?? 0) + 1);
        if (s.ipiOpen) {
          s.ipiFunctions = true;
          if (TLB_FLUSH_FUNCTIONS.has(r.fields)) s.ipiTlb = true;
          else if (KICK_FUNCTIONS.has(r.fields)) s.ipiKick = true;
        }
        return null;
      }
      case "reschedule_entry":
        if (inWin) s.reschedule++;
        this.irqEnter(s, r);
        return null;
      case "irq_work_entry":
        if (inWin) s.irq_work++;
        this.irqEnter(s, r);
        return null;
      case "spurious_apic_entry":
        if (inWin) s.spurious_apic++;
        this.irqEnter(s, r);
        return null;
      case "irq_handler_entry":
        if (inWin) s.device_irq++;
        this.irqEnter(s, r);
        return null;
      case "softirq_entry": {
        const vec = /vec=(\d+)/.exec(r.fields);
        if (!vec) return `softirq_entry without vec= (valid: "vec=%u [action=%s]", include/trace/events/irq.h)`;
        if (inWin && vec[1] === "9") s.softirq_rcu++;
        this.irqEnter(s, r);
        return null;
      }
      case "softirq_exit":
      case "irq_handler_exit":
        this.irqExit(s, t);
        return null;
      case "workqueue_execute_start": {
        const fn = /function[ =]([\w.$]+)/.exec(r.fields);
        if (!fn) return `workqueue_execute_start without a function (valid: "work struct %p: function %ps", include/trace/events/workqueue.h)`;
        if (inWin) {
          if (fn[1] === "lru_add_drain_per_cpu") s.work_lru++;
          else if (fn[1] === "vmstat_update") s.work_vmstat++;
          else s.work_other++;
        }
        return null;
      }
      case "sched_switch":
        return this.schedSwitch(s, r, inWin);
      case "tick_stop": {
        const m = /success=(\d+)\s+dependency=(\w+)/.exec(r.fields);
        if (!m) return `tick_stop fields not "success=%d dependency=%s" (include/trace/events/timer.h)`;
        if (m[1] === "1") {
          if (inWin) s.tick_stops++;
        } else if (s.awaitingReason) {
          const dep = tickDepIndex(m[2]!);
          if (dep < 0) return `tick_stop dependency=${m[2]} is not a tick dependency (valid: ${TICK_DEP_NAMES.join(", ")} or its TICK_DEP_MASK_* value)`;
          s.kept_by[dep]!++;
        }
        s.awaitingReason = false;
        return null;
      }
      case "irq_noise":
      case "softirq_noise":
      case "nmi_noise":
      case "thread_noise": {
        const m = /start (\d+)\.(\d+) duration (\d+) ns/.exec(r.fields);
        if (!m) return `${ev} fields lack "start %llu.%09u duration %llu ns" (include/trace/events/osnoise.h)`;
        const start = Number(m[1]) * 1e9 + Number(m[2]!.padEnd(9, "0").slice(0, 9));
        if (start >= this.windowStart && start <= this.windowEnd) {
          const d = Number(m[3]);
          s.osnoise_events++;
          s.osnoise_noise_ns += d;
          if (d > s.osnoise_max_single_ns) s.osnoise_max_single_ns = d;
        }
        return null;
      }
      default:
        if (ev.endsWith("_entry") && r.fields.startsWith("vector=")) this.irqEnter(s, r);
        else if (ev.endsWith("_exit") && r.fields.startsWith("vector=")) {
          if (ev === "local_timer_exit") this.closeTimer(s);
          this.irqExit(s, t);
        }
        return null;
    }
  }

  private schedSwitch(s: CpuState, r: FtraceRecord, inWin: boolean): FieldProblem {
    const m = SCHED_SWITCH.exec(r.fields) ?? SCHED_SWITCH_TRACE_CMD.exec(r.fields);
    if (!m) return `sched_switch fields not "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d" (include/trace/events/sched.h)`;
    const prevComm = m[1]!, prevPid = Number(m[2]), prevState = m[4]!, nextComm = m[5]!, nextPid = Number(m[6]);
    for (const [comm, pid] of [[prevComm, prevPid], [nextComm, nextPid]] as const) if (pid !== 0 && isKthreadComm(comm)) this.kthreads.set(pid, comm);
    const nextUser = isUser(nextComm, nextPid);
    if (nextUser) s.has_user = true;
    if (inWin && nextPid !== 0 && !nextUser && !isKworkerComm(nextComm)) {
      if (isRcuCallbackComm(nextComm)) s.rcu_kthread++;
      else s.kthread++;
    }
    if (nextUser) s.preempted = false;
    else if (isUser(prevComm, prevPid)) s.preempted = prevState.startsWith("R") && nextPid !== 0;
    this.updateNoise(s, r.timeNs);
    return null;
  }

  private irqEnter(s: CpuState, r: FtraceRecord): void {
    if (s.irqDepth === 0) s.userUnder = isUser(r.task, r.pid) || s.preempted;
    s.irqDepth++;
    this.updateNoise(s, r.timeNs);
  }

  private irqExit(s: CpuState, t: number): void {
    if (s.irqDepth > 0) s.irqDepth--;
    this.updateNoise(s, t);
  }

  private updateNoise(s: CpuState, t: number): void {
    const noisy = (s.irqDepth > 0 && s.userUnder) || s.preempted;
    if (noisy && s.noiseStart < 0) s.noiseStart = t;
    else if (!noisy && s.noiseStart >= 0) {
      this.addNoise(s, s.noiseStart, t);
      s.noiseStart = -1;
    }
  }

  private addNoise(s: CpuState, from: number, to: number): void {
    const a = Math.max(from, this.windowStart);
    const b = Math.min(to, this.windowEnd);
    if (b <= a) return;
    s.pair_noise_ns += b - a;
    if (b - a > s.pair_max_single_ns) s.pair_max_single_ns = b - a;
  }

  private closeTimer(s: CpuState): void {
    if (!s.timerOpen) return;
    s.timerOpen = false;
    if (!s.timerInWindow) return;
    s.local_timer++;
    if (s.timerTick) s.timer_tick++;
    else if (s.timerOther) s.timer_other++;
    else s.timer_none++;
  }

  private closeIpi(s: CpuState): void {
    if (!s.ipiOpen) return;
    s.ipiOpen = false;
    if (!s.ipiInWindow) return;
    s.call_function++;
    if (s.ipiTlb) s.cf_tlb++;
    if (s.ipiKick) s.cf_kick++;
    if (!s.ipiTlb && !s.ipiKick) {
      if (s.ipiFunctions) s.cf_other++;
      else s.cf_bare++;
    }
  }

  /** Closes what is still open at the end of the trace (a timer interrupt, an IPI, a noise interval). */
  finish(): void {
    for (const c of this.cpus) {
      const s = c as CpuState;
      this.closeTimer(s);
      this.closeIpi(s);
      if (s.noiseStart >= 0) {
        this.addNoise(s, s.noiseStart, this.lastNs);
        s.noiseStart = -1;
      }
    }
  }
}
