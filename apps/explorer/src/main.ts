/**
 * The explorer page: the kernel form and scenario editor, the run in a Web Worker (progress,
 * cancel), and the results: the isolated CPUs beside the baseline, noise bars by source (uPlot),
 * the timeline of the isolated CPUs with each interruption's cause, every CPU in a virtual list.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { formatNs, presets } from "@isolsim/core";
import type { Report, TraceRecord } from "@isolsim/core";
import { BadInput, DEFAULT_PRESET, describeMechanisms, inertJson, parseJson, registry, safeMessage, scenarioFromObject } from "@isolsim/scenario";
import type { Problem } from "@isolsim/scenario";
import { differenceFromBaseline, formOf, isolatedSums, noiseBars, reportProblem, sourcesOf, withForm } from "./model.js";
import type { KernelForm } from "./model.js";
import type { WorkerReply, WorkerRequest } from "./protocol.js";
import { marksNear, timelineMarks } from "./timeline.js";
import type { Mark } from "./timeline.js";

/** The showcase scenarios of apps/demo, bundled at build time, by file name without `.json`. */
const showcases: Record<string, unknown> = Object.fromEntries(
  Object.entries(import.meta.glob<unknown>("../../demo/scenarios/*.json", { eager: true, import: "default" }))
    .map(([path, v]) => [path.replace(/^.*\//, "").replace(/\.json$/, ""), v] as const)
    .sort(([a], [b]) => (a === "showcase" ? -1 : b === "showcase" ? 1 : a < b ? -1 : 1)),
);

/** Trace records kept for the timeline: the first two seconds (the Perfetto download runs again and keeps all). */
const TIMELINE_WINDOW_NS = 2_000_000_000;
/** Isolated CPUs drawn on the timeline at once; the others are a page away. */
const ROWS_PER_PAGE = 16;
/** Height of a row of the every-CPU list, px (the list draws only the rows in view). */
const ROW_PX = 22;

const COLORS: Record<string, string> = {
  tick: "#4e79a7",
  spurious_timer: "#a0cbe8",
  ipi_tlb_flush: "#f28e2b",
  ipi_irq_work: "#ffbe7d",
  ipi_call_function: "#59a14f",
  ipi_resched: "#8cd17d",
  kworker_lru_drain: "#b6992d",
  kworker_vmstat: "#f1ce63",
  kworker_other: "#499894",
  kthread: "#e15759",
  rcu: "#b07aa1",
};
const colorOf = (source: string): string => COLORS[source] ?? "#79706e";

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`explorer: #${id} is missing from index.html`);
  return el as T;
};

const el = {
  select: $<HTMLSelectElement>("scenario-select"),
  scenarioFile: $<HTMLInputElement>("scenario-file"),
  reportFile: $<HTMLInputElement>("report-file"),
  description: $("scenario-description"),
  preset: $<HTMLSelectElement>("preset"),
  cpus: $<HTMLInputElement>("cpus"),
  nohzFull: $<HTMLInputElement>("nohz-full"),
  mechanisms: $("mechanisms"),
  text: $<HTMLTextAreaElement>("scenario-text"),
  details: $<HTMLDetailsElement>("scenario-details"),
  problems: $<HTMLUListElement>("problems"),
  run: $<HTMLButtonElement>("run"),
  cancel: $<HTMLButtonElement>("cancel"),
  progress: $<HTMLProgressElement>("progress"),
  status: $("status"),
  results: $("results"),
  resultsTitle: $("results-title"),
  digest: $("digest"),
  downloadReport: $<HTMLButtonElement>("download-report"),
  downloadTrace: $<HTMLButtonElement>("download-trace"),
  summary: $<HTMLTableElement>("summary"),
  bars: $("bars"),
  barsHousekeeping: $<HTMLInputElement>("bars-housekeeping"),
  timelineSection: $("timeline-section"),
  timelineTitle: $("timeline-title"),
  timeline: $("timeline"),
  rowsPrev: $<HTMLButtonElement>("rows-prev"),
  rowsNext: $<HTMLButtonElement>("rows-next"),
  rowsLabel: $("rows-label"),
  tooltip: $("tooltip"),
  cpuTable: $("cpu-table"),
};

const mechanismList = describeMechanisms(registry);

/** What the results show: a run's reports and timeline, or a loaded report. */
interface Result {
  /** The report shown. */
  report: Report;
  /** The baseline's report; null for a loaded report. */
  baseline: Report | null;
  /** The timeline's trace records; null for a loaded report. */
  records: TraceRecord[] | null;
  /** End of the timeline's window, ns. */
  windowNs: number;
  /** The scenario object and name that made it (what the Perfetto download runs again); null for a loaded report. */
  source: { scenario: unknown; name: string } | null;
  /** Heading of the results. */
  title: string;
}

/** What the page holds: the scenario being edited and the last result shown. */
const state = {
  scenario: {} as unknown,
  name: "showcase",
  runId: 0,
  worker: null as Worker | null,
  result: null as null | Result,
  marks: [] as Mark[],
  page: 0,
  bars: null as uPlot | null,
  timeline: null as uPlot | null,
};

// ---- the kernel form and the scenario text ----

function fillStatic(): void {
  for (const name of Object.keys(showcases)) el.select.add(new Option(name, name));
  for (const p of Object.values(presets)) el.preset.add(new Option(`${p.name} (${p.era})`, p.name));
  for (const m of mechanismList) {
    const row = document.createElement("div");
    row.className = "field mechanism";
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.mechanism = m.name;
    label.append(box, ` ${m.name}`);
    label.title = m.description;
    row.append(label);
    if (m.variants.length > 0) {
      const variant = document.createElement("select");
      variant.dataset.variant = m.name;
      for (const v of m.variants) variant.add(new Option(v, v));
      row.append(variant);
      variant.addEventListener("change", onFormChange);
    }
    const builtIn = document.createElement("span");
    builtIn.className = "muted built-in";
    builtIn.dataset.builtIn = m.name;
    row.append(builtIn);
    const err = document.createElement("span");
    err.className = "field-error";
    err.dataset.mechanismError = m.name;
    row.append(err);
    box.addEventListener("change", onFormChange);
    el.mechanisms.append(row);
  }
}

function readForm(): KernelForm {
  const mechanisms: KernelForm["mechanisms"] = [];
  for (const m of mechanismList) {
    const box = el.mechanisms.querySelector<HTMLInputElement>(`input[data-mechanism="${m.name}"]`)!;
    if (!box.checked) continue;
    const variant = el.mechanisms.querySelector<HTMLSelectElement>(`select[data-variant="${m.name}"]`);
    // The default variant (listed first) is written as the bare name, as scenario files do.
    mechanisms.push(variant && variant.value !== m.variants[0] ? { name: m.name, variant: variant.value } : { name: m.name });
  }
  return { preset: el.preset.value, cpus: Number(el.cpus.value), nohzFull: el.nohzFull.value.trim(), mechanisms };
}

function showForm(): void {
  const form = formOf(state.scenario, DEFAULT_PRESET);
  if ([...el.preset.options].some((o) => o.value === form.preset)) el.preset.value = form.preset;
  el.cpus.value = String(form.cpus);
  el.nohzFull.value = form.nohzFull;
  const preset = presets[form.preset];
  for (const m of mechanismList) {
    const chosen = form.mechanisms.find((c) => c.name === m.name);
    el.mechanisms.querySelector<HTMLInputElement>(`input[data-mechanism="${m.name}"]`)!.checked = chosen !== undefined;
    const variant = el.mechanisms.querySelector<HTMLSelectElement>(`select[data-variant="${m.name}"]`);
    if (variant) variant.value = chosen?.variant ?? m.variants[0] ?? "";
    const inPreset = preset?.mechanisms.find((e) => e.name === m.name);
    el.mechanisms.querySelector<HTMLElement>(`span[data-built-in="${m.name}"]`)!.textContent = inPreset
      ? `built into ${form.preset}${inPreset.variant ? ` (${inPreset.variant})` : ""}; checking it replaces the preset's entry`
      : "";
  }
  const d = (state.scenario as { description?: unknown }).description;
  el.description.textContent = typeof d === "string" ? d : "";
}

function showText(): void {
  el.text.value = JSON.stringify(state.scenario, null, 2);
}

function onFormChange(): void {
  state.scenario = withForm(state.scenario, readForm());
  showText();
  showForm();
  validate();
}

/** Sets the scenario being edited (a showcase, a loaded file, the text). */
function setScenario(scenario: unknown, name: string, opts: { text?: boolean } = {}): void {
  state.scenario = scenario;
  state.name = name;
  showForm();
  if (opts.text !== false) showText();
  validate();
}

// ---- problems, next to their fields ----

/** The form element a problem's field belongs next to; null for fields the form does not show. */
function errorSlotOf(field: string): HTMLElement | null {
  for (const f of ["kernel.preset", "kernel.cpus", "kernel.nohz_full"]) {
    if (field === f) return document.querySelector<HTMLElement>(`.field-error[data-field="${f}"]`);
  }
  const m = /^kernel\.mechanisms\[(\d+)\]/.exec(field);
  if (m) {
    const entry = formOf(state.scenario, DEFAULT_PRESET).mechanisms[Number(m[1])];
    const slot = entry ? el.mechanisms.querySelector<HTMLElement>(`span[data-mechanism-error="${entry.name}"]`) : null;
    return slot ?? document.querySelector<HTMLElement>('.field-error[data-field="kernel.mechanisms"]');
  }
  return null;
}

function showProblems(problems: readonly Problem[], more = 0): void {
  for (const slot of document.querySelectorAll<HTMLElement>(".field-error")) slot.textContent = "";
  el.problems.replaceChildren();
  for (const p of problems) {
    const line = `${safeMessage(p.field)}: ${safeMessage(p.message)}`;
    const slot = errorSlotOf(p.field);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent}; ${p.message}` : p.message;
    const li = document.createElement("li");
    li.dataset.field = p.field;
    const code = document.createElement("code");
    code.textContent = p.field;
    li.append(code, `: ${safeMessage(p.message)}`);
    li.title = line;
    el.problems.append(li);
  }
  if (more > 0) {
    const li = document.createElement("li");
    li.textContent = `… and ${more} more`;
    el.problems.append(li);
  }
  el.run.disabled = problems.length > 0;
}

/** Validates the scenario with the CLI's rules; shows every problem next to its field. */
function validate(): boolean {
  try {
    scenarioFromObject(state.scenario, { registry, name: state.name });
    showProblems([]);
    return true;
  } catch (e) {
    if (e instanceof BadInput) {
      showProblems(e.problems, e.more);
      return false;
    }
    showProblems([{ field: "(scenario)", message: `internal error while checking: ${e instanceof Error ? e.message : String(e)}` }]);
    return false;
  }
}

function onTextInput(): void {
  try {
    setScenario(parseJson(el.text.value), state.name, { text: false });
  } catch (e) {
    if (e instanceof BadInput) showProblems(e.problems, e.more);
    else throw e;
  }
}

async function onScenarioFile(): Promise<void> {
  const file = el.scenarioFile.files?.[0];
  if (!file) return;
  const name = file.name.replace(/\.json$/, "");
  el.select.value = "";
  try {
    setScenario(parseJson(await file.text()), name);
  } catch (e) {
    if (!(e instanceof BadInput)) throw e;
    state.name = name;
    showProblems(e.problems, e.more);
  }
  el.status.textContent = `loaded ${file.name}`;
}

// ---- running in the worker ----

function stopWorker(): void {
  state.worker?.terminate();
  state.worker = null;
  el.cancel.disabled = true;
  el.run.disabled = false;
  el.downloadTrace.disabled = !state.result?.source;
}

/** Starts a worker for one request (ending any other): the run button waits, cancel can stop it. */
function startWorker(req: WorkerRequest): Worker {
  stopWorker();
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  state.worker = worker;
  el.run.disabled = true;
  el.cancel.disabled = false;
  el.downloadTrace.disabled = true;
  el.progress.value = 0;
  worker.onerror = (e) => {
    stopWorker();
    el.status.textContent = `internal error (a bug in isolsim): ${safeMessage(e.message)}`;
  };
  worker.postMessage(req);
  return worker;
}

function run(): void {
  if (!validate()) return;
  const id = ++state.runId;
  const source = { scenario: structuredClone(state.scenario), name: state.name };
  const hasOwnMechanisms = formOf(state.scenario, DEFAULT_PRESET).mechanisms.length > 0;
  const worker = startWorker({ type: "run", id, scenario: source.scenario, name: source.name, windowNs: TIMELINE_WINDOW_NS });
  el.status.textContent = "running…";
  worker.onmessage = (e: MessageEvent<WorkerReply>) => {
    const msg = e.data;
    if (msg.id !== state.runId) return;
    if (msg.type === "progress") {
      // The run, then (when the scenario has mechanisms of its own) the baseline: half each.
      const part = msg.done / msg.total;
      el.progress.value = hasOwnMechanisms ? (msg.phase === "run" ? part / 2 : 0.5 + part / 2) : part;
      el.status.textContent = `${msg.phase === "run" ? "running" : "running the baseline"}: ${formatNs(Math.round(msg.done / 1e6) * 1e6)} of ${formatNs(msg.total)} simulated`;
      return;
    }
    stopWorker();
    if (msg.type === "invalid") {
      showProblems(msg.problems, msg.more);
      el.status.textContent = "bad input: see the fields named above";
    } else if (msg.type === "crash") {
      el.status.textContent = `internal error (a bug in isolsim): ${safeMessage(msg.message)}`;
    } else if (msg.type === "done") {
      el.progress.value = 1;
      const violations = msg.report.invariants.violations.length;
      el.status.textContent = `done: ${msg.report.events} events${violations ? `, ${violations} invariant violation(s)` : ", no invariant violated"}${msg.warnings.length ? `; kernel: ${msg.warnings.map(safeMessage).join("; ")}` : ""}`;
      const t0 = performance.now();
      showResult({ report: msg.report, baseline: msg.baseline, records: msg.records, windowNs: msg.windowNs, source, title: `${msg.report.scenario}: ${describeKernel(msg.report)}` });
      el.status.dataset.drawMs = String(Math.round(performance.now() - t0));
    }
  };
}

/**
 * The Perfetto download: the shown run again in the worker, every record kept, formatted as
 * `isolsim run --trace` writes it (the same bytes), then saved.
 */
function downloadTrace(): void {
  const result = state.result;
  if (!result?.source) return;
  const id = ++state.runId;
  const name = `${result.report.scenario}.perfetto.json`;
  const worker = startWorker({ type: "trace", id, scenario: result.source.scenario, name: result.source.name });
  el.status.textContent = "recording the whole run for the trace…";
  worker.onmessage = (e: MessageEvent<WorkerReply>) => {
    const msg = e.data;
    if (msg.id !== state.runId) return;
    if (msg.type === "progress") {
      el.progress.value = msg.done / msg.total;
      el.status.textContent = `recording the trace: ${formatNs(Math.round(msg.done / 1e6) * 1e6)} of ${formatNs(msg.total)} simulated`;
      return;
    }
    stopWorker();
    if (msg.type === "traced") {
      el.progress.value = 1;
      download(name, msg.perfetto, "application/json");
      el.status.textContent = `trace saved as ${name} (${(msg.perfetto.length / 1e6).toFixed(1)} MB): open it in ui.perfetto.dev`;
    } else if (msg.type === "crash") {
      el.status.textContent = `internal error (a bug in isolsim): ${safeMessage(msg.message)}`;
    } else if (msg.type === "invalid") {
      el.status.textContent = `internal error (a bug in isolsim): the shown run's scenario is no longer valid`;
    }
  };
}

