import * as z from "zod";
import {
  MAX_WORKLOAD_ITEMS,
  buildKernel,
  defaultParams,
  describeLimit,
  formatNs,
  getPreset,
  limitMessage,
  parseCpus,
  resolveMechanisms,
  resolveParams,
  scenarioLimits,
  syscallNames,
  bpfAttachPoints,
  userLoopPolicies,
  withinLimit,
} from "@isolsim/core";
import type { KernelSpec, MechanismEntry, MechanismRegistry, ScenarioLimitPath, ScenarioSpec, WorkloadSpec } from "@isolsim/core";
import { BadInput, PROBLEMS_KEPT, collect, sortProblems } from "./problems.js";
import type { Problem } from "./problems.js";
import { MAX_FILE_DEPTH, MAX_FILE_KEYS, fileShapeProblem, show } from "./show.js";

const UNIT: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/** What a valid duration looks like, for error messages. */
export const DURATION_HELP = 'an integer number of ns, or a string with unit ns, us, ms or s such as "500ms"';

/** Decimal digits of each unit below its scale (`ms`: 6). */
const UNIT_DIGITS: Record<string, number> = { ns: 0, us: 3, ms: 6, s: 9 };

/**
 * Parses a duration: an integer of ns or a string with unit ns/us/ms/s; null when invalid. A
 * decimal is read exactly (`"2107166.347558ms"` is 2107166347558 ns, which a float product
 * misses); digits below a nanosecond that are not 0 make it invalid.
 */
export function parseDuration(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== "string") return null;
  const m = /^(\d+)(?:\.(\d+))?\s*(ns|us|ms|s)$/.exec(v.trim());
  if (!m) return null;
  const digits = UNIT_DIGITS[m[3]!]!;
  const frac = (m[2] ?? "").replace(/0+$/, "");
  if (frac.length > digits) return null;
  const ns = BigInt(m[1]!) * BigInt(UNIT[m[3]!]!) + BigInt(frac.padEnd(digits, "0") || "0");
  return ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : null;
}

/** What a valid duration of the limits table's `path` is: its range, then the syntax. */
function durationHelp(path: ScenarioLimitPath): string {
  const l = scenarioLimits[path];
  return `${l.min > 0 ? "a positive duration" : "a duration"} from ${formatNs(l.min)} to ${formatNs(l.max)}: ${DURATION_HELP}`;
}

/** A zod duration field (converted to ns) within the limits table's range for `path`. */
function duration(path: ScenarioLimitPath) {
  return z.unknown().transform((v, ctx) => {
    const ns = v === undefined ? null : parseDuration(v);
    if (ns === null || !withinLimit(ns, scenarioLimits[path])) {
      ctx.addIssue({
        code: "custom",
        input: v,
        message: v === undefined ? `required (valid: ${durationHelp(path)})` : `${JSON.stringify(v)} is not a valid duration (valid: ${durationHelp(path)})`,
      });
      return z.NEVER;
    }
    return ns;
  });
}

/** A zod integer field checked against the limits table's row for `path` (the core checks the same row). */
function limited(path: ScenarioLimitPath) {
  return z.unknown().transform((v, ctx) => {
    if (!withinLimit(v, scenarioLimits[path])) {
      const l = scenarioLimits[path];
      // A missing field is told its type and minimum; a given one out of range, the whole range.
      ctx.addIssue({ code: "custom", input: v, message: v === undefined ? `required (valid: an integer >= ${l.min})` : limitMessage(v, l) });
      return z.NEVER;
    }
    return v as number;
  });
}

const cpuList = z.string();
const periodic = { every: duration("workload[].every"), at: duration("workload[].at").optional(), jitter: duration("workload[].jitter").optional() };

