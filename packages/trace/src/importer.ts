import { interruptionKeys, tickKeptByKeys } from "@isolsim/core";
import type { CpuReport, InterruptionKey, Report, TickKeptBy } from "@isolsim/core";
import { TraceLineError, quoteLine } from "./errors.js";
import { FtraceCounter, HOUSEKEEPING_FUNCTIONS, TICK_DEP_NAMES } from "./ftrace.js";
import type { FtraceCpuCounts } from "./ftrace.js";
import { looksLikeFtrace, parseFtraceLine } from "./ftrace-line.js";
import { InterruptsParser, interruptsDelta, looksLikeInterrupts } from "./interrupts.js";
import type { InterruptRow } from "./interrupts.js";
import { OsnoiseHistParser, OsnoiseTopParser } from "./osnoise.js";
import type { OsnoiseHistCpu, OsnoiseTopCpu } from "./osnoise.js";

/** The input formats isolsim reads, detected by content. */
export type TraceFormat = "ftrace" | "trace-cmd" | "proc-interrupts" | "osnoise-top" | "osnoise-hist";

/** A report figure the trace cannot give, or gives only approximately, and why. */
export interface TraceCaveat {
  /** The report key: `interruptions.ipi_tlb_flush` (every CPU), `cpus[3].noise_ns` (one CPU), `tick.kept_by.TIMER`, `housekeeping.noise_ns`, … */
  key: string;
  /** Why, naming what the trace lacks. */
  reason: string;
}

/** One /proc/interrupts cross-check row: a CPU's counts beside the trace's counts of the same vectors. */
export interface InterruptsCheck {
  /** CPU number. */
  cpu: number;
  /** /proc/interrupts counts (after − before, or since boot with one snapshot). */
  proc: Partial<Record<InterruptRow, number>>;
  /** The trace's counts of the same vectors in its window (absent when the trace lacks the event). */
  trace: Partial<Record<InterruptRow, number>>;
}

/** What an imported report adds to the contract's report: where it came from and what it cannot say. */
export interface TraceInfo {
  /** Each input and the format detected in it, in order. */
  inputs: {
    /** The input's name (a file path). */
    file: string;
    /** The format detected by content. */
    format: TraceFormat;
    /** Lines read. */
    lines: number;
  }[];
  /** Events present in the ftrace input (anywhere, not only in the window), with their counts, by name. */
  events: Record<string, number>;
  /** Function tracer lines in the window, by function (the function filter decides which exist). */
  functions: Record<string, number>;
  /** The counted window, ns of the trace clock: [start, end]; null without ftrace input. */
  window_ns: [number, number] | null;
  /** Events the kernel reported lost (ring buffer overruns), summed over CPUs: counts may be low by as many. */
  lost_events: number;
  /** Figures reported as 0 in the report because the inputs lack what they need: show them as unknown. */
  unknown: TraceCaveat[];
  /** Figures that are approximate, and why. */
  approximate: TraceCaveat[];
  /** What an input holds that no report key takes (osnoise's HW/NMI counters, device IRQs, …). */
  not_mapped: string[];
  /** /proc/interrupts beside the trace (null without a /proc/interrupts input). */
  interrupts: {
    /** Whether the counts are after − before (false: one snapshot, since boot). */
    delta: boolean;
    /** One row per CPU column of /proc/interrupts. */
    cpus: InterruptsCheck[];
  } | null;
  /** rtla osnoise top rows as printed (null without one). */
  osnoise_top: OsnoiseTopCpu[] | null;
  /** rtla osnoise hist summaries (null without one). */
  osnoise_hist: OsnoiseHistCpu[] | null;
}

/** The contract's report made from real traces, with {@link TraceInfo} under `trace`. */
export interface ImportedReport extends Report {
  /** Where the figures came from and which are unknown or approximate. */
  trace: TraceInfo;
}

/** Machine facts a trace does not carry (from a scenario file): echoed in the report. */
export interface ImportMachine {
  /** Scenario name (default: the first input's name). */
  name?: string;
  /** Kernel preset or version label (default "real"). */
  preset?: string;
  /** Number of CPUs (default: the trace's header, else the highest CPU seen + 1). */
  cpus?: number;
  /** CONFIG_HZ (default 0: unknown). */
  hz?: number;
  /** nohz_full CPU list as written (default ""). */
  nohzFull?: string;
  /** The isolated CPUs (the nohz_full set, expanded). */
  isolated?: readonly number[];
}

