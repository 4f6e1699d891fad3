/** Help text of each command, and the overview. */
export const HELP: Readonly<Record<string, string>> = {
  overview: `isolsim: simulate the kernel noise on isolated (nohz_full) CPUs, and the mechanisms that remove it

usage: isolsim <command> [options]

commands:
  run FILE          run one scenario; a readable table (like rtla osnoise top), or the report with --json
  compare FILE      run the scenario without added mechanism, with each mechanism alone and with all; side by side
  mechanisms        list the mechanism packages isolsim knows, with their variants
  presets           list the kernel presets
  validate FILE     check a scenario file without running it
  real FILE         run the scenario on a real Linux kernel booted under qemu; the same report from its trace
  import TRACE…     the same report from traces captured on a real machine (ftrace text, trace-cmd report,
                    /proc/interrupts, rtla osnoise top or hist output)
  torture           random kernels and workloads, every invariant checked; a violation shrunk to a scenario file
  sweep SWEEP       many runs (a matrix of scenario fields): a local thread pool or a BullMQ/Redis queue;
                    results lines, a table per metric, a plot
  worker URL        run sweep cells from the Redis queue at URL (redis://HOST:PORT) until SIGINT/SIGTERM

exit codes: 0 ran, no invariant violated; 1 ran, an invariant was violated (the report is still printed);
            2 bad input (the problems on stderr, each naming the field, the value and what is valid; nothing on stdout);
            3 internal error: a bug of isolsim, never bad input (one line on stderr with the version and the
              command to reproduce; ISOLSIM_DEBUG=1 adds the stack)

isolsim --version prints the version. isolsim <command> --help shows the options of a command.
`,
  import: `usage: isolsim import TRACE… [options]

Reads traces captured on a real machine and prints the same report as isolsim run: one row per
CPU with Runtime, Noise, % CPU Aval, Max Single (us) and a count per interruption source, then
the tick reasons from timer:tick_stop. Inputs are detected by content, one or more files:
  ftrace text       as /sys/kernel/tracing/trace prints it, or as trace-cmd report prints it
  /proc/interrupts  one snapshot, or two (before, after: the counts are their difference), printed
                    beside the trace's counts of the same vectors (LOC RES CAL TLB IWI SPU)
  rtla osnoise      osnoise top (runtime, noise, % available, max single per CPU) or osnoise hist
  a directory       kept by isolsim real --keep DIR: its trace.txt, interrupts.before.txt, interrupts.after.txt
A figure the inputs cannot give is printed as ? (0 in --json, listed under trace.unknown, with
the reason); approximate figures are listed under trace.approximate. Capture a trace with:
  trace-cmd record -e irq_vectors:* -e workqueue:workqueue_execute_start -e timer:tick_stop \
    -e timer:hrtimer_expire_entry -e sched:sched_switch -e irq:softirq_entry -e irq:softirq_exit \
    -p function -l flush_tlb_func -l do_kernel_range_flush -l do_flush_tlb_all -l nohz_full_kick_func \
    -- sleep 20
  trace-cmd report > trace.txt
(docs/getting-started.md has the tracefs-only way.)

options:
  --json             print the report (JSON) with its "trace" object instead of the table
  --scenario FILE    a scenario file giving what a trace cannot: name, kernel.cpus, nohz_full (or
                     kernel.cmdline), hz, preset; echoed in the report
  --window A..B      count only events from A to B seconds after the trace's first event (such as 5..25)
  --all-cpus         list every CPU in the table
  -h, --help         this help

Exit codes: 0 read; 2 bad input (a line no parser accepts: the file and line number are named).
A progress bar appears on stderr for large files when stderr is a terminal (never with --json).
`,
  run: `usage: isolsim run FILE [options]

Runs the scenario FILE (JSON, see the contract) and prints a table modelled on rtla osnoise top:
one row per CPU with Runtime, Noise, % CPU Aval, Max Single (time in us) and a count per
interruption source, then why each isolated CPU's tick did not stop, the housekeeping work,
kernel threads, mechanism figures and invariants.

On a large machine (more than 16 CPUs) CPUs with identical figures share one row; when there
are still more than 16 rows, housekeeping CPUs are shown and the isolated CPUs are aggregated
into min / median / max rows (each column on its own). --all-cpus lists every CPU.

options:
  --json                   print the contract's report (JSON) instead of the table
  --seed N                 replace the scenario's seed (an integer 0-4294967295)
  --duration D             replace the scenario's duration (an integer of ns such as 2000000000, or "10s",
                           "500ms", "20us", "100ns")
  --mechanisms a,b         replace kernel.mechanisms (the preset's stay); name or name:variant;
                           an empty string means none
  --preset P               replace kernel.preset
  --trace OUT              write a trace of the whole run to OUT
  --trace-format F         perfetto (default: Chrome trace-event JSON for ui.perfetto.dev) or ftrace
                           (text like /sys/kernel/tracing/trace)
  --all-cpus               list every CPU in the table
  -h, --help               this help

A progress bar appears on stderr for runs longer than a second when stderr is a terminal (never with --json).
`,
  compare: `usage: isolsim compare FILE [options]

Runs the scenario under these configurations and prints them side by side, over the isolated CPUs:
  baseline    the preset's own mechanisms only (kernel.mechanisms is ignored)
  <name>      each mechanism isolsim knows, alone (with the variant/options the scenario gives it)
  all         every known mechanism together
A configuration whose mechanisms cannot be composed (a conflict, a missing requirement) is skipped
and the reason printed. Tables: interruptions summed over isolated CPUs with noise, max single
noise and available %; the change of each against the baseline; the mean per isolated CPU.

options:
  --json             print a JSON array, one element per configuration that ran, in order:
                     { "config": name, "mechanisms": [entries added to the preset's], "report": <run --json report> }
                     (skipped configurations are reported on stderr)
  --presets a,b      run every configuration under each named preset (names become preset/config;
                     each preset once)
  --seed N           replace the scenario's seed
  --duration D       replace the scenario's duration
  --real             run the scenario on a real kernel under qemu (see isolsim real --help) and put it
                     beside the simulation under the preset matching the kernel (or each of --presets),
                     with the preset's own mechanisms only, per CPU and source with kernel - simulation;
                     with --json: { scenario, presets, kernel, measured_ns, rows: [{ cpu, isolated, source,
                     simulated: {preset: n}, real: n|null, difference: {preset: n|null} }], notes }
  --kernel PATH, --kernel-package NAME, --keep DIR
                     with --real: as for isolsim real
  -h, --help         this help

A configuration that crashes (an internal error of isolsim) is shown as skipped, its error is one line
on stderr with the command that runs it alone, and the exit code is 3.

exit: 3 if any configuration crashed, else 1 if any configuration violated an invariant, 2 on bad
input, else 0.
`,
  mechanisms: `usage: isolsim mechanisms [--json]

Lists the mechanism packages isolsim knows: name, one-line description, variants (default first)
and the presets that have it built in (adding it to such a preset replaces the preset's entry).
--json prints [{ "name", "description", "variants": [], "built_in": [{ "preset", "variant" }] }].
`,
  presets: `usage: isolsim presets [--json]

Lists the kernel presets: name, description, the mechanisms built in and the switches and figures
each sets (parameter names as scenario files write them, with their values; every other parameter
is at its default, the linux-4.9 behaviour).
--json prints [{ "name", "description", "era", "mechanisms": [{ "name", "variant"? }], "params": {} }].
`,
  validate: `usage: isolsim validate FILE

Checks a scenario file without running it: JSON syntax, every field (unknown fields are errors),
CPU lists against the machine, the preset, parameters, mechanisms and their composition, and the
workload (a syscall needs a user-loop task on its CPU). Prints every problem at once (the first 50,
then how many more); exit 2 if any. A word of kernel.cmdline the model does not parse (a typo such as
NOHZ_FULL=1-7 or a bare nohz_full) is accepted, as the kernel accepts it, with one warning line on
stderr each; run and compare print the same warnings.
`,
  real: `usage: isolsim real FILE [--json] [--kernel PATH | --kernel-package NAME] [--keep DIR]

Boots a real Linux kernel under qemu (TCG: -accel tcg,thread=multi -cpu max, -smp kernel.cpus) with
the scenario's boot parameters (kernel.cmdline, or nohz_full= from kernel.nohz_full), runs the
workload in a busybox initramfs with a small static C program, traces it, and writes the same
report as run, made from the kernel's tracepoints by isolsim import. Progress on stderr.

The workload on a real kernel: user-loop is a busy process per task pinned with sched_setaffinity()
(policy, priority); syscall is made by the CPU's first user-loop process; lru-drain-all writes to
/proc/sys/vm/compact_memory (compact_nodes() calls lru_add_drain_all(), then compacts); vmalloc-churn
is fork/exit churn (more children at once than the 2 vmap'd stacks kernel/fork.c caches per CPU, so
stacks are vfree()d); wakeup is a pinned user process, not a kernel thread; bpf loads and attaches a
raw tracepoint program on sys_enter each period. kernel-loop, bpf attach kprobe and lru-drain-all pcp
cannot be reproduced: exit 2 naming the workload item.

Tracing is set up before the warmup (enabling tracepoints patches kernel text and interrupts every
CPU): irq_vectors local_timer, call_function(_single), reschedule, irq_work, spurious_apic entries
and exits, workqueue_execute_start/end, tick_stop, sched_switch, softirq_entry/exit, and the function
tracer filtered to the IPI callbacks (each name written on its own). /proc/interrupts is copied at
both ends of the measured window, and the guest's ps lists its kernel threads.

The report carries a "real" key: { kernel, package, config_hz, preset, emulated: true, notes }.
HZ comes from the kernel's config: a mismatch with the scenario is a note, as are tracepoints or
functions the kernel lacks. Durations under TCG are emulated: noise_ns is an emulated machine's;
counts and tick reasons are the kernel's own.

options:
  --kernel PATH          a bzImage/vmlinuz; CONFIG_HZ is read from config-RELEASE beside it
  --kernel-package NAME  a Debian package (e.g. linux-image-6.12.118+deb12-rt-amd64-unsigned), fetched
                         with apt-get download and its /boot extracted with dpkg-deb
                         (default: the newest linux-image-6.1.0-N-amd64-unsigned apt knows: Debian 12's 6.1)
  --keep DIR             keep the raw trace, the /proc/interrupts snapshots, ps, the boot parameters
                         and the guest's setup log in DIR
  --json                 print the report
  -h, --help             this help

Kernels, the workload binary and initramfs images are cached in $ISOLSIM_CACHE, else
$XDG_CACHE_HOME/isolsim, else ~/.cache/isolsim (each image named by a hash of its inputs).
Needs qemu-system-x86_64, a static busybox, cpio and gcc with a static libc:
  apt-get install -y --no-install-recommends qemu-system-x86 busybox-static cpio gcc libc6-dev

exit: 0 ran; 2 bad input, a missing tool (with the apt-get line), a kernel that cannot be had, or a
guest that did not boot or finish (with its last console lines); 3 internal error.
`,
  torture: `usage: isolsim torture [options]

rcutorture for isolsim: generates random machines (CPU counts biased to small, nohz_full lists in
the kernel's grammar or a kernel command line, HZ, presets, parameters, mechanisms with variants
and options) and workloads (every workload type, random periods, at and jitter, and bursts aimed
at races: a TLB flush as CPUs enter the kernel, a drain while the owner adds pages, a tick stop
as a dependency is set, a BPF image replaced while isolated CPUs run it, callbacks queued as a CPU
goes idle), runs each with every invariant checked, and prints a table: runs, simulated time,
events, and per invariant the runs that checked it, its evaluations and its violations.

On the first violation it shrinks the scenario (shorter duration, fewer CPUs, fewer workload
items and mechanisms, default variants, no jitter, simpler periods) to a minimal one that still
violates the same invariant, saves it in --out, prints the isolsim run command that reproduces it,
and exits 1. The same --seed and options give the same runs, table and saved file.

options:
  --seed N           seed of the whole torture (an integer 0-4294967295; default 1)
  --runs N           scenarios to run (an integer 1-1000000; default 100)
  --duration D       instead of --runs: run until D of simulated time in total ("10s", "500ms", ns)
  --mechanisms a,b   compose exactly these mechanisms (name or name:variant) instead of drawing them;
                     an empty string means none beyond the preset's
  --preset P         use this preset instead of drawing one
  --out DIR          where the minimal failing scenario is saved (default ./torture-failures)
  --known-hazards    also generate the configurations whose violation is known and documented
                     (by default torture generates around them, e.g. tlb-defer flushing after a BPF
                     kprobe: docs/torture.md lists them)
  --json             print { seed, runs, simulated_ns, events, invariants: [{ invariant, runs,
                     evaluations, violations }], failure: null or { invariant, run, file, command, ... } }
  -h, --help         this help

A progress bar appears on stderr when stderr is a terminal (never with --json).
exit: 0 no violation; 1 a violation (shrunk and saved); 2 bad input; 3 internal error.
`,
  sweep: `usage: isolsim sweep SWEEP [--workers N] [--out results.jsonl] [--queue redis://HOST:PORT] [--plot out.svg]

Runs every cell of the sweep file SWEEP (JSON, see the contract's "Sweep file" and docs/sweeps.md):
the cross product of its matrix (dotted scenario paths to lists of values, or { "from", "to" }
integer ranges) applied to its base scenario, cells numbered in row-major order of the keys as
written. Every cell is validated before anything runs (exit 2 naming the cell, its parameters and
the field). Each cell runs exactly as \`isolsim run\` runs that scenario (same report and digest).

options:
  --workers N       worker threads of the local pool (an integer 1-256; default: the number of cores)
  --out F           results, one JSON line per cell (cell, params, hash, digest, exit, metrics, and
                    violations for exit 1, error for exit 3), appended as cells finish, sorted by cell
                    at the end: the same bytes however many workers ran. Resumable: rerunning skips the
                    cells F records with the same inputs (the hash of the cell's scenario, the metrics
                    and the isolsim version); failed cells (exit 3) run again
  --queue URL       put the cells on the BullMQ queue in the Redis at URL (redis://HOST:PORT) instead of
                    the local pool; \`isolsim worker URL\` on any machine runs them. A worker killed
                    mid-cell has its cell run again by another (BullMQ's stalled jobs). Redis going away
                    is exit 2 naming --queue; F keeps what finished, rerun to resume
  --plot F.svg      draw each metric against the rows' key, one series per value of the columns' key (SVG,
                    Vega-Lite rendered in Node)
  --rows KEY        the matrix key of the tables' rows and the plot's x axis (default: the first)
  --cols KEY        the matrix key of the tables' columns and the plot's series (default: the second)
  --json            print the results lines on stdout instead of the tables
  -h, --help        this help

At the end: a table per metric on stdout (rows and columns from two matrix keys, the other keys folded:
max for a max metric, min for a min metric, else mean, and named in the title), a line per cell that
violated an invariant and the failed cells on stderr. A progress bar (cells done, failed, ETA) shows on
stderr when it is a terminal.

exit: 3 if any cell failed (a bug of isolsim), else 1 if any cell violated an invariant, 2 on bad input
or an unreachable Redis, else 0.
`,
  worker: `usage: isolsim worker URL [--concurrency N]

Takes sweep cells from the BullMQ queue in the Redis at URL (redis://HOST:PORT; rediss:// for TLS,
user:password@ and /DB allowed) and runs them, N at once in worker threads, until SIGINT or SIGTERM
(cells under way finish first). One line per cell started and finished on stderr. Run the same isolsim
version as the coordinator (\`isolsim sweep --queue URL\`): a worker of another version refuses the cell.

options:
  --concurrency N   cells at once (an integer 1-256; default: the number of cores)
  -h, --help        this help

Environment: ISOLSIM_QUEUE_LOCK_MS (default 30000) is a job's lock: a worker killed mid-cell has its
cell handed to another worker after about this long. ISOLSIM_QUEUE_TIMEOUT_MS (default 10000): how long
Redis may not answer before the coordinator stops with exit 2.

exit: 0 after a signal, 2 on bad input or an unreachable Redis at start.
`,
};
