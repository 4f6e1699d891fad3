/**
 * The kernel command line parameters of CPU isolation, parsed as Linux 6.1 does at boot
 * (init/main.c, kernel/params.c, kernel/sched/isolation.c, kernel/rcu/tree_nocb.h,
 * kernel/irq/irqdesc.c). Masks are derived from them in housekeeping.ts.
 */
import { CpuMask } from "./cpumask.js";

/** An isolcpus= flag, as kernel/sched/isolation.c housekeeping_isolcpus_setup() knows them (6.1). */
export type IsolcpusFlag = "nohz" | "domain" | "managed_irq";

/** The isolcpus= parameter: its flags (HK_FLAG_DOMAIN when none is given) and its CPU list. */
export interface Isolcpus {
  /** Recognised flags in order of first appearance; `["domain"]` for a bare list. */
  flags: IsolcpusFlag[];
  /** The CPUs to isolate, as given. */
  mask: CpuMask;
}

/** The isolation parameters of a kernel command line, as their __setup() handlers (init/main.c obsolete_checksetup()) record them. */
export interface BootParams {
  /** nohz_full=: the first one; a later one that differs is ignored, as housekeeping_setup() does. */
  nohzFull?: CpuMask;
  /** isolcpus=: the first one, with the flags of later ones that give the same list. */
  isolcpus?: Isolcpus;
  /** rcu_nocbs[=list]: the last one (a bare `rcu_nocbs` is the empty list). */
  rcuNocbs?: CpuMask;
  /** irqaffinity=: the last one, as given (housekeepingSetup() adds the boot CPU). */
  irqaffinity?: CpuMask;
  /**
   * pti=on|off and nopti (v4.15+ arch/x86/mm/pti.c pti_check_boottime_disable()): true for `pti=on`,
   * false for `pti=off` or `nopti` (pti=on and pti=auto win over nopti); absent for `pti=auto`, another
   * value or none, where the preset's `pti` stands (the preset says whether its CPU has Meltdown).
   */
  pti?: boolean;
  /**
   * qpw= (Tosatti, "Introduce QPW for per-cpu operations" v2, Mar 2026, pending; CONFIG_QPW): per-CPU
   * work under per-CPU spinlocks, parsed as kstrtobool() (1/0, y/n, on/off); absent when not given.
   */
  qpw?: boolean;
  /** True when isolcpus= came before nohz_full= (the first of two conflicting masks wins). */
  isolcpusFirst?: boolean;
  /** Every other word of the command line, and everything after `--` (the kernel passes them to init). */
  unknown: string[];
  /** What the kernel would print while parsing (pr_warn()/pr_info()), in order. */
  warnings?: string[];
}

/** A command line parameter the kernel would refuse; names the parameter, the value and what is valid. */
export class CmdlineError extends Error {
  /** The parameter (`isolcpus`, ...). */
  readonly field: string;
  /** Its value as given. */
  readonly value: string;

  constructor(field: string, value: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "CmdlineError";
    this.field = field;
    this.value = value;
  }
}

const isSpace = (c: string): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isAlpha = (c: string): boolean => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");

/** One word of the command line: the raw text, the parameter name and its value (undefined without `=`). */
interface Arg {
  raw: string;
  param: string;
  val: string | undefined;
}

/** Models lib/cmdline.c next_arg(): splits at whitespace outside double quotes, strips the quotes around a value. */
function* nextArgs(s: string): Generator<Arg> {
  let i = 0;
  while (isSpace(s.charAt(i))) i++;
  while (i < s.length) {
    const quoted = s.charAt(i) === '"';
    const start = quoted ? i + 1 : i;
    let inQuote = quoted;
    let eq = -1;
    let j = start;
    for (; j < s.length; j++) {
      const c = s.charAt(j);
      if (isSpace(c) && !inQuote) break;
      if (eq < 0 && c === "=" && j > start) eq = j;
      if (c === '"') inQuote = !inQuote;
    }
    const valQuoted = eq >= 0 && s.charAt(eq + 1) === '"';
    const end = (quoted || valQuoted) && j > start && s.charAt(j - 1) === '"' ? j - 1 : j;
    const param = s.slice(start, eq >= 0 ? eq : end);
    const val = eq >= 0 ? s.slice(eq + (valQuoted ? 2 : 1), Math.max(end, eq + 1)) : undefined;
    const raw = s.slice(i, j);
    i = j + 1;
    while (isSpace(s.charAt(i))) i++;
    yield { raw, param, val };
  }
}

const FLAGS: readonly IsolcpusFlag[] = ["nohz", "domain", "managed_irq"];

/** Models housekeeping_isolcpus_setup() (6.1): `flag,`... then the CPU list; unknown flags are skipped. */
function parseIsolcpus(val: string, nrCpuIds: number, warnings: string[]): Isolcpus {
  const flags: IsolcpusFlag[] = [];
  let i = 0;
  while (isAlpha(val.charAt(i))) {
    const known = FLAGS.find((f) => val.startsWith(`${f},`, i));
    if (known !== undefined) {
      if (!flags.includes(known)) flags.push(known);
      i += known.length + 1;
      continue;
    }
    let end = i;
    while (end < val.length && val.charAt(end) !== ",") end++;
    const flag = val.slice(i, end);
    if (!/^[A-Za-z_]+$/.test(flag)) {
      throw new CmdlineError(
        "isolcpus",
        val,
        `invalid flag "${flag}" in "${val}" (valid: flags nohz, domain, managed_irq, each followed by ",", then a CPU list)`,
      );
    }
    warnings.push(`isolcpus: Skipped unknown flag ${flag}`);
    i = end + 1;
  }
  if (flags.length === 0) flags.push("domain");
  return { flags, mask: CpuMask.parse(val.slice(i), nrCpuIds, "isolcpus") };
}

