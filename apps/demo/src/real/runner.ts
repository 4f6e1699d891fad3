import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { ScenarioSpec } from "@isolsim/core";
import { BUFFER_SIZE_KB, buildInitramfs, buildWorkload, findBusybox, initramfsLayout, MissingTool, which } from "./initramfs.js";
import { cacheDir, defaultKernelPackage, kernelFromPackage, kernelFromPath, presetForRelease } from "./kernel.js";
import type { GuestKernel } from "./kernel.js";
import { GuestError, runGuest, splitSections } from "./qemu.js";
import type { GuestStage } from "./qemu.js";
import { guestBootParams, workloadArgs } from "./workload.js";

/** Where the kernel comes from: `--kernel PATH`, `--kernel-package NAME`, or the default Debian 12 6.1 package. */
export type KernelChoice = { path: string } | { package: string } | "default";

/** What {@link runReal} needs besides the scenario. */
export interface RealOptions {
  /** The kernel to boot. */
  kernel: KernelChoice;
  /** Directory the raw output is written to (trace.txt, interrupts.before.txt, …). */
  outDir: string;
  /** Cache directory (kernels, workload binaries, initramfs images). */
  cache?: string;
  /** Progress: a stage name (booting, warming up, measuring, …). */
  onStage?: (stage: string) => void;
}

/** The files a real run leaves in its output directory, by section. */
export const OUTPUT_FILES = {
  trace: "trace.txt",
  "interrupts.before": "interrupts.before.txt",
  "interrupts.after": "interrupts.after.txt",
  ps: "ps.txt",
  setup: "setup.txt",
  cmdline: "cmdline.txt",
  uname: "uname.txt",
} as const;

/** The outcome of a real run. */
export interface RealRun {
  /** The kernel booted. */
  kernel: GuestKernel;
  /** The preset matching the kernel, or null. */
  preset: string | null;
  /** Paths of the files written, by section. */
  files: Record<keyof typeof OUTPUT_FILES, string>;
  /** What the guest said while setting up tracing (one `event …`, `missing-event …`, `function …`, `rejected-function …` per line). */
  setup: string[];
  /** Things the report must not hide: HZ mismatch, emulated durations, substitutes for workload types. */
  notes: string[];
  /** Wall time of qemu, ms. */
  wallMs: number;
}

/** The workload program's source: beside this module in src/, or ../src/real from the bundled dist/. */
export function workloadSource(): string {
  for (const rel of ["./workload.c", "../src/real/workload.c"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("workload.c not found beside the isolsim code (apps/demo/src/real/workload.c)");
}

/** How long qemu may run before it is killed: boot and trace dump allowances plus the scenario's duration, twice (TCG runs slower than the guest's clock). */
export function guestTimeoutMs(spec: ScenarioSpec): number {
  return 120_000 + 2 * Math.ceil(spec.duration / 1e6);
}

/**
 * Runs a scenario on a real kernel under qemu: resolves the kernel, builds (or reuses) the
 * workload program and the initramfs, boots, and writes the guest's sections to `outDir`.
 * Throws {@link MissingTool}, {@link KernelUnavailable} (exit 2) or {@link GuestError}.
 */
export async function runReal(spec: ScenarioSpec, opts: RealOptions): Promise<RealRun> {
  const stage = opts.onStage ?? (() => {});
  const args = workloadArgs(spec);
  // a --kernel PATH is checked first (no tool needed); a package is fetched only once qemu is known to exist
  const given = opts.kernel !== "default" && "path" in opts.kernel ? kernelFromPath(opts.kernel.path) : null;
  if (which("qemu-system-x86_64") === null) throw new MissingTool("qemu-system-x86_64", "qemu-system-x86");
  const cache = opts.cache ?? cacheDir();
  const kernel = given ?? kernelFromPackage(opts.kernel !== "default" && "package" in opts.kernel ? opts.kernel.package : defaultKernelPackage(), cache, stage);
  const busybox = findBusybox();
  stage("building the initramfs");
  const workload = buildWorkload(workloadSource(), join(cache, "workload"));
  const initrd = buildInitramfs(initramfsLayout(busybox, workload, args), join(cache, "initramfs"));
  mkdirSync(opts.outDir, { recursive: true });
  const serialOut = join(opts.outDir, "serial.txt");
  const { wallMs } = await runGuest(
    { kernel: kernel.image, initrd, cpus: spec.kernel.cpus, bootParams: guestBootParams(spec), serialOut },
    guestTimeoutMs(spec),
    (s: GuestStage) => stage(s === "warming up" ? "warming up, then measuring" : s),
  ).catch((e: unknown) => {
    if (e instanceof GuestError) {
      writeFileSync(join(opts.outDir, "console.txt"), e.console.join("\n") + "\n");
    }
    throw e;
  });
  const sections = splitSections(readFileSync(serialOut, "utf8"));
  const files = {} as Record<keyof typeof OUTPUT_FILES, string>;
  for (const [name, file] of Object.entries(OUTPUT_FILES) as [keyof typeof OUTPUT_FILES, string][]) {
    const text = sections.get(name);
    if (text === undefined) throw new GuestError(`the guest's output has no ${name} section`, []);
    files[name] = join(opts.outDir, file);
    writeFileSync(files[name], text);
  }
  rmSync(serialOut);
  const setup = sections.get("setup")!.split("\n").filter((l) => l !== "");
  const exit = setup.find((l) => l.startsWith("workload-exit "));
  if (exit !== "workload-exit 0") throw new GuestError(`the workload program failed in the guest (${exit ?? "no exit status"})`, setup);
  const preset = presetForRelease(kernel.release, kernel.rt);
  const notes: string[] = [
    "durations are emulated: the guest ran under qemu TCG, so noise_ns and max_single_noise_ns are an emulated machine's, not a real one's; counts and tick reasons are the kernel's own",
  ];
  const hz = spec.kernel.hz;
  if (kernel.hz === null) notes.push(`CONFIG_HZ of ${kernel.release} is unknown (no config beside the image)`);
  else if (hz !== undefined && hz !== kernel.hz) notes.push(`HZ mismatch: the scenario says hz=${hz}, the kernel ${kernel.release} was built with CONFIG_HZ=${kernel.hz}; tick counts are at ${kernel.hz} Hz`);
  const lost = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(sections.get("trace")!);
  if (lost && Number(lost[1]) < Number(lost[2])) {
    notes.push(`the ring buffer (${BUFFER_SIZE_KB} KiB per CPU) overflowed: ${Number(lost[2]) - Number(lost[1])} of ${lost[2]} events were overwritten, counts of the busiest CPUs are low (shorten the scenario)`);
  }
  const accepted = new Set(setup.filter((l) => l.startsWith("function ")).map((l) => l.slice("function ".length)));
  for (const l of setup) {
    const [what, name] = l.split(" ");
    // flush_tlb_func_remote() became flush_tlb_func() in v5.9: one of the two is enough
    const renamed = name === "flush_tlb_func_remote" ? "flush_tlb_func" : name === "flush_tlb_func" ? "flush_tlb_func_remote" : null;
    if (what === "missing-event") notes.push(`the kernel has no tracepoint ${name}: what it would count is unknown`);
    if (what === "rejected-function" && !(renamed !== null && accepted.has(renamed))) notes.push(`the kernel has no traceable function ${name}`);
  }
  return { kernel, preset, files, setup, notes, wallMs };
}
