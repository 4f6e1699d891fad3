import { InputError } from "@isolsim/core";
import type { Kernel, Mechanism, MechanismFactory, Nanoseconds } from "@isolsim/core";

/** Options of {@link residualTickStretch}. */
export interface ResidualTickStretchOptions {
  /** Seconds a busy nohz_full CPU may defer its tick (Linux 4.9: 1). Default 4. */
  seconds?: number;
}

/** The mechanism's name, as scenario files and errors give it. */
export const RESIDUAL_TICK_STRETCH = "residual-tick-stretch";

/**
 * residual-tick-stretch (a toy, written for docs/writing-a-mechanism.md): stretches the residual
 * tick of busy nohz_full CPUs. Linux 4.9 caps a busy CPU's tick stop at
 * scheduler_tick_max_deferment() = rq->last_sched_tick + HZ (one second); this mechanism replaces
 * the core's `kernel.maxDeferment` policy with last_sched_tick + `seconds` × HZ. Fewer residual
 * ticks, at the price of scheduler statistics (runtime, load average) that go `seconds` stale —
 * which is why mainline offloaded the tick instead (remote-stats), and why the two conflict.
 * Reports `mechanism_stats["residual-tick-stretch"]`: `deferment_ns` and `max_tick_gap_ns`, the
 * longest interval between two ticks of a CPU running a user task, measured window only.
 */
export function residualTickStretch(options: ResidualTickStretchOptions = {}, field = "options"): Mechanism {
  for (const key of Object.keys(options)) {
    if (key !== "seconds") throw new InputError(`${field}.${key}`, "unknown option (valid: seconds)");
  }
  const seconds = options.seconds ?? 4;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw new InputError(`${field}.seconds`, `${JSON.stringify(seconds)} is not valid (valid: an integer 1-3600)`);
  }
  return {
    name: RESIDUAL_TICK_STRETCH,
    description: `a busy nohz_full CPU defers its tick up to ${seconds} s instead of 1 s (stale scheduler statistics)`,
    conflicts: ["remote-stats"],
    install(k: Kernel): void {
      // One second of jiffies, as the core's own 4.9 policy computes it (TICK_NSEC × HZ).
      const deferment: Nanoseconds = seconds * k.tickPeriod * k.params.hz;
      k.maxDeferment = (cpu) => k.tick.ts[cpu]!.lastSchedTick + deferment;

      const lastTick: Nanoseconds[] = new Array<Nanoseconds>(k.nrCpus).fill(-1);
      let maxGap: Nanoseconds = 0;
      k.hooks.tick.push((cpu) => {
        const now = k.engine.now;
        const busy = k.cpus[cpu]!.curr?.user === true;
        const last = lastTick[cpu]!;
        if (busy && last >= 0 && k.measuring()) maxGap = Math.max(maxGap, now - last);
        lastTick[cpu] = busy ? now : -1;
      });
      k.mechanismStats.set(RESIDUAL_TICK_STRETCH, () => ({ deferment_ns: deferment, max_tick_gap_ns: maxGap }));
    },
  };
}

/** Registry entry for scenario files: `{ "name": "residual-tick-stretch", "options": { "seconds": 4 } }`. */
export const residualTickStretchFactory: MechanismFactory = ({ variant, options, field }) => {
  if (variant !== undefined) {
    throw new InputError(`${field}.variant`, `unknown variant "${variant}" of ${RESIDUAL_TICK_STRETCH} (valid: none: it has no variants)`);
  }
  return residualTickStretch(options ?? {}, `${field}.options`);
};
