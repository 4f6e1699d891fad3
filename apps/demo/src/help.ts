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
  real FILE         (not available yet: a later issue runs a scenario on a real kernel under qemu)
  sweep SWEEP       many runs (a matrix of scenario fields): a local thread pool or a BullMQ/Redis queue;
                    results lines, a table per metric, a plot
  worker URL        run sweep cells from the Redis queue at URL (redis://HOST:PORT) until SIGINT/SIGTERM

exit codes: 0 ran, no invariant violated; 1 ran, an invariant was violated (the report is still printed);
            2 bad input (the problems on stderr, each naming the field, the value and what is valid; nothing on stdout);
            3 internal error: a bug of isolsim, never bad input (one line on stderr with the version and the
              command to reproduce; ISOLSIM_DEBUG=1 adds the stack)

isolsim --version prints the version. isolsim <command> --help shows the options of a command.
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
  --real             (not available yet: a later issue adds a real kernel beside the simulation)
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
  real: `usage: isolsim real FILE [--json] [--kernel PATH]

Not available yet: running a scenario on a real Linux kernel under qemu comes with a later issue.
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
