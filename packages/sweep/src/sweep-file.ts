import { parseMetric } from "./metrics.js";
import type { Metric } from "./metrics.js";

/** One problem of a sweep file: the field it is in and what is wrong, with what is valid. */
export interface SweepProblem {
  /** Dotted path of the field (`matrix["kernel.cpus"][2]`, `metrics[1]`, `cells[4].kernel.cpus`). */
  field: string;
  /** What is wrong and what is valid. */
  message: string;
}

/** A sweep file that is not valid: every problem found. */
export class SweepError extends Error {
  /** Every problem found. */
  readonly problems: SweepProblem[];

  /** Creates the error from its problems. */
  constructor(problems: SweepProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join("; "));
    this.problems = problems;
    this.name = "SweepError";
  }
}

/** A JSON value as a sweep cell's parameter holds it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One axis of the matrix: a dotted scenario path and the values it takes, in order. */
export interface MatrixAxis {
  /** Dotted scenario path (`kernel.cpus`, `seed`, `workload.1.every`). */
  path: string;
  /** Its values, in the order written (`{from, to}` expanded). */
  values: JsonValue[];
}

/** A validated sweep file (contract: "Sweep file"). */
export interface SweepSpec {
  /** Name of the sweep. */
  name: string;
  /** The base scenario object, or the path to it as written (relative to the sweep file). */
  base: Record<string, JsonValue> | string;
  /** The axes, in the order the keys are written. */
  matrix: MatrixAxis[];
  /** The metrics computed for every cell. */
  metrics: Metric[];
}

/** Largest number of cells a sweep may have: far above any sweep worth running, small enough to hold every result. */
export const MAX_SWEEP_CELLS = 100_000;

/** Largest `{from, to}` range on one axis. */
export const MAX_RANGE_VALUES = 100_000;

/** Path segments that would reach an object's prototype instead of a scenario field. */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);

/** What a valid matrix key looks like, for messages. */
const PATH_HELP = 'a dotted scenario path such as "kernel.cpus", "seed" or "workload.1.every"';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

/** The problem of a matrix key, or null when it is a valid dotted path. */
export function matrixPathProblem(path: string): string | null {
  const segments = path.split(".");
  if (path === "" || segments.some((s) => s === "")) return `${show(path)} has an empty segment (valid: ${PATH_HELP})`;
  const bad = segments.find((s) => FORBIDDEN_SEGMENTS.has(s));
  if (bad !== undefined) return `${show(path)} uses ${show(bad)} (valid: ${PATH_HELP})`;
  return null;
}

function axisValues(path: string, v: unknown, out: SweepProblem[]): JsonValue[] {
  const field = `matrix[${show(path)}]`;
  if (Array.isArray(v)) {
    if (v.length === 0) out.push({ field, message: "[] has no values (valid: a non-empty list of values, or { \"from\", \"to\" } integers)" });
    return v as JsonValue[];
  }
  if (isObject(v)) {
    const unknown = Object.keys(v).filter((k) => k !== "from" && k !== "to");
    for (const k of unknown) out.push({ field: `${field}.${k}`, message: "unknown field (valid: from, to)" });
    const { from, to } = v;
    for (const [k, x] of [["from", from], ["to", to]] as const) {
      if (!Number.isSafeInteger(x)) out.push({ field: `${field}.${k}`, message: `${x === undefined ? "required" : `${show(x)} is not valid`} (valid: an integer)` });
    }
    if (Number.isSafeInteger(from) && Number.isSafeInteger(to)) {
      const a = from as number, b = to as number;
      if (a > b) out.push({ field, message: `from ${a} > to ${b} (valid: from <= to)` });
      else if (b - a + 1 > MAX_RANGE_VALUES) out.push({ field, message: `${b - a + 1} values (valid: at most ${MAX_RANGE_VALUES} values in one range)` });
      else return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    }
    return [];
  }
  out.push({ field, message: `${show(v)} is not valid (valid: a non-empty list of values, or { "from", "to" } integers)` });
  return [];
}

/**
 * Validates a parsed sweep file (contract: "Sweep file") and returns it with its ranges
 * expanded; throws a {@link SweepError} listing every problem. `fallbackName` names a sweep
 * whose file has no `name`. The cells themselves are checked by the caller, each as a scenario.
 */
