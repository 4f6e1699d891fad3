/** One CPU row of `rtla osnoise top` (tools/tracing/rtla/src/osnoise_top.c osnoise_top_print(); times in µs). */
export interface OsnoiseTopCpu {
  /** CPU number. */
  cpu: number;
  /** Periods (samples) measured. */
  periods: number;
  /** Runtime, µs. */
  runtime_us: number;
  /** Noise, µs. */
  noise_us: number;
  /** % CPU Aval as printed. */
  available_pct: number;
  /** Max Noise: the most noise in one period, µs. */
  max_noise_us: number;
  /** Max Single: the longest single noise, µs. */
  max_single_us: number;
  /** HW: hardware noise (SMIs, …) count. */
  hw: number;
  /** NMI count. */
  nmi: number;
  /** IRQ count (every interrupt, not split by vector; absent in hwnoise mode). */
  irq: number | null;
  /** Softirq count. */
  softirq: number | null;
  /** Thread count (every thread that preempted the osnoise thread). */
  thread: number | null;
}

/** `rtla osnoise top` text: the last frame's row of each CPU wins (top redraws its table). */
export class OsnoiseTopParser {
  /** Rows by CPU. */
  readonly cpus = new Map<number, OsnoiseTopCpu>();

  /** Parses one line; returns what is wrong with it, or null. */
  line(raw: string): string | null {
    // eslint-disable-next-line no-control-regex
    const text = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    if (text.trim() === "" || /Operating System Noise|Hardware-related Noise/.test(text) || /^\s*duration:/.test(text) || /^\s*CPU Period/.test(text)) return null;
    const m = /^\s*(\d+)\s+#(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+)\s+(\d+)\s+(\d+))?\s*$/.exec(text);
    if (!m) return `not an rtla osnoise top row (valid: "CPU #PERIODS RUNTIME NOISE %AVAIL MAXNOISE MAXSINGLE HW NMI [IRQ SOFTIRQ THREAD]")`;
    const n = (i: number): number => Number(m[i]);
    this.cpus.set(n(1), {
      cpu: n(1), periods: n(2), runtime_us: n(3), noise_us: n(4), available_pct: Number(m[5]), max_noise_us: n(6), max_single_us: n(7),
      hw: n(8), nmi: n(9), irq: m[10] !== undefined ? n(10) : null, softirq: m[11] !== undefined ? n(11) : null, thread: m[12] !== undefined ? n(12) : null,
    });
    return null;
  }
}

/** The summary of one CPU column of `rtla osnoise hist` (osnoise_hist.c osnoise_print_summary()); per-period noise samples. */
export interface OsnoiseHistCpu {
  /** CPU number. */
  cpu: number;
  /** Samples (periods) counted. */
  count: number;
  /** Least noise of one period, in the hist's unit converted to ns. */
  min_ns: number;
  /** Mean noise of one period, ns (printed with two decimals: approximate). */
  avg_ns: number;
  /** Most noise of one period, ns. */
  max_ns: number;
  /** Samples above the last bucket. */
  over: number;
}

/** `rtla osnoise hist` text: the header, bucket rows, then over/count/min/avg/max per CPU column. */
export class OsnoiseHistParser {
  /** Summaries by CPU. */
  readonly cpus = new Map<number, OsnoiseHistCpu>();
  private columns: number[] = [];
  private unitNs = 1000;

  /** Parses one line; returns what is wrong with it, or null. */
  line(text: string): string | null {
    if (text.trim() === "") return null;
    if (/^# Time unit is nanoseconds/.test(text)) this.unitNs = 1;
    if (text.startsWith("#")) return null;
    if (/^Index(\s+CPU-\d+)*\s*$/.test(text)) {
      this.columns = [...text.matchAll(/CPU-(\d+)/g)].map((m) => Number(m[1]));
      return null;
    }
    const row = /^(over|count|min|avg|max):\s*(.*)$/.exec(text);
    if (row) {
      const values = row[2]!.trim().split(/\s+/).filter((v) => v !== "");
      if (values.length === 1 && values[0] === "0" && this.columns.length === 0) return null;
      if (values.length !== this.columns.length || values.some((v) => !/^\d+(\.\d+)?$/.test(v))) {
        return `${row[1]}: want ${this.columns.length} numbers (one per CPU column of the Index header), got ${JSON.stringify(row[2]!.trim().slice(0, 60))}`;
      }
      this.columns.forEach((cpu, i) => {
        const c = this.cpus.get(cpu) ?? { cpu, count: 0, min_ns: 0, avg_ns: 0, max_ns: 0, over: 0 };
        const v = Number(values[i]);
        if (row[1] === "count") c.count = v;
        else if (row[1] === "over") c.over = v;
        else c[`${row[1] as "min" | "avg" | "max"}_ns`] = Math.round(v * this.unitNs);
        this.cpus.set(cpu, c);
      });
      return null;
    }
    if (/^\d+(\s+\d+)*\s*$/.test(text)) return null;
    return `not an rtla osnoise hist line (valid: "# …" header, "Index CPU-000 …", bucket rows, over:/count:/min:/avg:/max: rows)`;
  }
}