const dashesToUnderscores = (param: string): string => param.replace(/-/g, "_");

/**
 * Models start_kernel()'s parse_args() over the command line with the __setup() handlers of
 * nohz_full=, isolcpus=, rcu_nocbs and irqaffinity= (6.1), x86's pti=/nopti (read by
 * cmdline_find_option()) and the pending series' qpw= (`-` and `_` are the same in names, as
 * parameqn()). A malformed CPU list throws `CpuListError` and an isolcpus flag with other than
 * letters and `_` throws {@link CmdlineError}, where the kernel would print a warning and go on
 * (ignoring nohz_full=/isolcpus=, offloading every CPU for rcu_nocbs=, keeping what irqaffinity=
 * parsed before the error).
 */
export function parseKernelCmdline(cmdline: string, nrCpuIds: number): BootParams {
  const warnings: string[] = [];
  const boot: BootParams = { unknown: [], warnings };
  let initArgs = false;
  let ptiArg: string | undefined;
  let nopti = false;
  for (const { raw, param, val } of nextArgs(cmdline)) {
    initArgs ||= val === undefined && param === "--";
    const name = dashesToUnderscores(param);
    if (initArgs) {
      boot.unknown.push(raw);
    } else if (name === "nohz_full" && val !== undefined) {
      const mask = CpuMask.parse(val, nrCpuIds, "nohz_full");
      if (boot.nohzFull === undefined) boot.nohzFull = mask;
      else if (!mask.equals(boot.nohzFull)) {
        warnings.push(`Housekeeping: nohz_full= must match isolcpus= (nohz_full=${val} ignored)`);
      }
    } else if (name === "isolcpus" && val !== undefined) {
      const isol = parseIsolcpus(val, nrCpuIds, warnings);
      if (boot.isolcpus === undefined) {
        boot.isolcpus = isol;
        if (boot.nohzFull === undefined) boot.isolcpusFirst = true;
      } else mergeIsolcpus(boot.isolcpus, isol, val, warnings);
    } else if (name === "rcu_nocbs") {
      boot.rcuNocbs = CpuMask.parse(val ?? "", nrCpuIds, "rcu_nocbs");
    } else if (name === "irqaffinity" && val !== undefined) {
      boot.irqaffinity = CpuMask.parse(val, nrCpuIds, "irqaffinity");
    } else if (param === "pti" && val !== undefined) {
      // cmdline_find_option(): the last pti= counts; the name is matched exactly (no `-`/`_` folding).
      ptiArg = val;
    } else if (param === "nopti" && val === undefined) {
      nopti = true;
    } else if (name === "qpw" && val !== undefined) {
      const b = kstrtobool(val);
      if (b === undefined) warnings.push(`qpw: invalid value "${val}" ignored (valid: 1/0, y/n, on/off)`);
      else boot.qpw = b;
    } else {
      boot.unknown.push(raw);
    }
  }
  const pti = ptiMode(ptiArg, nopti, warnings);
  if (pti !== undefined) boot.pti = pti;
  return boot;
}

/**
 * Models pti_check_boottime_disable() (6.1 arch/x86/mm/pti.c): `pti=off` → off, `pti=on` → on,
 * `pti=auto` → the CPU decides (undefined: the preset's value), then `nopti` → off; any other pti=
 * value falls through to the nopti check as the kernel's does.
 */
function ptiMode(arg: string | undefined, nopti: boolean, warnings: string[]): boolean | undefined {
  if (arg === "off") return false;
  if (arg === "on") return true;
  if (arg === "auto") return undefined;
  if (arg !== undefined) warnings.push(`pti: unknown value "${arg}" treated as auto (valid: on, off, auto)`);
  return nopti ? false : undefined;
}

/**
 * Models lib/kstrtox.c kstrtobool() (6.1, 6.12): the first character decides (`1`/`y`/`Y`/`t`/`T`
 * true, `0`/`n`/`N`/`f`/`F` false), or `o`/`O` and the second (`n`/`N` true: "on", `f`/`F` false:
 * "of", "off"; nothing further is read); undefined otherwise.
 */
function kstrtobool(s: string): boolean | undefined {
  const c = s.charAt(0);
  if (c !== "" && "1yYtT".includes(c)) return true;
  if (c !== "" && "0nNfF".includes(c)) return false;
  if (c === "o" || c === "O") {
    const d = s.charAt(1);
    if (d === "n" || d === "N") return true;
    if (d === "f" || d === "F") return false;
  }
  return undefined;
}

/**
 * A second isolcpus= as housekeeping_setup() takes it: flags already set must come with the same
 * list or the whole parameter is ignored; new flags are added with their list.
 */
function mergeIsolcpus(first: Isolcpus, next: Isolcpus, val: string, warnings: string[]): void {
  const same = next.mask.equals(first.mask);
  if (!same && next.flags.some((f) => first.flags.includes(f))) {
    warnings.push(`Housekeeping: nohz_full= must match isolcpus= (isolcpus=${val} ignored)`);
    return;
  }
  if (!same) {
    throw new CmdlineError(
      "isolcpus",
      val,
      `a second isolcpus= with new flags and another CPU list than "${first.mask}" is not modelled (valid: one isolcpus= with all flags)`,
    );
  }
  for (const f of next.flags) if (!first.flags.includes(f)) first.flags.push(f);
}