function cancel(): void {
  state.runId++;
  stopWorker();
  el.progress.value = 0;
  el.status.textContent = "cancelled";
}

const describeKernel = (r: Report): string => {
  const mech = r.kernel.mechanisms.map((m) => (m.variant ? `${m.name}:${m.variant}` : m.name)).join(", ") || "no mechanisms";
  return `${r.kernel.preset}, ${r.kernel.cpus} CPUs, nohz_full=${r.kernel.nohz_full || "(none)"}, ${mech}`;
};

// ---- results ----

function showResult(result: NonNullable<typeof state.result>): void {
  state.result = result;
  el.results.hidden = false;
  el.resultsTitle.textContent = result.title;
  el.digest.textContent = String(result.report.digest);
  el.downloadTrace.disabled = result.source === null;
  showSummary(result.report, result.baseline);
  showBars(result.report);
  const isolated = new Set(result.report.cpus.filter((c) => c.isolated).map((c) => c.cpu));
  state.marks = result.records ? timelineMarks(result.records, isolated) : [];
  state.page = 0;
  el.timelineSection.hidden = result.records === null;
  if (result.records) showTimeline();
  showCpuTable(result.report);
}

function cell(row: HTMLTableRowElement, text: string, opts: { header?: boolean; id?: string; value?: number } = {}): void {
  const c = document.createElement(opts.header ? "th" : "td");
  c.textContent = text;
  if (opts.id) c.id = opts.id;
  if (opts.value !== undefined) c.dataset.value = String(opts.value);
  row.append(c);
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

function showSummary(report: Report, baseline: Report | null): void {
  el.summary.replaceChildren();
  const head = el.summary.createTHead().insertRow();
  for (const h of ["source", `this run (${isolatedSums(report).cpus} isolated CPUs)`, ...(baseline ? ["baseline", "difference"] : [])]) cell(head, h, { header: true });
  const body = el.summary.createTBody();
  const rows = differenceFromBaseline(report, baseline ?? report);
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.key = r.key;
    cell(tr, r.key, { header: true });
    cell(tr, String(r.value), { id: r.key === "tick" ? "iso-tick" : `iso-${r.key}`, value: r.value });
    if (baseline) {
      cell(tr, String(r.baseline), { value: r.baseline });
      cell(tr, signed(r.delta), { value: r.delta });
      if (r.delta < 0) tr.classList.add("better");
      else if (r.delta > 0) tr.classList.add("worse");
    }
  }
}

