import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { MechanismRegistry } from "@isolsim/core";
import { SweepError, applyParams, canonicalJson, expandCells, parseSweep, valueLabel } from "@isolsim/sweep";
import type { JsonValue, SweepCell, SweepSpec } from "@isolsim/sweep";
import { BadInput, PROBLEMS_KEPT } from "../problems.js";
import type { Problem } from "../problems.js";
import { MAX_SCENARIO_FILE_BYTES, parseJson, scenarioFromObject } from "../scenario-file.js";
import { show } from "../show.js";
import { VERSION } from "../version.js";
import type { CellTask } from "./cell.js";

/** A sweep ready to run: every cell validated, its scenario object and input hash. */
export interface PreparedSweep {
  /** The validated sweep file. */
  sweep: SweepSpec;
  /** The cells in row-major order. */
  cells: SweepCell[];
  /** What each cell runs (index = cell). */
  tasks: CellTask[];
  /** Each cell's input hash (index = cell). */
  hashes: string[];
}

/** Reads a JSON file that must be a regular file of bounded size; problems are BadInput under `field`. */
function readJsonFile(file: string, field: string, what: string): unknown {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new BadInput([{ field, message: `${JSON.stringify(file)} is not a regular file (valid: a readable ${what})` }]);
    if (st.size > MAX_SCENARIO_FILE_BYTES) throw new BadInput([{ field, message: `${JSON.stringify(file)} has ${st.size} bytes (valid: at most ${MAX_SCENARIO_FILE_BYTES} bytes)` }]);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput([{ field, message: `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (valid: a readable ${what})` }]);
  }
  return parseJson(text);
}

/** A cell's name in messages: its number and parameters (`cell 3 (kernel.cpus=8, seed=2)`). */
export function cellLabel(cell: SweepCell): string {
  const params = Object.entries(cell.params).map(([k, v]) => `${k}=${valueLabel(v)}`);
  return `cell ${cell.cell}${params.length ? ` (${params.join(", ")})` : ""}`;
}

/** The hash of a cell's inputs: its scenario, the metrics and the isolsim version (sha-256, 32 hex digits). */
export function cellHash(task: CellTask, version: string = VERSION): string {
  return createHash("sha256").update(canonicalJson({ scenario: task.scenario, metrics: task.metrics, version })).digest("hex").slice(0, 32);
}

/**
 * Reads and validates a sweep file and every one of its cells (each cell's scenario checked as
 * `isolsim validate` checks a file); throws BadInput naming the file, the cell and the field.
 */
export function prepareSweep(file: string, registry: MechanismRegistry): PreparedSweep {
  const raw = readJsonFile(file, "SWEEP", "sweep .json file");
  let sweep: SweepSpec;
  try {
    sweep = parseSweep(raw, basename(file).replace(/\.json$/, ""));
  } catch (e) {
    if (e instanceof SweepError) throw new BadInput(e.problems, file);
    throw e;
  }
  let base: Record<string, JsonValue>;
  let fallbackName = sweep.name;
  if (typeof sweep.base === "string") {
    const path = resolve(dirname(file), sweep.base);
    let parsed: unknown;
    try {
      parsed = readJsonFile(path, "base", "scenario .json file, relative to the sweep file");
    } catch (e) {
      if (e instanceof BadInput) throw new BadInput(e.problems.map((p) => ({ field: p.field === "base" ? "base" : `base (${sweep.base as string}): ${p.field}`, message: p.message })), file);
      throw e;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new BadInput([{ field: "base", message: `${show(sweep.base)} holds ${show(parsed)} (valid: a scenario object)` }], file);
    }
    base = parsed as Record<string, JsonValue>;
    fallbackName = basename(path).replace(/\.json$/, "");
  } else base = sweep.base;
  const cells = expandCells(sweep);
  const problems: Problem[] = [];
  let more = 0;
  const tasks: CellTask[] = [];
  const metrics = sweep.metrics.map((m) => m.name);
  for (const cell of cells) {
    let scenario: Record<string, JsonValue>;
    try {
      scenario = applyParams(base, cell.params);
      if (scenario.name === undefined) scenario.name = fallbackName;
      scenarioFromObject(scenario, { registry, name: fallbackName });
    } catch (e) {
      const found: readonly Problem[] = e instanceof BadInput ? e.problems : e instanceof SweepError ? e.problems : [];
      if (found.length === 0) throw e;
      for (const p of found) {
        if (problems.length >= PROBLEMS_KEPT) more++;
        else problems.push({ field: `${cellLabel(cell)}: ${p.field}`, message: p.message });
      }
      if (e instanceof BadInput) more += e.more;
      continue;
    }
    tasks.push({ scenario, metrics });
  }
  if (problems.length) throw new BadInput(problems, file, more);
  return { sweep, cells, tasks, hashes: tasks.map((t) => cellHash(t)) };
}
