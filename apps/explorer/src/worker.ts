/**
 * The simulation worker: validates the scenario with the CLI's rules (@isolsim/scenario), runs it
 * and its baseline with `simulate()`, posting progress; the page cancels by terminating it.
 */
import { simulate } from "@isolsim/core";
import type { ScenarioSpec } from "@isolsim/core";
import { formatPerfetto } from "@isolsim/report";
import { BadInput, registry, scenarioFromObject } from "@isolsim/scenario";
import type { RunRequest, WorkerReply } from "./protocol.js";
import { WindowRecorder } from "./timeline.js";

const scope = self as unknown as { postMessage(m: WorkerReply): void; onmessage: ((e: MessageEvent<RunRequest>) => void) | null };

/** Runs one request, posting progress and the result. */
function run(req: RunRequest): void {
  const { id } = req;
  let spec: ScenarioSpec;
  try {
    spec = scenarioFromObject(req.scenario, { registry, name: req.name });
  } catch (e) {
    if (e instanceof BadInput) {
      scope.postMessage({ type: "invalid", id, problems: [...e.problems], more: e.more });
      return;
    }
    throw e;
  }
  const recorder = new WindowRecorder(Math.min(req.windowNs, spec.duration));
  const result = simulate(spec, { registry, trace: recorder, onProgress: (done, total) => scope.postMessage({ type: "progress", id, phase: "run", done, total }) });
  let baseline = result.report;
  if ((spec.kernel.mechanisms ?? []).length > 0) {
    const base: ScenarioSpec = { ...spec, kernel: { ...spec.kernel, mechanisms: [] } };
    baseline = simulate(base, { registry, onProgress: (done, total) => scope.postMessage({ type: "progress", id, phase: "baseline", done, total }) }).report;
  }
  const title = `isolsim ${spec.name} (${spec.kernel.preset}, ${spec.kernel.cpus} CPUs, seed ${spec.seed}), first ${recorder.windowNs} ns`;
  scope.postMessage({
    type: "done",
    id,
    report: result.report,
    baseline,
    records: recorder.records,
    windowNs: recorder.windowNs,
    perfetto: formatPerfetto(recorder.records, { title, cpus: spec.kernel.cpus }),
    warnings: [...result.kernel.hk.warnings],
  });
}

scope.onmessage = (e) => {
  try {
    run(e.data);
  } catch (err) {
    scope.postMessage({ type: "crash", id: e.data.id, message: err instanceof Error ? err.message : String(err) });
  }
};