/** Options of {@link TraceImporter}. */
export interface ImportOptions {
  /** Count only events in [from, to] seconds after the trace's first timestamp. */
  window?: readonly [number, number];
}

/** A problem with the inputs as a whole (not one line): the scenario's CPU count against the trace's, no input. */
export class TraceInputError extends Error {
  constructor(
    /** The input or option concerned (`--scenario`, a file name). */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "TraceInputError";
  }
}

type Parser =
  | { format: "ftrace" | "trace-cmd" }
  | { format: "proc-interrupts"; p: InterruptsParser }
  | { format: "osnoise-top"; p: OsnoiseTopParser }
  | { format: "osnoise-hist"; p: OsnoiseHistParser };

/** Lines read before giving up on detecting a format. */
const DETECT_LINES = 200;

/**
 * Reads real traces line by line and makes the contract's report from them. Feed each input with
 * {@link beginInput}, {@link line} for each line, {@link endInput}; then {@link finish}. Memory is
 * bounded by CPUs, event names and kernel threads, not by the inputs' lengths.
 */
export class TraceImporter {
  private readonly ftrace: FtraceCounter;
  private readonly interrupts = new InterruptsParser();
  private readonly top = new OsnoiseTopParser();
  private readonly hist = new OsnoiseHistParser();
  private readonly inputs: TraceInfo["inputs"] = [];
  private file = "";
  private lineNo = 0;
  private parser: Parser | null = null;
  private headerCpus = 0;
  private lost = 0;

  constructor(options: ImportOptions = {}) {
    this.ftrace = new FtraceCounter(options.window ?? null);
  }

  /** Starts an input named `file` (its format is detected from its first lines). */
  beginInput(file: string): void {
    this.file = file;
    this.lineNo = 0;
    this.parser = null;
  }

  private fail(reason: string, text: string): never {
    throw new TraceLineError(this.file, this.lineNo, `${reason}: ${quoteLine(text)}`);
  }

