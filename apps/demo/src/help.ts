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
  torture           random kernels and workloads, every invariant checked; a violation shrunk to a scenario file

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
};