const workloadSchemas = {
  "user-loop": z.strictObject({
    type: z.literal("user-loop"),
    cpus: cpuList,
    tasks: limited("workload[].tasks").optional(),
    policy: z.enum(userLoopPolicies).optional(),
    priority: limited("workload[].priority").optional(),
  }),
  syscall: z.strictObject({
    type: z.literal("syscall"),
    cpus: cpuList,
    ...periodic,
    call: z.enum(syscallNames),
    pages: limited("workload[].pages").optional(),
  }),
  "vmalloc-churn": z.strictObject({ type: z.literal("vmalloc-churn"), cpus: cpuList, ...periodic, pages: limited("workload[].pages") }),
  "lru-drain-all": z.strictObject({ type: z.literal("lru-drain-all"), cpus: cpuList, ...periodic, pcp: z.boolean().optional() }),
  wakeup: z.strictObject({ type: z.literal("wakeup"), cpus: cpuList, ...periodic, run: duration("workload[].run") }),
  "kernel-loop": z.strictObject({ type: z.literal("kernel-loop"), cpus: cpuList, ...periodic, run: duration("workload[].run") }),
  bpf: z.strictObject({
    type: z.literal("bpf"),
    cpus: cpuList,
    ...periodic,
    attach: z.enum(bpfAttachPoints).optional(),
    pages: limited("workload[].pages").optional(),
  }),
} as const;

const mechanismEntry = z.preprocess(
  (v) => (typeof v === "string" ? { name: v } : v),
  z.strictObject({ name: z.string().min(1), variant: z.string().optional(), options: z.record(z.string(), z.unknown()).optional() }),
);

const kernelSchema = z.strictObject({
  preset: z.string().optional(),
  cpus: limited("kernel.cpus"),
  hz: limited("kernel.hz").optional(),
  nohz_full: cpuList.optional(),
  cmdline: z.string().optional(),
  mechanisms: z.array(mechanismEntry).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const scenarioSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  seed: limited("seed").optional(),
  duration: duration("duration"),
  warmup: duration("warmup").optional(),
  kernel: kernelSchema,
  workload: z.array(z.discriminatedUnion("type", Object.values(workloadSchemas) as unknown as [typeof workloadSchemas.wakeup])),
});

/** The default kernel preset when a scenario names none. */
export const DEFAULT_PRESET = "linux-4.9";

/** What is valid for fields whose zod message would be vague, by the field's last key. */
const VALID: Record<string, string> = {
  name: "a non-empty string",
  description: "a string",
  seed: describeLimit(scenarioLimits.seed),
  cpus: 'a CPU list string such as "1-7" or "0,2-3" (kernel bitmap_parselist() syntax)',
  nohz_full: 'a CPU list string such as "1-7" (kernel bitmap_parselist() syntax)',
  cmdline: 'a kernel command line string such as "nohz_full=1-7 isolcpus=1-7"',
  preset: "a preset name (isolsim presets lists them)",
  hz: describeLimit(scenarioLimits["kernel.hz"]),
  tasks: describeLimit(scenarioLimits["workload[].tasks"]),
  priority: describeLimit(scenarioLimits["workload[].priority"]),
  pages: describeLimit(scenarioLimits["workload[].pages"]),
  mechanisms: 'a list of mechanism names or { "name", "variant"?, "options"? }',
  params: "an object of parameter overrides",
  options: "an object",
  variant: "a variant name (isolsim mechanisms lists them)",
  workload: "a list of workload items",
  kernel: "an object",
};

/** What is valid for fields whose last key means something else elsewhere, by path (`[]` for any index). */
const VALID_AT: Record<string, string> = {
  "kernel.cpus": describeLimit(scenarioLimits["kernel.cpus"]),
  "kernel.mechanisms[]": 'a mechanism name (isolsim mechanisms lists them) or { "name", "variant"?, "options"? }',
  "kernel.mechanisms[].name": "a mechanism name (isolsim mechanisms lists them)",
};

/** Formats a zod path as the scenario's field path: `workload[2].every`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(scenario)";
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    // A mechanism entry given as a name stands for { "name": ... }.
    if (typeof v === "string" && p === "name") return v;
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  }
  return v;
}

/** Known keys of the object at `path` in a scenario (for unknown-field errors). */
function knownKeys(raw: unknown, path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(scenarioSchema.shape);
  if (path.length === 1 && path[0] === "kernel") return Object.keys(kernelSchema.shape);
  if (path[0] === "kernel" && path[1] === "mechanisms") return ["name", "variant", "options"];
  if (path[0] === "workload" && path.length === 2) {
    const type = valueAt(raw, [...path, "type"]);
    const s = workloadSchemas[type as keyof typeof workloadSchemas];
    if (s) return Object.keys(s.shape);
  }
  return [];
}