function chartWidth(container: HTMLElement): number {
  return Math.max(480, Math.min(1400, container.clientWidth || document.body.clientWidth - 40));
}

function showBars(report: Report): void {
  state.bars?.destroy();
  const shown = el.barsHousekeeping.checked ? report.cpus : report.cpus.filter((c) => c.isolated);
  const bars = noiseBars(shown.length ? shown : report.cpus, 64);
  const sources = sourcesOf(report).filter((s) => bars.some((b) => (b.counts[s] ?? 0) > 0));
  const xs = bars.map((_, i) => i);
  // Stacked: series k is the sum of sources 0..k; drawn from the tallest down so each shows its own band.
  const cumulative: number[][] = [];
  let acc = bars.map(() => 0);
  for (const s of sources) {
    acc = acc.map((v, i) => v + (bars[i]!.counts[s] ?? 0));
    cumulative.push(acc);
  }
  const order = sources.map((_, i) => i).reverse();
  const barPaths = uPlot.paths.bars!({ size: [0.8, 48] });
  const opts: uPlot.Options = {
    width: chartWidth(el.bars),
    height: 280,
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [
      { values: (_u, splits) => splits.map((v) => bars[Math.round(v)]?.label.replace("CPUs ", "").replace("CPU ", "") ?? ""), splits: () => xs.filter((i) => bars.length <= 16 || i % Math.ceil(bars.length / 16) === 0), label: "CPU (isolated ones shaded; many CPUs: consecutive ones share a bar, counts summed)" },
      { label: "interruptions" },
    ],
    series: [
      { label: "CPU", value: (_u, v) => (v === null ? "" : (bars[Math.round(v)]?.label ?? "")) },
      ...order.map((k) => ({
        label: sources[k]!,
        fill: colorOf(sources[k]!),
        stroke: colorOf(sources[k]!),
        width: 0,
        paths: barPaths,
        points: { show: false },
        value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => (idx === null ? "" : String(bars[idx]?.counts[sources[k]!] ?? 0)),
      })),
    ],
    hooks: {
      drawClear: [
        (u: uPlot) => {
          // Shade the isolated CPUs' bars so housekeeping CPUs stand apart.
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = "rgba(78,121,167,0.07)";
          bars.forEach((b, i) => {
            if (!b.isolated) return;
            const x0 = u.valToPos(i - 0.5, "x", true);
            const x1 = u.valToPos(i + 0.5, "x", true);
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
          });
          ctx.restore();
        },
      ],
    },
  };
  state.bars = new uPlot(opts, [xs, ...order.map((k) => cumulative[k]!)], el.bars);
}

