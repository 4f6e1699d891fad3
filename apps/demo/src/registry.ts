import { CompositionError, InputError } from "@isolsim/core";
import type { Mechanism, MechanismFactory, MechanismRegistry } from "@isolsim/core";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { remoteStats } from "@isolsim/remote-stats";
import { rcuNocbMerge } from "@isolsim/rcu-nocb-merge";
import { tlbDeferFileOptionNames, tlbDeferFromFile } from "@isolsim/tlb-defer";
import { lruSpinlockDrain } from "@isolsim/lru-spinlock-drain";
import { vmstatQuiesce } from "@isolsim/vmstat-quiesce";

/**
 * Adapts a mechanism package's `name(options?)` to a registry factory: checks the entry's variant
 * against the package's variants and its options against the names the package accepts from
 * scenario files, then passes `{ ...options, variant }` on.
 */
export function fromPackage<O extends object>(make: (options?: O) => Mechanism, userOptions: readonly string[] = []): MechanismFactory {
  return ({ variant, options, field }) => {
    const plain = make();
    if (variant !== undefined && !(plain.variants ?? []).includes(variant)) {
      const valid = plain.variants?.length ? plain.variants.join(", ") : `none: ${plain.name} has no variants`;
      throw new CompositionError(`${field}.variant`, `unknown variant ${JSON.stringify(variant)} of ${plain.name} (valid: ${valid})`);
    }
    for (const key of Object.keys(options ?? {})) {
      if (!userOptions.includes(key)) {
        throw new InputError(`${field}.options.${key}`, `unknown option of ${plain.name} (valid: ${userOptions.length ? userOptions.join(", ") : "none"})`);
      }
    }
    if (variant === undefined && options === undefined) return plain;
    return make({ ...(options ?? {}), ...(variant !== undefined ? { variant } : {}) } as O);
  };
}

/** The mechanism packages the CLI knows, by name. Adding a package is one line here (and a dependency). */
export const registry: MechanismRegistry = Object.freeze({
  "remote-stats": fromPackage(remoteStats),
  "lru-spinlock-drain": fromPackage(lruSpinlockDrain),
  "vmstat-quiesce": fromPackage(vmstatQuiesce),
  "tlb-defer": fromPackage(tlbDeferFromFile, tlbDeferFileOptionNames),
  "rcu-nocb-merge": fromPackage(rcuNocbMerge),
  "oneshot-stopped": fromPackage(oneshotStopped),
});

/** Name, one-line description and variants (default first) of every known mechanism. */
export function describeMechanisms(reg: MechanismRegistry = registry): { name: string; description: string; variants: string[] }[] {
  return Object.entries(reg).map(([name, make]) => {
    const m = make({ field: name });
    return { name, description: m.description, variants: [...(m.variants ?? [])] };
  });
}