/**
 * Turns zod issues into problems that name the field path, the value and what is valid. Keeps at
 * most {@link PROBLEMS_KEPT} problems and counts the rest in `more`, so a file of a million bad
 * items or unknown keys is printed (and held) in bounded space.
 */
function zodProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): { problems: Problem[]; more: number } {
  const out: Problem[] = [];
  let more = 0;
  for (const issue of issues) {
    if (out.length >= PROBLEMS_KEPT) {
      more += issue.code === "unrecognized_keys" ? issue.keys.length : 1;
      continue;
    }
    const path = issue.path;
    const value = valueAt(raw, path);
    const last = String(path[path.length - 1] ?? "");
    const valid = VALID_AT[fieldPath(path).replace(/\[\d+\]/g, "[]")] ?? VALID[last];
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          if (out.length >= PROBLEMS_KEPT) {
            more++;
            continue;
          }
          const known = knownKeys(raw, path);
          out.push({ field: fieldPath([...path, key.length > 80 ? `${key.slice(0, 80)}…` : key]), message: `unknown field (valid: ${known.join(", ") || "none"})` });
        }
        break;
      case "invalid_union": {
        const options = "options" in issue && Array.isArray(issue.options) ? (issue.options as unknown[]).map(String) : [];
        if (options.length) {
          out.push({ field: fieldPath(path), message: `${show(value)} is not a workload type (valid: ${options.join(", ")})` });
        } else out.push({ field: fieldPath(path), message: `${show(value)} is not valid${valid ? ` (valid: ${valid})` : ""}` });
        break;
      }
      case "invalid_value":
        out.push({ field: fieldPath(path), message: `${show(value)} is not valid (valid: ${issue.values.map((x) => String(x)).join(", ")})` });
        break;
      case "custom":
        out.push({ field: fieldPath(path), message: issue.message });
        break;
      case "too_small":
      case "too_big": {
        const bound = issue.code === "too_small" ? `>= ${String(issue.minimum)}` : `<= ${String(issue.maximum)}`;
        out.push({ field: fieldPath(path), message: `${show(value)} is not valid (valid: ${valid ?? (issue.origin === "string" ? "a non-empty string" : bound)})` });
        break;
      }
      case "invalid_type": {
        const expected = issue.expected === "int" ? "an integer" : issue.expected === "array" ? "a list" : `a ${issue.expected}`;
        out.push({ field: fieldPath(path), message: `${value === undefined ? "required" : `${show(value)} is not valid`} (valid: ${valid ?? expected})` });
        break;
      }
      default:
        out.push({ field: fieldPath(path), message: `${show(value)} is not valid (${issue.message})` });
    }
  }
  return { problems: out, more };
}

/** Replacements of scenario fields given on the command line (`--seed`, `--mechanisms`, ...). */
export interface Overrides {
  /** `--seed N`. */
  seed?: number;
  /** `--duration D` (as given, parsed like the file's). */
  duration?: string;
  /** `--mechanisms a,b`: replaces kernel.mechanisms. */
  mechanisms?: MechanismEntry[];
  /** `--preset P`: replaces kernel.preset. */
  preset?: string;
}

/** Options the problems of overridden fields are reported under. */
const OVERRIDE_FIELDS: readonly [string, keyof Overrides, string][] = [
  ["seed", "seed", "--seed"],
  ["duration", "duration", "--duration"],
  ["kernel.mechanisms", "mechanisms", "--mechanisms"],
  ["kernel.preset", "preset", "--preset"],
];

function renameOverridden(problems: Problem[], o: Overrides): Problem[] {
  return problems.map((p) => {
    for (const [field, key, option] of OVERRIDE_FIELDS) {
      if (o[key] !== undefined && (p.field === field || p.field.startsWith(`${field}[`) || p.field.startsWith(`${field}.`))) {
        return { field: option + p.field.slice(field.length), message: p.message };
      }
    }
    return p;
  });
}

/**
 * Parses JSON text, reporting a syntax error with its line and column. A UTF-8 byte-order mark
 * at the start is skipped (editors on Windows write one); a value nested deeper than
 * {@link MAX_FILE_DEPTH} arrays/objects, or an object of more than {@link MAX_FILE_KEYS} keys, is
 * bad input (no scenario needs them, and checking and printing them would not be bounded).
 */
