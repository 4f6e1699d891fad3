/**
 * The simulation worker: validates the scenario with the CLI's rules (@isolsim/scenario), runs it
 * and its baseline with `simulate()`, posting progress; on request runs it again recording
 * everything for the Perfetto download. The page cancels by terminating it.
 */
import { TraceRecorder, completeTrace, simulate } from "@isolsim/core";
import type { ScenarioSpec } from "@isolsim/core";
import { formatPerfetto, traceMetaOf } from "@isolsim/report";
import { BadInput, registry, scenarioFromObject } from "@isolsim/scenario";
import type { RunRequest, TraceRequest, WorkerReply, WorkerRequest } from "./protocol.js";
import { WindowRecorder } from "./timeline.js";

const scope = self as unknown as { postMessage(m: WorkerReply): void; onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null };

/** The scenario of a request, or null once its problems are posted. */
function specOf(req: RunRequest | TraceRequest): ScenarioSpec | null {
  try {
    return scenarioFromObject(req.scenario, { registry, name: req.name });
  } catch (e) {
    if (e instanceof BadInput) {
      scope.postMessage({ type: "invalid", id: req.id, problems: [...e.problems], more: e.more });
      return null;
    }
    throw e;
  }
}

/** Runs one request, posting progress and the result. */
function run(req: RunRequest): void {
  const { id } = req;
  const spec = specOf(req);
  if (!spec) return;
  const recorder = new WindowRecorder(Math.min(req.windowNs, spec.duration));
  const result = simulate(spec, { registry, trace: recorder, onProgress: (done, total) => scope.postMessage({ type: "progress", id, phase: "run", done, total }) });
  let baseline = result.report;
  if ((spec.kernel.mechanisms ?? []).length > 0) {
    const base: ScenarioSpec = { ...spec, kernel: { ...spec.kernel, mechanisms: [] } };
    baseline = simulate(base, { registry, onProgress: (done, total) => scope.postMessage({ type: "progress", id, phase: "baseline", done, total }) }).report;
  }
  scope.postMessage({
    type: "done",
    id,
    report: result.report,
    baseline,
    records: recorder.records,
    windowNs: recorder.windowNs,
    warnings: [...result.kernel.hk.warnings],
  });
}

/** Runs the scenario again with every record kept, as `isolsim run --trace` does (apps/demo run.ts). */
function trace(req: TraceRequest): void {
  const { id } = req;
  const spec = specOf(req);
  if (!spec) return;
  const recorder = new TraceRecorder();
  const result = simulate(spec, { registry, trace: recorder, onProgress: (done, total) => scope.postMessage({ type: "progress", id, phase: "trace", done, total }) });
  completeTrace(result.kernel, recorder, spec.duration);
  scope.postMessage({ type: "traced", id, perfetto: formatPerfetto(recorder.records, traceMetaOf(spec)) });
}

scope.onmessage = (e) => {
  try {
    if (e.data.type === "trace") trace(e.data);
    else run(e.data);
  } catch (err) {
    scope.postMessage({ type: "crash", id: e.data.id, message: err instanceof Error ? err.message : String(err) });
  }
};
