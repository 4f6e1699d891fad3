import type { Mechanism, MechanismRegistry } from "@isolsim/core";
import { lruSpinlockDrain } from "@isolsim/lru-spinlock-drain";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { rcuNocbMerge } from "@isolsim/rcu-nocb-merge";
import { remoteStats } from "@isolsim/remote-stats";
import { tlbDefer } from "@isolsim/tlb-defer";
import { vmstatQuiesce } from "@isolsim/vmstat-quiesce";

const camel = (o: Record<string, unknown> = {}): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));

/** A registry factory of a package's `name(options?)`: file options (snake_case) and the variant passed on. Tests only. */
function factory(make: (o?: never) => Mechanism): MechanismRegistry[string] {
  return ({ variant, options }) => make({ ...camel(options), ...(variant !== undefined ? { variant } : {}) } as never);
}

/** The six mechanism packages, as the CLI's registry has them (tests of this package only). */
export const testRegistry: MechanismRegistry = {
  "lru-spinlock-drain": factory(lruSpinlockDrain),
  "oneshot-stopped": factory(oneshotStopped),
  "rcu-nocb-merge": factory(rcuNocbMerge),
  "remote-stats": factory(remoteStats),
  "tlb-defer": factory(tlbDefer),
  "vmstat-quiesce": factory(vmstatQuiesce),
};

/** {@link testRegistry} whose tlb-defer flushes at `deferred_work`, after the sys_enter tracepoint: a BPF program there runs through a stale TLB entry (tlb-no-stale). */
export const unsafeFlushRegistry: MechanismRegistry = {
  ...testRegistry,
  "tlb-defer": ({ variant }) => tlbDefer({ flushStep: "deferred_work", ...(variant !== undefined ? { variant: variant as "ct-work" } : {}) }),
};
