import { CompositionError, InputError } from "@isolsim/core";
import { paramName, presets as corePresets } from "@isolsim/core";
import type { Mechanism, MechanismFactory, MechanismRegistry, Params, Preset } from "@isolsim/core";
import { oneshotStopped } from "@isolsim/oneshot-stopped";
import { remoteStats } from "@isolsim/remote-stats";
import { rcuNocbMerge } from "@isolsim/rcu-nocb-merge";
import { tlbDefer } from "@isolsim/tlb-defer";
import { lruSpinlockDrain, lruSpinlockDrainDefaults } from "@isolsim/lru-spinlock-drain";
import { vmstatQuiesce, vmstatQuiesceDefaults } from "@isolsim/vmstat-quiesce";

/** A scenario file's snake_case option name for a package's camelCase option (`flushStep` → `flush_step`). */
export function fileOptionName(option: string): string {
  return option.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/**
 * Adapts a mechanism package's `name(options?)` to a registry factory: checks the entry's variant
 * against the package's variants and its options against the ones the package lets scenario files
 * set (`options`, camelCase; files name them in snake_case), then passes `{ ...options, variant }` on.
 */
export function fromPackage<O extends object>(make: (options?: O) => Mechanism, options: readonly string[] = []): MechanismFactory {
  const byFileName = new Map(options.map((o) => [fileOptionName(o), o] as const));
  return ({ variant, options: given, field }) => {
    const plain = make();
    if (variant !== undefined && !(plain.variants ?? []).includes(variant)) {
      const valid = plain.variants?.length ? plain.variants.join(", ") : `none: ${plain.name} has no variants`;
      throw new CompositionError(`${field}.variant`, `unknown variant ${JSON.stringify(variant)} of ${plain.name} (valid: ${valid})`);
    }
    const opts: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given ?? {})) {
      const option = byFileName.get(key);
      if (option === undefined) {
        throw new InputError(`${field}.options.${key}`, `unknown option of ${plain.name} (valid: ${byFileName.size ? [...byFileName.keys()].join(", ") : "none"})`);
      }
      opts[option] = value;
    }
    if (variant === undefined && given === undefined) return plain;
    try {
      return make({ ...opts, ...(variant !== undefined ? { variant } : {}) } as O);
    } catch (e) {
      const at = e instanceof InputError ? e.field.lastIndexOf("options.") : -1;
      if (e instanceof InputError && at >= 0) {
        const option = e.field.slice(at + "options.".length);
        throw new InputError(`${field}.options.${fileOptionName(option)}`, e.message.slice(e.field.length + 2));
      }
      throw e;
    }
  };
}

/** The mechanism packages the CLI knows, by name. Adding a package is one line here (and a dependency). */
export const registry: MechanismRegistry = Object.freeze({
  "remote-stats": fromPackage(remoteStats),
  "lru-spinlock-drain": fromPackage(lruSpinlockDrain, Object.keys(lruSpinlockDrainDefaults)),
  "vmstat-quiesce": fromPackage(vmstatQuiesce, Object.keys(vmstatQuiesceDefaults)),
  "tlb-defer": fromPackage(tlbDefer, ["flushStep", "vfreeRcu"]),
  "rcu-nocb-merge": fromPackage(rcuNocbMerge, ["gpStride", "allCpus"]),
  "oneshot-stopped": fromPackage(oneshotStopped),
});

/** A preset that has a mechanism built in, with the variant it has (the default when absent). */
export interface BuiltIn {
  /** Preset name. */
  preset: string;
  /** The variant the preset lists (its default when the preset names none); absent for a mechanism without variants. */
  variant?: string;
}

/** What `isolsim mechanisms` shows of one mechanism. */
export interface MechanismListing {
  /** Mechanism name. */
  name: string;
  /** One line: what it changes. */
  description: string;
  /** Variants, the default first. */
  variants: string[];
  /** The presets that have it built in (adding it again replaces the preset's entry). */
  built_in: BuiltIn[];
}

/**
 * Name, one-line description, variants (default first) and the presets that have it built in, of
 * every known mechanism; read from the presets' mechanism lists, whatever presets the core ships.
 */
export function describeMechanisms(reg: MechanismRegistry = registry, presetList: Readonly<Record<string, Preset>> = corePresets): MechanismListing[] {
  return Object.entries(reg).map(([name, make]) => {
    const m = make({ field: name });
    const builtIn: BuiltIn[] = [];
    for (const p of Object.values(presetList)) {
      const e = p.mechanisms.find((x) => x.name === name);
      const variant = e?.variant ?? m.variant;
      if (e) builtIn.push(variant !== undefined ? { preset: p.name, variant } : { preset: p.name });
    }
    return { name, description: m.description, variants: [...(m.variants ?? [])], built_in: builtIn };
  });
}

/** One mechanism a preset has built in, as the preset lists it. */
export interface BuiltInEntry {
  /** Mechanism name. */
  name: string;
  /** The variant the preset names, when it names one. */
  variant?: string;
}

/** What `isolsim presets` shows of one preset. */
export interface PresetListing {
  /** Preset name. */
  name: string;
  /** One line. */
  description: string;
  /** The source era it follows. */
  era: string;
  /** Mechanisms built in, as the preset lists them. */
  mechanisms: BuiltInEntry[];
  /** The switches and figures it sets (snake_case parameter names, as scenario files write them), with their values. */
  params: Record<string, unknown>;
}

/** Every preset with its built-in mechanisms and the parameters (switches) it sets, snake_case. */
export function describePresets(presetList: Readonly<Record<string, Preset>> = corePresets): PresetListing[] {
  return Object.values(presetList).map((p) => ({
    name: p.name,
    description: p.description,
    era: p.era,
    mechanisms: p.mechanisms.map((e) => (e.variant !== undefined ? { name: e.name, variant: e.variant } : { name: e.name })),
    params: Object.fromEntries(Object.entries(p.params).map(([key, value]) => [paramName(key as keyof Params), value])),
  }));
}
