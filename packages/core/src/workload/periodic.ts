import type { Nanoseconds } from "../engine/engine.js";
import { EventPriority } from "../engine/engine.js";
import type { Kernel } from "../kernel.js";
import type { PeriodicSpec } from "../scenario.js";

/**
 * Fires `fn(cpu)` for each listed CPU every `every` ns from `at`, each firing delayed by a uniform
 * draw in [0, jitter] from the scenario's PRNG (the only randomness of a scenario).
 *
 * `pending` (optional, one flag per CPU) bounds an item whose firing leaves work that starts later
 * (a deferred syscall, a raised timer interrupt, a queued round): the item sets the CPU's flag when
 * a firing leaves such work and clears it when the work starts. A firing that finds the flag set is
 * an overrun and does nothing, as a periodic hrtimer that fires late runs its callback once and
 * hrtimer_forward() counts the missed periods (kernel/time/hrtimer.c). So at most one firing's work
 * waits per item and CPU, however short `every` is: memory is bounded by the workload, and the
 * work's cost, not the period, sets the pace. The PRNG draws are the same either way.
 */
export function periodic(k: Kernel, name: string, spec: PeriodicSpec, cpus: readonly number[], fn: (cpu: number) => void, pending?: Uint8Array): void {
  const every = spec.every;
  const jitter = spec.jitter ?? 0;
  const first = spec.at ?? every;
  // Each CPU's nominal time of its next firing (before jitter).
  const nominal = new Float64Array(k.nrCpus);
  const draw = (): Nanoseconds => (jitter > 0 ? k.engine.prng.intInclusive(jitter) : 0);
  const kind = k.engine.register(name, (cpu) => {
    if (pending === undefined || pending[cpu] === 0) {
      const prev = k.executingCpu;
      k.executingCpu = cpu;
      fn(cpu);
      k.executingCpu = prev;
    }
    const next = nominal[cpu]! + every;
    nominal[cpu] = next;
    k.engine.schedule(next + draw(), kind, cpu, 0, EventPriority.workload);
  });
  for (const cpu of cpus) {
    nominal[cpu] = first;
    k.engine.schedule(first + draw(), kind, cpu, 0, EventPriority.workload);
  }
}