// ---- the timeline ----

function timelineRows(): { cpus: number[]; senders: number[]; pages: number } {
  const report = state.result!.report;
  const isolated = report.cpus.filter((c) => c.isolated).map((c) => c.cpu);
  const pages = Math.max(1, Math.ceil(isolated.length / ROWS_PER_PAGE));
  const cpus = isolated.slice(state.page * ROWS_PER_PAGE, (state.page + 1) * ROWS_PER_PAGE);
  const onPage = new Set(cpus);
  const senders = new Set<number>();
  for (const m of state.marks) if (m.cause && onPage.has(m.cpu) && !onPage.has(m.cause.from)) senders.add(m.cause.from);
  return { cpus, senders: [...senders].sort((a, b) => a - b).slice(0, 4), pages };
}

function showTimeline(): void {
  state.timeline?.destroy();
  el.tooltip.hidden = true;
  const result = state.result!;
  const { cpus, senders, pages } = timelineRows();
  el.rowsLabel.textContent = cpus.length ? `isolated CPUs ${cpus[0]}-${cpus[cpus.length - 1]} (page ${state.page + 1} of ${pages})` : "no isolated CPUs";
  el.rowsPrev.disabled = state.page === 0;
  el.rowsNext.disabled = state.page >= pages - 1;
  el.timelineTitle.textContent = `Timeline of the isolated CPUs, first ${formatNs(result.windowNs)} (measured window starts at ${formatNs(result.report.simulated_ns - result.report.measured_ns)})`;
  const rows = [...senders, ...cpus];
  const rowOf = new Map(rows.map((c, i) => [c, i] as const));
  const marks = state.marks.filter((m) => rowOf.has(m.cpu));
  const sources = sourcesOf(result.report).filter((s) => marks.some((m) => m.source === s));
  const byTime = [...marks].sort((a, b) => a.ts - b.ts);
  // The window's two ends carry no mark: the x axis spans the whole window, and zooming (drag) and
  // resetting (double-click) work on data alone.
  const xs = [0, ...byTime.map((m) => m.ts / 1e6), result.windowNs / 1e6];
  const ys = sources.map((s) => [null, ...byTime.map((m) => (m.source === s ? rowOf.get(m.cpu)! : null)), null]);
  const opts: uPlot.Options = {
    width: chartWidth(el.timeline),
    height: Math.max(160, 26 * rows.length + 60),
    cursor: { points: { show: false }, drag: { x: true, y: false } },
    scales: { x: { time: false }, y: { range: () => [-0.5, rows.length - 0.5], dir: -1 } },
    axes: [
      { label: "ms" },
      { splits: () => rows.map((_, i) => i), values: (_u, splits) => splits.map((i) => `CPU ${rows[i]}${i < senders.length ? " (sender)" : ""}`), size: 110, grid: { show: true } },
    ],
    series: [
      { label: "ms" },
      ...sources.map((s) => ({ label: s, stroke: colorOf(s), fill: colorOf(s), paths: () => null, points: { show: true, size: 7, width: 0, fill: colorOf(s) } })),
    ],
    legend: { live: false },
    hooks: { setCursor: [(u: uPlot) => hover(u, rows, marks)] },
  };
  state.timeline = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, el.timeline);
}

