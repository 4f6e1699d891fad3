import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The tracepoints the guest enables, each as `group/event` under /sys/kernel/tracing/events: the
 * entries the import maps to report keys (hrtimer_expire_entry tells a tick from another hrtimer
 * and from a spurious timer interrupt), and the exits for its approximate noise (entry/exit
 * pairs). A kernel without one of them says so in the `setup` section, not silently.
 */
export const TRACE_EVENTS: readonly string[] = [
  ...["local_timer", "call_function", "call_function_single", "reschedule", "irq_work", "spurious_apic"].flatMap((v) => [`irq_vectors/${v}_entry`, `irq_vectors/${v}_exit`]),
  "workqueue/workqueue_execute_start",
  "workqueue/workqueue_execute_end",
  "timer/tick_stop",
  "timer/hrtimer_expire_entry",
  "sched/sched_switch",
  "irq/softirq_entry",
  "irq/softirq_exit",
];

/**
 * The functions the function tracer is filtered to: the IPI callbacks the import needs to split
 * call-function IPIs by what ran (arch/x86/mm/tlb.c flush_tlb_func() — flush_tlb_func_remote()
 * before v5.9 — do_flush_tlb_all(), do_kernel_range_flush(); kernel/time/tick-sched.c
 * nohz_full_kick_func(); kernel/rcu/tree_exp.h rcu_exp_handler()). Each name is written on its
 * own: set_ftrace_filter stops at the first name a kernel rejects.
 */
export const FTRACE_FILTER: readonly string[] = ["flush_tlb_func", "flush_tlb_func_remote", "do_flush_tlb_all", "do_kernel_range_flush", "nohz_full_kick_func", "rcu_exp_handler"];

/** The sections the guest writes on its second serial port, in order (`===== isolsim: begin NAME =====` … `end NAME`). */
export const SECTIONS = ["setup", "uname", "cmdline", "interrupts.before", "interrupts.after", "ps", "trace"] as const;

/** The line that ends the guest's output once every section is written. */
export const DONE_LINE = "===== isolsim: done =====";

/** Per-CPU ring buffer size the guest sets (KiB): a few seconds of a busy housekeeping CPU. */
export const BUFFER_SIZE_KB = 8192;

/**
 * The guest's /init (busybox sh): mounts proc, sysfs, devtmpfs, tracefs and a tmpfs; enables the
 * {@link TRACE_EVENTS} and the {@link FTRACE_FILTER}ed function tracer before the workload starts
 * (enabling a tracepoint patches kernel text with IPIs to every CPU: they must land in the
 * warmup); runs /workload with `args` (it marks the measured window in trace_marker and snapshots
 * /proc/interrupts at both ends); then writes the {@link SECTIONS} to /dev/ttyS1 and powers off.
 */
export function initScript(args: readonly string[]): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/busybox sh
# isolsim real: the guest's init (apps/demo/src/real/initramfs.ts initScript())
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/tracing
[ -e $T/trace ] || T=/sys/kernel/debug/tracing
mount -t tmpfs tmpfs /tmp
# compaction (the lru-drain-all substitute) must not migrate the workload's mlock()ed pages
echo 0 > /proc/sys/vm/compact_unevictable_allowed 2>/dev/null
O=/dev/ttyS1
stty -F $O raw -echo
S=/tmp/setup
echo "tracefs $T" > $S
echo 0 > $T/tracing_on
echo ${BUFFER_SIZE_KB} > $T/buffer_size_kb || echo "buffer_size_kb rejected" >> $S
for e in ${TRACE_EVENTS.join(" ")}; do
  if echo 1 > $T/events/$e/enable 2>/dev/null; then echo "event $e" >> $S; else echo "missing-event $e" >> $S; fi
done
n=0
for f in ${FTRACE_FILTER.join(" ")}; do
  if echo $f >> $T/set_ftrace_filter 2>/dev/null; then echo "function $f" >> $S; n=$((n+1)); else echo "rejected-function $f" >> $S; fi
