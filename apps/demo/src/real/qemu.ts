import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { DONE_LINE } from "./initramfs.js";

/** What the guest boots. */
export interface GuestConfig {
  /** The kernel image (bzImage / vmlinuz). */
  kernel: string;
  /** The initramfs (gzip'd newc cpio). */
  initrd: string;
  /** vCPUs (the scenario's kernel.cpus). */
  cpus: number;
  /** The scenario's boot parameters (nohz_full=, isolcpus=, rcu_nocbs=, irqaffinity=). */
  bootParams: string;
  /** Where the second serial port (the guest's /dev/ttyS1: its trace and snapshots) is written. */
  serialOut: string;
}

/** Guest memory: the busybox image, the ring buffers (8 MiB per CPU) and the workload. */
export const GUEST_MEMORY_MB = 512;

/**
 * The qemu-system-x86_64 command line: TCG (`-accel tcg,thread=multi -cpu max`, nested KVM is
 * unusably slow on these machines), the console on ttyS0 (stdio, for boot errors), the guest's
 * output on ttyS1 (a file), no display, no reboot (a panic ends qemu instead of looping).
 */
export function qemuArgs(g: GuestConfig): string[] {
  const append = [g.bootParams, "console=ttyS0", "quiet", "panic=-1"].filter((s) => s !== "").join(" ");
  return [
    "-accel", "tcg,thread=multi",
    "-cpu", "max",
    "-smp", String(g.cpus),
    "-m", `${GUEST_MEMORY_MB}M`,
    "-kernel", g.kernel,
    "-initrd", g.initrd,
    "-append", append,
    "-display", "none",
    "-monitor", "none",
    "-serial", "stdio",
    "-serial", `file:${g.serialOut}`,
    "-no-reboot",
    "-nodefaults",
  ];
}

/** qemu failed: did not start, timed out, or the guest ended without its output; `console` holds its last lines. */
export class GuestError extends Error {
  constructor(
    message: string,
    /** The last lines of the guest's console (ttyS0). */
    readonly console: string[],
  ) {
    super(message);
    this.name = "GuestError";
  }
}

/** Console lines of the guest that mean a stage was reached, for progress. */
export type GuestStage = "booting" | "warming up" | "writing the trace";

/**
 * Runs qemu with {@link qemuArgs}; kills it after `timeoutMs` (never hangs). Resolves when the guest
 * powered off having written {@link DONE_LINE}; otherwise rejects with a {@link GuestError}
 * carrying the last console lines.
 */
export function runGuest(g: GuestConfig, timeoutMs: number, onStage: (s: GuestStage) => void = () => {}): Promise<{ console: string; wallMs: number }> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("qemu-system-x86_64", qemuArgs(g), { stdio: ["ignore", "pipe", "pipe"] });
    let console = "";
    let stderr = "";
    let timedOut = false;
    const stages: [string, GuestStage][] = [["isolsim: workload start", "warming up"], ["isolsim: workload done", "writing the trace"]];
    const seen = new Set<GuestStage>();
    const tail = (): string[] => (console + stderr).replace(/\r/g, "").split("\n").filter((l) => l.trim() !== "").slice(-15);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      console = (console + d.toString("utf8")).slice(-200_000);
      // a line may come in two chunks: look at what arrived so far
      for (const [line, s] of stages) {
        if (!seen.has(s) && console.includes(line)) {
          seen.add(s);
          onStage(s);
        }
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString("utf8")).slice(-20_000)));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new GuestError(`qemu-system-x86_64 could not be started: ${e.message}`, []));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let out = "";
      try {
        out = readFileSync(g.serialOut, "utf8");
      } catch {
        /* no output file: reported below */
      }
      const done = out.includes(DONE_LINE);
      if (timedOut) reject(new GuestError(`qemu did not finish within ${Math.round(timeoutMs / 1000)} s and was killed`, tail()));
      else if (!done) reject(new GuestError(`the guest ended (qemu ${signal !== null ? `signal ${signal}` : `exit ${code}`}) without writing its trace: the kernel did not boot or the workload failed`, tail()));
      else resolve({ console, wallMs: Date.now() - start });
    });
    onStage("booting");
  });
}

/** Splits the guest's serial output into its sections (`===== isolsim: begin NAME =====` … `end NAME`), carriage returns removed. */
export function splitSections(out: string): Map<string, string> {
  const sections = new Map<string, string>();
  const re = /^===== isolsim: begin (\S+) =====\r?\n([\s\S]*?)^===== isolsim: end \1 =====/gm;
  for (const m of out.matchAll(re)) sections.set(m[1]!, m[2]!.replace(/\r/g, ""));
  return sections;
}