const SVG = "http://www.w3.org/2000/svg";

/** Most marks listed in the tooltip of one pointer position. */
const TOOLTIP_MARKS = 8;

function hover(u: uPlot, rows: number[], marks: Mark[]): void {
  u.over.querySelector("svg.flow")?.remove();
  const { left, top } = u.cursor;
  if (left === undefined || top === undefined || left < 0 || top < 0) {
    el.tooltip.hidden = true;
    return;
  }
  const row = Math.round(u.posToVal(top, "y"));
  const cpu = rows[row];
  const ms = u.posToVal(left, "x");
  const tolerance = (u.posToVal(left + 5, "x") - ms) * 1e6;
  const near = cpu === undefined ? [] : marksNear(marks, cpu, ms * 1e6, tolerance);
  if (near.length === 0) {
    el.tooltip.hidden = true;
    return;
  }
  const at = (ns: number) => `${(ns / 1e6).toFixed(4)} ms`;
  const lines = [`CPU ${cpu}, ${near.length} interruption${near.length > 1 ? "s" : ""} here:`];
  for (const m of near.slice(0, TOOLTIP_MARKS)) {
    const cause = m.cause ? ` ← CPU ${m.cause.from} sent it at ${at(m.cause.sentNs)}` : "";
    lines.push(`${at(m.ts)} ${m.source}: ${m.name}, ${(m.end - m.ts) / 1000} µs${cause}`);
  }
  if (near.length > TOOLTIP_MARKS) lines.push(`… and ${near.length - TOOLTIP_MARKS} more (zoom in: drag across the time axis)`);
  el.tooltip.textContent = lines.join("\n");
  el.tooltip.hidden = false;
  const box = u.over.getBoundingClientRect();
  el.tooltip.style.left = `${box.left + window.scrollX + left + 12}px`;
  el.tooltip.style.top = `${box.top + window.scrollY + top + 12}px`;
  // The flows, drawn over the plot: from the sender's row (or the top edge, when it is not shown) at the send, to the mark.
  const svg = document.createElementNS(SVG, "svg");
  svg.classList.add("flow");
  svg.setAttribute("width", String(u.over.clientWidth));
  svg.setAttribute("height", String(u.over.clientHeight));
  for (const m of near.slice(0, TOOLTIP_MARKS)) {
    if (!m.cause) continue;
    const fromRow = rows.indexOf(m.cause.from);
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", String(u.valToPos(m.cause.sentNs / 1e6, "x")));
    line.setAttribute("y1", String(fromRow >= 0 ? u.valToPos(fromRow, "y") : 0));
    line.setAttribute("x2", String(u.valToPos(m.ts / 1e6, "x")));
    line.setAttribute("y2", String(u.valToPos(row, "y")));
    svg.append(line);
  }
  u.over.append(svg);
}

