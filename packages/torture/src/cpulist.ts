import { CpuMask } from "@isolsim/core";
import type { Draw } from "./random.js";

/**
 * A random CPU list in the kernel's bitmap_parselist() grammar (lib/bitmap.c) whose CPUs lie in
 * [from, to] of a machine of `nrCpus`: 1-3 regions, each a CPU (`5`), a range (`2-6`), a stride
 * (`1-15:2/4`: the first 2 of every group of 4), `N` (the last CPU) or `a-N`, and `all` when the
 * whole machine is allowed. Regions may overlap, as the kernel allows.
 */
export function randomCpuList(d: Draw, nrCpus: number, from: number, to: number): string {
  const last = nrCpus - 1;
  const regions: string[] = [];
  const n = d.weighted([1, 2, 3], [6, 3, 1]);
  for (let i = 0; i < n; i++) {
    const a = d.int(from, to);
    const b = d.int(a, to);
    const end = b === last && d.chance(0.5) ? "N" : String(b);
    const kind = d.weighted(["cpu", "range", "stride", "all"], [4, 4, 3, from === 0 && to === last ? 1 : 0]);
    if (kind === "all") regions.push("all");
    else if (kind === "cpu") regions.push(a === last && d.chance(0.5) ? "N" : String(a));
    else if (kind === "range") regions.push(`${a}-${end}`);
    else {
      const group = d.int(1, Math.max(1, Math.min(8, b - a + 1)));
      regions.push(`${a}-${end}:${d.int(1, group)}/${group}`);
    }
  }
  return regions.join(",");
}

/** The CPUs of a list (CpuMask.parse(), the kernel's grammar), in increasing order. */
export function cpusOf(list: string, nrCpus: number): number[] {
  return CpuMask.parse(list, nrCpus).toArray();
}

/** The kernel's printed form (`%*pbl`) of a set of CPUs: `1-3,5`. */
export function listOf(cpus: readonly number[], nrCpus: number): string {
  return CpuMask.of(nrCpus, cpus).toString();
}
