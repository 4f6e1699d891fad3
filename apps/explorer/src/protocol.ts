/** Messages between the page and the simulation worker. */
import type { Report, TraceRecord } from "@isolsim/core";
import type { Problem } from "@isolsim/scenario";

/** Page → worker: validate and run a scenario object, then its baseline. */
export interface RunRequest {
  /** Always `run`. */
  type: "run";
  /** Run number; replies carry it so a stale reply is ignored. */
  id: number;
  /** The scenario object, as a file holds it. */
  scenario: unknown;
  /** Name used when the scenario has none (the file's base name). */
  name: string;
  /** Trace records kept for the timeline: the first `windowNs`. */
  windowNs: number;
}

/**
 * Page → worker: run a scenario object again, recording everything, and format its Perfetto trace
 * as `isolsim run --trace` writes it (the run is deterministic: the same run, the whole of it).
 */
export interface TraceRequest {
  /** Always `trace`. */
  type: "trace";
  /** Run number; replies carry it so a stale reply is ignored. */
  id: number;
  /** The scenario object of the shown result. */
  scenario: unknown;
  /** Name used when the scenario has none. */
  name: string;
}

/** Anything the page asks the worker. */
export type WorkerRequest = RunRequest | TraceRequest;

/** Worker → page: the simulated time done in the current phase. */
export interface Progress {
  /** Always `progress`. */
  type: "progress";
  /** Run number. */
  id: number;
  /** `run` (the scenario), `baseline` (the same without mechanisms of its own) or `trace` (the run again, recorded). */
  phase: "run" | "baseline" | "trace";
  /** Simulated ns done. */
  done: number;
  /** Simulated ns in all. */
  total: number;
}

/** Worker → page: the scenario is bad input; the CLI's problems, field by field. */
export interface Invalid {
  /** Always `invalid`. */
  type: "invalid";
  /** Run number. */
  id: number;
  /** Problems, in file order. */
  problems: Problem[];
  /** Problems found beyond these and not kept. */
  more: number;
}

/** Worker → page: the reports and the timeline's records. */
export interface Done {
  /** Always `done`. */
  type: "done";
  /** Run number. */
  id: number;
  /** The report, as `isolsim run --json` prints it. */
  report: Report;
  /** The baseline's report (the run's own when the scenario has no mechanisms of its own). */
  baseline: Report;
  /** Trace records of the first `windowNs`. */
  records: TraceRecord[];
  /** End of the recorded window, ns. */
  windowNs: number;
  /** The kernel's warnings (as `isolsim run` prints on stderr). */
  warnings: string[];
}

/** Worker → page: the whole run's Perfetto trace, byte for byte what `isolsim run --trace` writes. */
export interface Traced {
  /** Always `traced`. */
  type: "traced";
  /** Run number. */
  id: number;
  /** Chrome trace-event JSON (ui.perfetto.dev). */
  perfetto: string;
}

/** Worker → page: a bug (an exception that is not bad input). */
export interface Crash {
  /** Always `crash`. */
  type: "crash";
  /** Run number. */
  id: number;
  /** The exception's message. */
  message: string;
}

/** Anything the worker posts. */
export type WorkerReply = Progress | Invalid | Done | Traced | Crash;