// ---- every CPU, a virtual list ----

function showCpuTable(report: Report): void {
  el.cpuTable.replaceChildren();
  const header = document.createElement("div");
  header.className = "vrow vhead";
  const cols = ["CPU", "isolated", "noise µs", "max single µs", "% CPU aval", "tick", "all interruptions"];
  for (const c of cols) {
    const s = document.createElement("span");
    s.textContent = c;
    header.append(s);
  }
  const viewport = document.createElement("div");
  viewport.className = "viewport";
  const spacer = document.createElement("div");
  spacer.style.height = `${report.cpus.length * ROW_PX}px`;
  spacer.style.position = "relative";
  viewport.append(spacer);
  el.cpuTable.append(header, viewport);
  const draw = (): void => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_PX) - 5);
    const last = Math.min(report.cpus.length, first + Math.ceil(viewport.clientHeight / ROW_PX) + 10);
    spacer.replaceChildren();
    for (let i = first; i < last; i++) {
      const c = report.cpus[i]!;
      const row = document.createElement("div");
      row.className = c.isolated ? "vrow isolated" : "vrow";
      row.style.top = `${i * ROW_PX}px`;
      const total = Object.values(c.interruptions).reduce((a, b) => a + b, 0);
      for (const v of [String(c.cpu), c.isolated ? "yes" : "", (c.noise_ns / 1000).toFixed(1), (c.max_single_noise_ns / 1000).toFixed(1), c.available_pct.toFixed(5), String(c.interruptions.tick ?? 0), String(total)]) {
        const s = document.createElement("span");
        s.textContent = v;
        row.append(s);
      }
      spacer.append(row);
    }
  };
  viewport.addEventListener("scroll", draw, { passive: true });
  draw();
}