  private detect(text: string): Parser | null {
    if (/^# RTLA osnoise histogram/.test(text)) return { format: "osnoise-hist", p: this.hist };
    if (/Operating System Noise|Hardware-related Noise|^CPU Period\s+Runtime/.test(text)) return { format: "osnoise-top", p: this.top };
    if (looksLikeInterrupts(text)) return { format: "proc-interrupts", p: this.interrupts };
    if (/^cpus=\d+\s*$|^version = \d+\s*$|^CPU \d+ is empty/.test(text)) return { format: "trace-cmd" };
    if (looksLikeFtrace(text)) return { format: /^# tracer: /.test(text) ? "ftrace" : /\]\s+[.a-zA-Z0-9]{4,6}\s+\d+\.\d+:/.test(text) ? "ftrace" : "trace-cmd" };
    return null;
  }

  /** Feeds one line (without its newline) of the current input. Throws TraceLineError naming the file and line. */
  line(text: string): void {
    this.lineNo++;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (this.parser === null) {
      this.parser = this.detect(text);
      if (this.parser === null) {
        if (text.trim() === "" || (text.startsWith("#") && this.lineNo < DETECT_LINES)) return;
        this.fail("not a trace isolsim reads (valid: ftrace text as /sys/kernel/tracing/trace prints it, trace-cmd report, /proc/interrupts, rtla osnoise top or hist output)", text);
      }
    }
    const p = this.parser;
    if (!("p" in p)) {
      const l = parseFtraceLine(text);
      if (l === null) this.fail("not an ftrace line (valid: \"task-pid [cpu] [flags] seconds.micros: event: fields\", a # comment or a trace-cmd header)", text);
      if (l.kind === "event") {
        const problem = this.ftrace.add(l.record);
        if (problem !== null) this.fail(problem, text);
      } else if (l.kind === "cpus") this.headerCpus = Math.max(this.headerCpus, l.cpus);
      else if (l.kind === "lost") this.lost += l.count;
      return;
    }
    const problem = p.p.line(text);
    if (problem !== null) this.fail(problem, text);
  }

  /** Ends the current input. An input with no line isolsim recognised is an error. */
  endInput(): void {
    if (this.parser === null) throw new TraceLineError(this.file, this.lineNo, "no trace content found (valid: ftrace text, trace-cmd report, /proc/interrupts, rtla osnoise top or hist output)");
    this.inputs.push({ file: this.file, format: this.parser.format, lines: this.lineNo });
  }

  /** Feeds a whole text as one input (for tests and the browser). */
  input(file: string, text: string): void {
    this.beginInput(file);
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const l of lines) this.line(l);
    this.endInput();
  }

  /** Makes the report from everything fed. */
  finish(machine: ImportMachine = {}): ImportedReport {
    if (this.inputs.length === 0) throw new TraceInputError("TRACE", "no input (valid: one or more trace files)");
    const ft = this.ftrace;
    ft.finish();
    const formats = new Set(this.inputs.map((i) => i.format));
    const hasFtrace = formats.has("ftrace") || formats.has("trace-cmd");
    const snapshots = this.interrupts.snapshots;
    const irqs = interruptsDelta(snapshots);
    const topRows = [...this.top.cpus.values()].sort((a, b) => a.cpu - b.cpu);
    const histRows = [...this.hist.cpus.values()].sort((a, b) => a.cpu - b.cpu);
    const seenCpus = Math.max(
      ft.cpus.length,
      this.headerCpus,
      irqs ? Math.max(0, ...irqs.cpus.keys()) + 1 : 0,
      topRows.length ? topRows[topRows.length - 1]!.cpu + 1 : 0,
      histRows.length ? histRows[histRows.length - 1]!.cpu + 1 : 0,
    );
    const highest = Math.max(ft.cpus.length, topRows.length ? topRows[topRows.length - 1]!.cpu + 1 : 0, histRows.length ? histRows[histRows.length - 1]!.cpu + 1 : 0);
    if (machine.cpus !== undefined && machine.cpus < highest) {
      throw new TraceInputError("--scenario", `kernel.cpus ${machine.cpus} is fewer than the trace's CPUs (CPU ${highest - 1} appears; valid: at least ${highest})`);
    }
    const nCpus = machine.cpus ?? Math.max(1, seenCpus);
    const isolated = new Set(machine.isolated ?? []);
    const events = ft.events;
    const has = (e: string): boolean => events.has(e);
    const unknown: TraceCaveat[] = [];
    const approximate: TraceCaveat[] = [];
    const notMapped: string[] = [];
    const unknownKey = (key: string, reason: string): void => {
      unknown.push({ key, reason });
    };

    // Which interruption keys the trace can give (an event that never fired cannot be told from one not enabled).
    const known = new Set<InterruptionKey>();
    if (hasFtrace) {
      if (has("local_timer_entry")) {
        known.add("tick");
        if (has("hrtimer_expire_entry")) known.add("spurious_timer").add("hrtimer");
      }
      const cf = has("call_function_entry") || has("call_function_single_entry");
      const fn = has("function");
      if (cf && fn) known.add("ipi_tlb_flush").add("ipi_call_function");
      if (has("irq_work_entry") && (!cf || fn)) known.add("ipi_irq_work");
      if (has("reschedule_entry")) known.add("ipi_resched");
      if (has("workqueue_execute_start")) known.add("kworker_lru_drain").add("kworker_vmstat").add("kworker_other");
      if (has("sched_switch")) known.add("kthread");
      if (has("softirq_entry") && has("sched_switch")) known.add("rcu");
      const why: Partial<Record<InterruptionKey, string>> = {
        tick: "no irq_vectors:local_timer_entry event in the trace",
        spurious_timer: "no timer:hrtimer_expire_entry event: a timer interrupt that expired nothing cannot be told from a tick",
        hrtimer: "no timer:hrtimer_expire_entry event: a timer interrupt for another hrtimer cannot be told from a tick",
        ipi_tlb_flush: cf
          ? "call_function IPIs are in the trace but no function tracer lines: which callback ran (flush_tlb_func, do_kernel_range_flush, …) is unknown"
          : "no irq_vectors:call_function_entry or call_function_single_entry event in the trace",
        ipi_call_function: cf
          ? "call_function IPIs are in the trace but no function tracer lines: TLB flushes and tick kicks cannot be told apart from other callbacks"
          : "no irq_vectors:call_function_entry or call_function_single_entry event in the trace",
        ipi_irq_work: has("irq_work_entry")
          ? "call_function IPIs are in the trace but no function tracer lines: nohz_full_kick_func() kicks cannot be counted"
          : "no irq_vectors:irq_work_entry event in the trace",
        ipi_resched: "no irq_vectors:reschedule_entry event in the trace",
        kworker_lru_drain: "no workqueue:workqueue_execute_start event in the trace",
        kworker_vmstat: "no workqueue:workqueue_execute_start event in the trace",
        kworker_other: "no workqueue:workqueue_execute_start event in the trace",
        kthread: "no sched:sched_switch event in the trace",
        rcu: "needs irq:softirq_entry (RCU softirq) and sched:sched_switch (rcuc/rcuo runs)",
      };
      for (const k of interruptionKeys) if (!known.has(k)) unknownKey(`interruptions.${k}`, why[k] ?? "not in the trace");
      if (has("local_timer_entry") && !known.has("spurious_timer")) {
        approximate.push({ key: "interruptions.tick", reason: "every local_timer_entry counts as a tick (no timer:hrtimer_expire_entry to tell ticks from other hrtimers and spurious timer interrupts)" });
      }
      if (known.has("kthread")) {
        approximate.push({ key: "interruptions.kthread", reason: "a kernel thread is told by its comm (kworker/, ksoftirqd/, migration/, …): ftrace does not print PF_KTHREAD" });
      }
      if (ft.events.has("irq_handler_entry")) notMapped.push("irq:irq_handler_entry (device interrupts): no report key");
      if (ft.events.has("spurious_apic_entry")) notMapped.push("irq_vectors:spurious_apic_entry (the spurious APIC vector): no report key (spurious_timer is a timer interrupt that expired nothing)");
    } else {
      for (const k of interruptionKeys) {
        if (irqs && (k === "tick" || k === "ipi_resched")) continue;
        unknownKey(`interruptions.${k}`, "no ftrace input: only a trace's events give per-source counts");
      }
      if (irqs) approximate.push({ key: "interruptions.tick", reason: "from /proc/interrupts LOC: every local timer interrupt, hrtimers and spurious ones included" });
    }
    if (!hasFtrace || !has("tick_stop")) {
      unknownKey("tick.kept_by", hasFtrace ? "no timer:tick_stop event in the trace" : "no ftrace input");
      unknownKey("tick.stops", hasFtrace ? "no timer:tick_stop event in the trace" : "no ftrace input");
    } else {
      unknownKey("tick.kept_by.TIMER", "the kernel traces no tick_stop when a timer is due within a tick");
      unknownKey("tick.kept_by.MAX_DEFERMENT", "4.9's residual 1 Hz tick has no tick_stop reason");
      unknownKey("tick.kept_by.TIMEKEEPING", "the tick_do_timer_cpu's duty has no tick_stop reason");
    }
    unknownKey("tick.restarts", "the kernel has no tracepoint for tick_nohz_restart_sched_tick()");
    unknownKey("tick.stopped_pct", "the kernel has no tracepoint for tick_nohz_restart_sched_tick()");
    unknownKey("housekeeping.noise_ns", "a trace does not say on whose behalf a housekeeping CPU worked");
    for (const [key, fn] of Object.entries(HOUSEKEEPING_FUNCTIONS)) {
      if (!ft.functions.has(fn)) unknownKey(`housekeeping.${key}`, `no function tracer line of ${fn}() in the window (add it to set_ftrace_filter)`);
    }
    if (hasFtrace && (has("sched_switch") || ft.kthreads.size > 0)) {
      approximate.push({ key: "kthreads", reason: "only the kernel threads that appear in the trace (ran or were interrupted), not every one that exists" });
    } else unknownKey("kthreads", "no ftrace input names kernel threads");
    if (this.lost > 0) approximate.push({ key: "interruptions", reason: `the trace lost ${this.lost} events (ring buffer overrun): counts may be low` });

    // Noise: osnoise events (net) > rtla osnoise top > entry/exit pairs (approximate) > osnoise hist (approximate).
    const topBy = new Map(topRows.map((r) => [r.cpu, r]));
    const histBy = new Map(histRows.map((r) => [r.cpu, r]));
    const osnoiseEvents = ["irq_noise", "softirq_noise", "nmi_noise", "thread_noise"].some(has);
    const [ws, we] = ft.span();
    let measured = hasFtrace ? we - ws : 0;
    if (!hasFtrace && topRows.length) measured = Math.max(...topRows.map((r) => r.runtime_us)) * 1000;
    const zeroCpu = (c: number): CpuReport => ({
      cpu: c,
      isolated: isolated.has(c),
      noise_ns: 0,
      max_single_noise_ns: 0,
      available_pct: 100,
      interruptions: Object.fromEntries(interruptionKeys.map((k) => [k, 0])) as Record<InterruptionKey, number>,
      tick: { stopped_pct: 0, stops: 0, restarts: 0, kept_by: Object.fromEntries(tickKeptByKeys.map((k) => [k, 0])) as Record<TickKeptBy, number> },
    });
    const noiseSource = osnoiseEvents ? "osnoise-events" : topRows.length ? "osnoise-top" : hasFtrace && ft.exitsSeen ? "pairs" : histRows.length ? "osnoise-hist" : "none";
    if (noiseSource === "pairs") {
      approximate.push({ key: "noise_ns", reason: "from *_entry/*_exit pairs and preemptions of the user task (no osnoise:* events): entry and exit code outside the tracepoints is missed" });
      approximate.push({ key: "max_single_noise_ns", reason: "from *_entry/*_exit pairs: an interrupt and the softirq run at its exit count as two" });
    } else if (noiseSource === "osnoise-hist") {
      approximate.push({ key: "noise_ns", reason: "rtla osnoise hist: count × avg per period (avg printed with two decimals)" });
      unknownKey("max_single_noise_ns", "rtla osnoise hist gives the most noise in one period, not the longest single noise");
      if (!hasFtrace) {
        unknownKey("measured_ns", "rtla osnoise hist does not print the runtime");
        unknownKey("available_pct", "rtla osnoise hist does not print the runtime");
      }
    } else if (noiseSource === "none") {
      if (!hasFtrace) unknownKey("measured_ns", "no ftrace or rtla osnoise top input gives the measured time");
      unknownKey("noise_ns", hasFtrace ? "no osnoise:* events and no *_exit events in the trace" : "no ftrace, rtla osnoise top or hist input");
      unknownKey("max_single_noise_ns", "as noise_ns");
      unknownKey("available_pct", "as noise_ns");
    }
    if (topRows.length) {
      notMapped.push("rtla osnoise top HW and NMI counts: no report key (hardware noise and NMIs are not modelled)");
      notMapped.push("rtla osnoise top IRQ, Softirq and Thread counts: every IRQ, softirq and thread, not split by source; kept under trace.osnoise_top");
      notMapped.push("rtla osnoise top Max Noise (most noise in one period): no report key");
    }
    if (histRows.length) notMapped.push("rtla osnoise hist buckets: the distribution of per-period noise; only count × avg is used");
    const cpus: CpuReport[] = [];
    for (let c = 0; c < nCpus; c++) {
      const r = zeroCpu(c);
      const f = ft.cpus[c];
      if (f) this.fillFromFtrace(r, f, known);
      else if (!hasFtrace && irqs) {
        const p = irqs.cpus.get(c);
        r.interruptions.tick = p?.LOC ?? 0;
        r.interruptions.ipi_resched = p?.RES ?? 0;
      }
      let noise = 0;
      let max = 0;
      let user = f?.has_user ?? false;
      let avail: number | null = null;
      if (noiseSource === "osnoise-events") {
        noise = f?.osnoise_noise_ns ?? 0;
        max = f?.osnoise_max_single_ns ?? 0;
        user = (f?.osnoise_events ?? 0) > 0 || user;
      } else if (noiseSource === "osnoise-top") {
        const t = topBy.get(c);
        if (t) {
          noise = t.noise_us * 1000;
          max = t.max_single_us * 1000;
          avail = t.available_pct;
          user = true;
        } else user = false;
      } else if (noiseSource === "pairs") {
        noise = f?.pair_noise_ns ?? 0;
        max = f?.pair_max_single_ns ?? 0;
      } else if (noiseSource === "osnoise-hist") {
        const h = histBy.get(c);
        if (h) {
          noise = Math.round(h.count * h.avg_ns);
          user = true;
        } else user = false;
      }
      if (user) {
        r.noise_ns = noise;
        r.max_single_noise_ns = max;
        r.available_pct = avail ?? (measured > 0 ? Math.round((100 * (measured - noise) / measured) * 1e5) / 1e5 : 100);
      }
      cpus.push(r);
    }
    const hk = { remote_ticks: 0, lru_drains: 0, tlb_flushes: 0, noise_ns: 0 };
    for (const [key, fn] of Object.entries(HOUSEKEEPING_FUNCTIONS)) hk[key as keyof typeof HOUSEKEEPING_FUNCTIONS] = ft.functions.get(fn) ?? 0;
    const kt = { rcu_callback: 0, rcu_gp: 0, kworker: 0, other: 0, total: 0 };
    for (const comm of ft.kthreads.values()) {
      kt.total++;
      if (comm.startsWith("rcuog/")) kt.rcu_gp++;
      else if (/^rcuo[ps]\//.test(comm)) kt.rcu_callback++;
      else if (comm.startsWith("kworker/")) kt.kworker++;
      else kt.other++;
    }
    let check: TraceInfo["interrupts"] = null;
    if (irqs) {
      check = {
        delta: irqs.delta,
        cpus: [...irqs.cpus.entries()].sort((a, b) => a[0] - b[0]).map(([cpu, proc]) => ({ cpu, proc, trace: this.traceVectors(ft.cpus[cpu], known, hasFtrace) })),
      };
      if (!irqs.delta) notMapped.push("/proc/interrupts: one snapshot only: counts since boot, not over the trace");
    }
    const name = machine.name ?? this.inputs[0]!.file.replace(/^.*\//, "");
    return {
      scenario: name,
      seed: 0,
      kernel: { preset: machine.preset ?? "real", cpus: nCpus, hz: machine.hz ?? 0, nohz_full: machine.nohzFull ?? "", mechanisms: [] },
      simulated_ns: hasFtrace && !Number.isNaN(ft.firstNs) ? ft.lastNs - ft.firstNs : measured,
      measured_ns: measured,
      events: ft.records,
      cpus,
      housekeeping: hk,
      kthreads: kt,
      mechanism_stats: {},
      invariants: { checked: [], violations: [] },
      digest: ft.digestHex(),
      trace: {
        inputs: this.inputs,
        events: Object.fromEntries(events),
        functions: Object.fromEntries([...ft.functions.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
        window_ns: hasFtrace ? [ws, we] : null,
        lost_events: this.lost,
        unknown,
        approximate,
        not_mapped: notMapped,
        interrupts: check,
        osnoise_top: topRows.length ? topRows : null,
        osnoise_hist: histRows.length ? histRows : null,
      },
    };
  }

  private fillFromFtrace(r: CpuReport, f: FtraceCpuCounts, known: ReadonlySet<InterruptionKey>): void {
    const i = r.interruptions;
    const set = (k: InterruptionKey, n: number): void => {
      if (known.has(k)) i[k] = n;
    };
    set("tick", known.has("spurious_timer") ? f.timer_tick : f.local_timer);
    set("spurious_timer", f.timer_none);
    set("hrtimer", f.timer_other);
    set("ipi_tlb_flush", f.cf_tlb);
    set("ipi_call_function", f.cf_other + f.cf_bare);
    set("ipi_irq_work", f.irq_work + f.cf_kick);
    set("ipi_resched", f.reschedule);
    set("kworker_lru_drain", f.work_lru);
    set("kworker_vmstat", f.work_vmstat);
    set("kworker_other", f.work_other);
    set("kthread", f.kthread);
    set("rcu", f.softirq_rcu + f.rcu_kthread);
    r.tick.stops = f.tick_stops;
    TICK_DEP_NAMES.forEach((name, bit) => {
      r.tick.kept_by[name] = f.kept_by[bit]!;
    });
  }

  /** The trace's counts of the vectors /proc/interrupts counts (LOC, RES, CAL, TLB, IWI, SPU). */
  private traceVectors(f: FtraceCpuCounts | undefined, known: ReadonlySet<InterruptionKey>, hasFtrace: boolean): Partial<Record<InterruptRow, number>> {
    const out: Partial<Record<InterruptRow, number>> = {};
    if (!hasFtrace) return out;
    const has = (e: string): boolean => this.ftrace.events.has(e);
    if (has("local_timer_entry")) out.LOC = f?.local_timer ?? 0;
    if (has("reschedule_entry")) out.RES = f?.reschedule ?? 0;
    if (has("call_function_entry") || has("call_function_single_entry")) out.CAL = f?.call_function ?? 0;
    if (known.has("ipi_tlb_flush")) out.TLB = f?.cf_tlb ?? 0;
    if (has("irq_work_entry")) out.IWI = f?.irq_work ?? 0;
    if (has("spurious_apic_entry")) out.SPU = f?.spurious_apic ?? 0;
    return out;
  }
}