export function parseJson(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = "";
    if (pos) {
      const before = body.slice(0, Number(pos[1]));
      let line = 1;
      for (let i = before.indexOf("\n"); i >= 0; i = before.indexOf("\n", i + 1)) line++;
      const column = before.length - before.lastIndexOf("\n");
      where = ` at line ${line}, column ${column}`;
    }
    // V8 quotes the text around the error ('..."[[[[" is not valid JSON'): keep only the reason.
    const reason = msg.replace(/\s*in JSON at position \d+.*$/s, "").replace(/^Unexpected token '(.)', .*$/s, "Unexpected token '$1'");
    throw new BadInput([{ field: "(file)", message: `not valid JSON${where}: ${reason} (valid: a JSON object as in the contract's scenario file)` }]);
  }
  const shape = fileShapeProblem(value, MAX_FILE_DEPTH, MAX_FILE_KEYS);
  if (shape !== null) throw new BadInput([{ field: shape.path.length > 120 ? `${shape.path.slice(0, 120)}…` : shape.path, message: shape.message }]);
  return value;
}

/** Checks semantics that the core knows (cpu ranges, preset, params, mechanisms), collecting every problem. */
function semanticProblems(raw: Record<string, unknown>, schemaProblems: readonly Problem[], registry: MechanismRegistry): Problem[] {
  const out: Problem[] = [];
  const reported = new Set(schemaProblems.map((p) => p.field));
  const kernel = (raw.kernel ?? {}) as Record<string, unknown>;
  const cpus = kernel.cpus;
  const cpusOk = typeof cpus === "number" && withinLimit(cpus, scenarioLimits["kernel.cpus"]);
  if (cpusOk) {
    if (typeof kernel.nohz_full === "string" && kernel.nohz_full !== "") collect(out, () => parseCpus(kernel.nohz_full as string, cpus, "kernel.nohz_full"));
    const workload = Array.isArray(raw.workload) ? raw.workload : [];
    workload.forEach((w: unknown, i) => {
      const list = (w as Record<string, unknown> | null)?.cpus;
      if (typeof list === "string" && !reported.has(`workload[${i}].cpus`)) collect(out, () => parseCpus(list, cpus, `workload[${i}].cpus`));
    });
  }
  if (kernel.cmdline !== undefined && kernel.nohz_full !== undefined) {
    out.push({ field: "kernel.cmdline", message: "give either kernel.cmdline or kernel.nohz_full, not both (valid: one of them)" });
  }
  if (typeof kernel.preset === "string") collect(out, () => getPreset(kernel.preset as string));
  if (kernel.params && typeof kernel.params === "object" && !Array.isArray(kernel.params)) {
    for (const [name, value] of Object.entries(kernel.params)) collect(out, () => resolveParams({ ...defaultParams }, { [name]: value }));
  }
  if (Array.isArray(kernel.mechanisms)) {
    kernel.mechanisms.forEach((m: unknown, i) => {
      const entry: unknown = typeof m === "string" ? { name: m } : m;
      const at = `kernel.mechanisms[${i}]`;
      if ([...reported].some((f) => f === at || f.startsWith(`${at}.`)) || !entry || typeof entry !== "object" || typeof (entry as MechanismEntry).name !== "string") return;
      const one = entry as MechanismEntry;
      const found: Problem[] = [];
      collect(found, () => resolveMechanisms([one], registry));
      for (const p of found) out.push({ field: p.field.replace(/^kernel\.mechanisms\[0\]/, `kernel.mechanisms[${i}]`), message: p.message });
    });
  }
  return out;
}