// ---- loading a report, downloads ----

async function onReportFile(): Promise<void> {
  const file = el.reportFile.files?.[0];
  if (!file) return;
  let value: unknown;
  try {
    value = JSON.parse(await file.text());
  } catch (e) {
    el.status.textContent = `${file.name}: not valid JSON: ${safeMessage((e as Error).message)}`;
    return;
  }
  const problem = reportProblem(value);
  if (problem) {
    el.status.textContent = `${file.name}: ${safeMessage(problem)}`;
    return;
  }
  const report = value as Report;
  el.status.textContent = `viewing ${file.name} (a report: no timeline or baseline; run a scenario for those)`;
  showResult({ report, baseline: null, records: null, windowNs: 0, source: null, title: `${safeMessage(String(report.scenario))}: ${describeKernel(report)}` });
}

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- wiring ----

fillStatic();
el.select.addEventListener("change", () => setScenario(structuredClone(showcases[el.select.value]), el.select.value));
el.preset.addEventListener("change", onFormChange);
el.barsHousekeeping.addEventListener("change", () => {
  if (state.result) showBars(state.result.report);
});
el.cpus.addEventListener("change", onFormChange);
el.nohzFull.addEventListener("change", onFormChange);
el.text.addEventListener("input", onTextInput);
el.scenarioFile.addEventListener("change", () => void onScenarioFile());
el.reportFile.addEventListener("change", () => void onReportFile());
el.run.addEventListener("click", run);
el.cancel.addEventListener("click", cancel);
el.rowsPrev.addEventListener("click", () => {
  state.page--;
  showTimeline();
});
el.rowsNext.addEventListener("click", () => {
  state.page++;
  showTimeline();
});
el.downloadReport.addEventListener("click", () => {
  if (state.result) download(`${state.result.report.scenario}.report.json`, inertJson(state.result.report) + "\n", "application/json");
});
el.downloadTrace.addEventListener("click", downloadTrace);
el.select.value = "showcase";
setScenario(structuredClone(showcases.showcase), "showcase");
document.body.dataset.ready = "true";
