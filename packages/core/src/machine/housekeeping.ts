/**
 * The CPU masks that boot parameters leave the kernel with (Linux 6.1): housekeeping masks per
 * HK_TYPE_* (kernel/sched/isolation.c), the nohz_full mask (kernel/time/tick-sched.c), the RCU
 * callback-offload mask (kernel/rcu/tree_nocb.h) and the default IRQ affinity (kernel/irq/irqdesc.c).
 */
import type { BootParams, IsolcpusFlag } from "./cmdline.js";
import { CpuMask } from "./cpumask.js";

/** A housekeeping type, as include/linux/sched/isolation.h enum hk_type (HK_TYPE_TIMER, ...) in 6.1. */
export type HkType = "timer" | "rcu" | "misc" | "sched" | "tick" | "domain" | "wq" | "managed_irq" | "kthread";

/** The housekeeping types nohz_full= sets, as housekeeping_nohz_full_setup() (6.1). */
export const NOHZ_FULL_HK_TYPES: readonly HkType[] = ["tick", "wq", "timer", "rcu", "misc", "kthread"];

/** The housekeeping type each isolcpus= flag sets, as housekeeping_isolcpus_setup() (6.1). */
export const ISOLCPUS_HK_TYPE: Readonly<Record<IsolcpusFlag, HkType>> = {
  nohz: "tick",
  domain: "domain",
  managed_irq: "managed_irq",
};

const HK_TYPES: readonly HkType[] = ["timer", "rcu", "misc", "sched", "tick", "domain", "wq", "managed_irq", "kthread"];

/** The CPU masks of a booted machine, as housekeeping_setup(), tick_nohz_init(), rcu_init_nohz() and irq_affinity_setup() leave them. */
export interface Housekeeping {
  /** tick_nohz_full_mask: CPUs that may stop their tick while busy (boot CPU never in it). */
  nohzFull: CpuMask;
  /** CPUs out of the scheduler domains (isolcpus=domain): all but housekeeping_cpumask(HK_TYPE_DOMAIN). */
  isolated: CpuMask;
  /** rcu_nocb_mask: CPUs whose RCU callbacks run in rcuo kthreads, always ⊇ nohzFull. */
  rcuNocbs: CpuMask;
  /** CPUs that take all of nohz_full's housekeeping (tick, timer, rcu, misc, wq, kthread types). */
  housekeeping: CpuMask;
  /** housekeeping_cpumask(HK_TYPE_DOMAIN): CPUs in the scheduler domains. */
  domain: CpuMask;
  /** housekeeping_cpumask(HK_TYPE_MANAGED_IRQ): CPUs managed interrupts are steered to. */
  managedIrq: CpuMask;
  /** irq_default_affinity: the affinity of a new unmanaged interrupt. */
  irqDefaultAffinity: CpuMask;
  /** housekeeping_cpumask(type) for every type: all CPUs for a type no parameter set. */
  byType: Readonly<Record<HkType, CpuMask>>;
  /** What the kernel would print (parsing warnings first), in order. */
  warnings: string[];
}

/**
 * Models the boot sequence from the parsed parameters (6.1): housekeeping_setup() for nohz_full= and
 * isolcpus= in command-line order, then tick_nohz_init(), rcu_init_nohz() and irq_affinity_setup() /
 * init_irq_default_affinity(). Every CPU is possible and present; `bootCpu` is smp_processor_id() at boot.
 */
export function housekeepingSetup(boot: BootParams, nrCpuIds: number, bootCpu = 0): Housekeeping {
  const all = CpuMask.full(nrCpuIds);
  if (!Number.isInteger(bootCpu) || bootCpu < 0 || bootCpu >= nrCpuIds) {
    throw new RangeError(`bootCpu: CPU ${bootCpu} is out of range for a machine of ${nrCpuIds} CPUs (valid: ${all})`);
  }
  const warnings = [...(boot.warnings ?? [])];
  const hk = new Map<HkType, CpuMask>();
  let tickNohzFull: CpuMask | undefined;

  /** kernel/sched/isolation.c housekeeping_setup() for one parameter. */
  const setup = (param: string, list: CpuMask, types: readonly HkType[]): void => {
    const nonHousekeeping = list.clone();
    const staging = all.andNot(nonHousekeeping);
    if (staging.isEmpty()) {
      staging.set(bootCpu);
      nonHousekeeping.clear(bootCpu);
      if (hk.size === 0) warnings.push(`Housekeeping: must include one present CPU, using boot CPU:${bootCpu}`);
    }
    const mismatch = types.some((t) => hk.get(t)?.equals(staging) === false);
    if (mismatch) {
      warnings.push(`Housekeeping: nohz_full= must match isolcpus= (${param}=${list} ignored)`);
      return;
    }
    if (types.includes("tick") && !hk.has("tick")) tickNohzFull = nonHousekeeping;
    for (const t of types) if (!hk.has(t)) hk.set(t, staging.clone());
  };

  const nohzFull = (): void => {
    if (boot.nohzFull) setup("nohz_full", boot.nohzFull, NOHZ_FULL_HK_TYPES);
  };
  const isolcpus = (): void => {
    if (!boot.isolcpus) return;
    const flags: readonly IsolcpusFlag[] = boot.isolcpus.flags.length > 0 ? boot.isolcpus.flags : ["domain"];
    setup("isolcpus", boot.isolcpus.mask, flags.map((f) => ISOLCPUS_HK_TYPE[f]));
  };
  if (boot.isolcpusFirst) {
    isolcpus();
    nohzFull();
  } else {
    nohzFull();
    isolcpus();
  }

  // tick_nohz_init(): the boot CPU keeps the tick for timekeeping (CONFIG_PM_SLEEP_SMP, as on x86).
  const nohz = tickNohzFull ?? new CpuMask(nrCpuIds);
  if (nohz.has(bootCpu)) {
    warnings.push(`NO_HZ: Clearing ${bootCpu} from nohz_full range for timekeeping`);
    nohz.clear(bootCpu);
  }

  const byType = Object.fromEntries(HK_TYPES.map((t) => [t, hk.get(t) ?? all.clone()])) as Record<HkType, CpuMask>;
  const housekeeping = NOHZ_FULL_HK_TYPES.reduce((acc, t) => acc.and(byType[t]), all);
  return {
    nohzFull: nohz,
    isolated: all.andNot(byType.domain),
    // rcu_init_nohz(): nohz_full CPUs are always offloaded.
    rcuNocbs: (boot.rcuNocbs ?? new CpuMask(nrCpuIds)).or(nohz),
    housekeeping,
    domain: byType.domain.clone(),
    managedIrq: byType.managed_irq.clone(),
    // irq_affinity_setup() adds the boot CPU; init_irq_default_affinity() makes an unset mask all CPUs.
    irqDefaultAffinity: boot.irqaffinity ? boot.irqaffinity.clone().set(bootCpu) : all.clone(),
    byType,
    warnings,
  };
}