/** Converts a schema-valid scenario object (snake_case) to the core's ScenarioSpec (camelCase, ns). */
function toSpec(v: z.infer<typeof scenarioSchema>, fallbackName: string): ScenarioSpec {
  const k = v.kernel;
  const kernel: KernelSpec = { preset: k.preset ?? DEFAULT_PRESET, cpus: k.cpus };
  if (k.hz !== undefined) kernel.hz = k.hz;
  if (k.nohz_full !== undefined) kernel.nohzFull = k.nohz_full;
  if (k.cmdline !== undefined) kernel.cmdline = k.cmdline;
  if (k.mechanisms !== undefined) kernel.mechanisms = k.mechanisms.map(mechanismSpec);
  if (k.params !== undefined) kernel.params = k.params;
  const spec: ScenarioSpec = {
    name: v.name ?? fallbackName,
    seed: v.seed ?? 1,
    duration: v.duration,
    warmup: v.warmup ?? 0,
    kernel,
    workload: v.workload.map((w) => dropUndefined(w) as WorkloadSpec),
  };
  if (v.description !== undefined) spec.description = v.description;
  return spec;
}

function mechanismSpec(m: { name: string; variant?: string | undefined; options?: Record<string, unknown> | undefined }): MechanismEntry {
  const e: MechanismEntry = { name: m.name };
  if (m.variant !== undefined) e.variant = m.variant;
  if (m.options !== undefined) e.options = m.options;
  return e;
}

function dropUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}

/** Syscall calls that take `pages`. */
const PAGED_CALLS = ["file-write", "page-fault", "mlock"];

/** Checks rules between fields of one workload item that the schema cannot express. */
function crossFieldProblems(raw: Record<string, unknown>): Problem[] {
  const out: Problem[] = [];
  const workload = Array.isArray(raw.workload) ? raw.workload : [];
  workload.forEach((w: unknown, i) => {
    const item = (w ?? {}) as Record<string, unknown>;
    if (item.type === "syscall" && item.pages !== undefined && typeof item.call === "string" && !PAGED_CALLS.includes(item.call)) {
      out.push({ field: `workload[${i}].pages`, message: `${show(item.pages)} is not valid for call "${item.call}" (valid: pages only with call ${PAGED_CALLS.join(", ")})` });
    }
    if (item.type === "user-loop" && (item.policy === "fifo" || item.policy === "rr") && item.priority === undefined) {
      out.push({ field: `workload[${i}].priority`, message: `missing for policy ${item.policy} (valid: an integer 1-99)` });
    }
  });
  return out;
}

/**
 * Validates a parsed scenario object and converts it to a ScenarioSpec. Reports every schema and
 * semantic problem at once; when those pass, builds the kernel (without running it) so the core's
 * own checks (composition, syscall without a user task, ...) apply too.
 */
export function scenarioFromObject(raw: unknown, opts: { registry: MechanismRegistry; name?: string; overrides?: Overrides }): ScenarioSpec {
  const o = opts.overrides ?? {};
  const fallbackName = opts.name ?? "scenario";
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BadInput([{ field: "(file)", message: `${show(raw)} is not a scenario (valid: a JSON object with duration, kernel and workload)` }]);
  }
  const obj: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (o.seed !== undefined) obj.seed = o.seed;
  if (o.duration !== undefined) obj.duration = o.duration;
  if (o.mechanisms !== undefined || o.preset !== undefined) {
    const k = obj.kernel && typeof obj.kernel === "object" ? { ...(obj.kernel as Record<string, unknown>) } : {};
    if (o.mechanisms !== undefined) k.mechanisms = o.mechanisms;
    if (o.preset !== undefined) k.preset = o.preset;
    obj.kernel = k;
  }
  // Checked before the schema: a list of 100 000 items is refused without parsing each one.
  if (Array.isArray(obj.workload) && obj.workload.length > MAX_WORKLOAD_ITEMS) {
    throw new BadInput([{ field: "workload", message: `${obj.workload.length} items is not valid (valid: at most ${MAX_WORKLOAD_ITEMS} items: ${scenarioLimits.workload.why})` }]);
  }
  const parsed = scenarioSchema.safeParse(obj);
  const { problems, more } = parsed.success ? { problems: [], more: 0 } : zodProblems(obj, parsed.error.issues);
  problems.push(...crossFieldProblems(obj));
  problems.push(...semanticProblems(obj, problems, opts.registry));
  if (problems.length || !parsed.success) throw new BadInput(renameOverridden(sortProblems(problems), o), null, more);
  const spec = toSpec(parsed.data, fallbackName);
  const late: Problem[] = [];
  collect(late, () => buildKernel(spec, { registry: opts.registry }));
  if (late.length) throw new BadInput(renameOverridden(late, o));
  return spec;
}