export function parseSweep(raw: unknown, fallbackName = "sweep"): SweepSpec {
  const out: SweepProblem[] = [];
  if (!isObject(raw)) throw new SweepError([{ field: "(file)", message: `${show(raw)} is not a sweep (valid: a JSON object with base, matrix and metrics)` }]);
  for (const k of Object.keys(raw)) {
    if (!["name", "description", "base", "matrix", "metrics"].includes(k)) out.push({ field: k, message: "unknown field (valid: name, description, base, matrix, metrics)" });
  }
  if (raw.name !== undefined && (typeof raw.name !== "string" || raw.name === "")) out.push({ field: "name", message: `${show(raw.name)} is not valid (valid: a non-empty string)` });
  if (raw.description !== undefined && typeof raw.description !== "string") out.push({ field: "description", message: `${show(raw.description)} is not valid (valid: a string)` });
  const base = raw.base;
  if (!(isObject(base) || (typeof base === "string" && base !== ""))) {
    out.push({ field: "base", message: `${base === undefined ? "required" : `${show(base)} is not valid`} (valid: a scenario object, or the path of a scenario file relative to the sweep file)` });
  }
  const matrix: MatrixAxis[] = [];
  if (raw.matrix === undefined || isObject(raw.matrix)) {
    for (const [path, v] of Object.entries(raw.matrix ?? {})) {
      const p = matrixPathProblem(path);
      if (p !== null) out.push({ field: `matrix[${show(path)}]`, message: p });
      matrix.push({ path, values: axisValues(path, v, out) });
    }
  } else out.push({ field: "matrix", message: `${show(raw.matrix)} is not valid (valid: an object of dotted scenario paths to lists of values)` });
  const metrics: Metric[] = [];
  if (raw.metrics === undefined || Array.isArray(raw.metrics)) {
    const seen = new Set<string>();
    (raw.metrics ?? []).forEach((m: unknown, i: number) => {
      if (typeof m !== "string") {
        out.push({ field: `metrics[${i}]`, message: `${show(m)} is not valid (valid: "agg:key" such as "max:max_single_noise_ns")` });
        return;
      }
      const parsed = parseMetric(m);
      if (typeof parsed === "string") out.push({ field: `metrics[${i}]`, message: parsed });
      else if (seen.has(m)) out.push({ field: `metrics[${i}]`, message: `${show(m)} is listed twice (valid: each metric once)` });
      else {
        seen.add(m);
        metrics.push(parsed);
      }
    });
  } else out.push({ field: "metrics", message: `${show(raw.metrics)} is not valid (valid: a list of "agg:key" strings)` });
  if (out.length === 0) {
    const cells = matrix.reduce((n, a) => n * a.values.length, 1);
    if (cells > MAX_SWEEP_CELLS) out.push({ field: "matrix", message: `${cells} cells (valid: at most ${MAX_SWEEP_CELLS} cells)` });
  }
  if (out.length) throw new SweepError(out);
  return {
    name: typeof raw.name === "string" ? raw.name : fallbackName,
    base: base as SweepSpec["base"],
    matrix,
    metrics,
  };
}

/** One cell of a sweep: its number and the value of each matrix path. */
export interface SweepCell {
  /** Number of the cell, 0-based, in row-major order of the matrix keys as written. */
  cell: number;
  /** The value of each matrix path, in the order of the keys. */
  params: Record<string, JsonValue>;
}

/** Every cell of the sweep, in row-major order (the last matrix key varies fastest). */
export function expandCells(sweep: Pick<SweepSpec, "matrix">): SweepCell[] {
  const total = sweep.matrix.reduce((n, a) => n * a.values.length, 1);
  const cells: SweepCell[] = [];
  for (let cell = 0; cell < total; cell++) {
    const params: Record<string, JsonValue> = {};
    let rest = cell;
    const idx: number[] = new Array<number>(sweep.matrix.length);
    for (let k = sweep.matrix.length - 1; k >= 0; k--) {
      const n = sweep.matrix[k]!.values.length;
      idx[k] = rest % n;
      rest = Math.floor(rest / n);
    }
    sweep.matrix.forEach((a, k) => {
      params[a.path] = a.values[idx[k]!]!;
    });
    cells.push({ cell, params });
  }
  return cells;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * The scenario object of one cell: a deep copy of `base` with each matrix path set to the
 * cell's value. A numeric segment indexes a list (`workload.1.every`); a missing object on the
 * way is created. Throws a {@link SweepError} naming the path when a segment cannot be followed
 * (a number into an object, a name into a list or a value).
 */
export function applyParams(base: Record<string, JsonValue>, params: Record<string, JsonValue>): Record<string, JsonValue> {
  const out = clone(base);
  for (const [path, value] of Object.entries(params)) {
    const segments = path.split(".");
    let node: JsonValue = out;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      const where = segments.slice(0, i).join(".") || "(scenario)";
      if (Array.isArray(node)) {
        const n = Number(seg);
        if (!/^\d+$/.test(seg) || n >= node.length) {
          throw new SweepError([{ field: `matrix[${show(path)}]`, message: `${where} is a list of ${node.length} items: ${show(seg)} is not an index of it (valid: 0-${node.length - 1})` }]);
        }
        if (last) node[n] = clone(value);
        else node = node[n]!;
      } else if (isObject(node)) {
        const obj: Record<string, JsonValue> = node;
        if (last) obj[seg] = clone(value);
        else {
          if (!Object.hasOwn(obj, seg) || obj[seg] === null) obj[seg] = {};
          node = obj[seg]!;
        }
      } else {
        throw new SweepError([{ field: `matrix[${show(path)}]`, message: `${where} is ${show(node)}, not an object or a list (valid: a path into the scenario's objects and lists)` }]);
      }
    }
  }
  return out;
}

/** JSON with object keys sorted at every level: equal values give equal text (for hashing a cell's inputs). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** A short readable label of a parameter value: `none` for `[]`, list items joined by `+`, `name:variant` for a mechanism entry. */
export function valueLabel(v: JsonValue): string {
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.map(valueLabel).join("+");
  if (isObject(v)) {
    if (typeof v.name === "string") return typeof v.variant === "string" ? `${v.name}:${v.variant}` : v.name;
    return JSON.stringify(v);
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}