done
if [ $n -gt 0 ]; then echo function > $T/current_tracer && echo "tracer function" >> $S; else echo "tracer nop (no function of the filter exists)" >> $S; fi
echo 1 > $T/tracing_on
echo "isolsim: workload start"
/workload ${args.map(q).join(" ")}
echo "workload-exit $?" >> $S
echo 0 > $T/tracing_on
echo "isolsim: workload done, writing the trace"
sec() { echo "===== isolsim: begin $1 ====="; cat "$2"; echo "===== isolsim: end $1 ====="; }
{
  sec setup $S
  echo "===== isolsim: begin uname ====="; uname -r; echo "===== isolsim: end uname ====="
  sec cmdline /proc/cmdline
  sec interrupts.before /tmp/interrupts.before
  sec interrupts.after /tmp/interrupts.after
  echo "===== isolsim: begin ps ====="; ps -o pid,ppid,comm; echo "===== isolsim: end ps ====="
  sec trace $T/trace
  echo "${DONE_LINE}"
} > $O
poweroff -f
`;
}

/** The files of the initramfs, path → content or the host file to copy, and mode. */
export interface InitramfsLayout {
  /** Directories to create. */
  dirs: string[];
  /** Files: path in the image, and where its bytes come from. */
  files: { path: string; from: { text: string } | { host: string }; mode: number }[];
}

/** What goes into the initramfs: busybox as /bin/busybox, the workload program, /init. */
export function initramfsLayout(busybox: string, workload: string, args: readonly string[]): InitramfsLayout {
  return {
    dirs: ["bin", "dev", "proc", "sys", "tmp"],
    files: [
      { path: "bin/busybox", from: { host: busybox }, mode: 0o755 },
      { path: "workload", from: { host: workload }, mode: 0o755 },
      { path: "init", from: { text: initScript(args) }, mode: 0o755 },
    ],
  };
}

/** A hash of strings and files' contents: the key of a cached build. */
export function inputsHash(parts: readonly (string | { file: string })[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(typeof p === "string" ? `s${p.length}:` : "f:");
    h.update(typeof p === "string" ? p : readFileSync(p.file));
  }
  return h.digest("hex").slice(0, 16);
}

/** A host tool the runner needs, with the Debian package that has it. */
export class MissingTool extends Error {
  constructor(
    /** The program name. */
    readonly tool: string,
    /** The Debian package that installs it. */
    readonly pkg: string,
  ) {
    super(`${tool} is not installed (install it with: apt-get install -y --no-install-recommends ${pkg})`);
    this.name = "MissingTool";
  }
}

/** The path of a program on PATH, or null. */
export function which(tool: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p !== "" ? p : null;
}

/** The static busybox to put in the image (Debian's busybox-static installs /bin/busybox statically linked). */
export function findBusybox(): string {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"]) {
    if (!existsSync(p)) continue;
    const r = spawnSync("file", ["-L", p], { encoding: "utf8" });
    if (r.status !== 0 || /statically linked|static-pie/.test(r.stdout)) return p;
  }
  throw new MissingTool("a static busybox", "busybox-static");
}

/** Compiles workload.c with `gcc -static -O2` into `dir`, once per content of the source (cached by hash). */
export function buildWorkload(source: string, dir: string): string {
  if (which("gcc") === null) throw new MissingTool("gcc", "gcc libc6-dev");
  const out = join(dir, `workload-${inputsHash([{ file: source }])}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  const r = spawnSync("gcc", ["-static", "-O2", "-Wall", "-o", tmp, source], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    if (/cannot find -lc|stdio.h: No such file/.test(r.stderr)) throw new MissingTool("libc6-dev (static libc)", "libc6-dev");
    throw new Error(`gcc failed on ${source}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
  renameSync(tmp, out);
  return out;
}

/**
 * Builds the initramfs of {@link initramfsLayout} as `cpio -o -H newc | gzip` into `dir`, named by
 * a hash of its inputs (busybox, the workload binary, /init): an existing one is reused.
 */
export function buildInitramfs(layout: InitramfsLayout, dir: string): string {
  if (which("cpio") === null) throw new MissingTool("cpio", "cpio");
  const key = inputsHash(layout.files.flatMap((f) => [f.path, "text" in f.from ? f.from.text : { file: f.from.host }]));
  const out = join(dir, `initramfs-${key}.cpio.gz`);
  if (existsSync(out)) return out;
  const root = join(dir, `root-${key}.${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  for (const d of layout.dirs) mkdirSync(join(root, d), { recursive: true });
  for (const f of layout.files) {
    const p = join(root, f.path);
    if ("text" in f.from) writeFileSync(p, f.from.text, { mode: f.mode });
    else copyFileSync(f.from.host, p);
    execFileSync("chmod", [f.mode.toString(8), p]);
  }
  const tmp = `${out}.tmp${process.pid}`;
  execFileSync("sh", ["-c", `cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n > "$2"`, "sh", root, tmp]);
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, out);
  return out;
}
