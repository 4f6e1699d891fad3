import type { Kernel } from "./kernel.js";
import { InputError } from "./params.js";
import { checkOptions } from "./limits.js";
import type { OptionLimits } from "./limits.js";

/**
 * A mechanism: a plain value that changes the simulated kernel through its extension points.
 * The core knows no mechanism by name; composition is a list.
 */
export interface Mechanism {
  /** Unique name, as in scenario files and errors (`remote-stats`). */
  readonly name: string;
  /** One line: what it changes in the kernel. */
  readonly description: string;
  /** Variants it offers, the default first; absent when it has none. */
  readonly variants?: readonly string[];
  /** The chosen variant (the default when not given). */
  readonly variant?: string;
  /** Names of mechanisms that must be composed with it. */
  readonly requires?: readonly string[];
  /** Names of mechanisms it cannot be composed with. */
  readonly conflicts?: readonly string[];
  /** The options it takes (camelCase names) with their type, range and why (the limits table's rows for it); absent when none. */
  readonly options?: OptionLimits;
  /** Installs it into a kernel under construction, through the kernel's hooks and policies. */
  install(kernel: Kernel): void;
}

/** A mechanism as a scenario names it: a name, or name with variant and options. */
export interface MechanismEntry {
  /** Mechanism name. */
  name: string;
  /** Variant name (default when absent). */
  variant?: string;
  /** Options the mechanism validates itself. */
  options?: Record<string, unknown>;
}

/** Makes a mechanism from an entry's variant and options; throws InputError on bad options. */
export type MechanismFactory = (entry: { variant?: string; options?: Record<string, unknown>; field: string }) => Mechanism;

/** A registry of known mechanisms by name, as an app provides it (the CLI knows the packages). */
export interface MechanismRegistry {
  /** Factories by mechanism name. */
  readonly [name: string]: MechanismFactory;
}

/** Composition error: unknown, duplicate, conflicting, missing requirement or unknown variant. */
export class CompositionError extends InputError {
  constructor(field: string, message: string) {
    super(field, message);
    this.name = "CompositionError";
  }
}

/**
 * Merges the preset's entries with the scenario's (a name already in the preset replaces the
 * preset's entry); the same name twice in one list is an error.
 */
export function mergeMechanismEntries(preset: readonly MechanismEntry[], scenario: readonly MechanismEntry[], field = "kernel.mechanisms"): MechanismEntry[] {
  const seen = new Set<string>();
  scenario.forEach((e, i) => {
    if (seen.has(e.name)) throw new CompositionError(`${field}[${i}]`, `"${e.name}" is listed twice (each mechanism at most once)`);
    seen.add(e.name);
  });
  const out = preset.filter((e) => !seen.has(e.name)).map((e) => ({ ...e }));
  return [...out, ...scenario.map((e) => ({ ...e }))];
}

/** Resolves entries through a registry; an unknown name is an error listing the known ones. */
export function resolveMechanisms(entries: readonly MechanismEntry[], registry: MechanismRegistry, field = "kernel.mechanisms"): Mechanism[] {
  return entries.map((e, i) => {
    const f = registry[e.name];
    const where = `${field}[${i}]`;
    if (!f) {
      const known = Object.keys(registry);
      throw new CompositionError(where, `unknown mechanism "${e.name}" (valid: ${known.length ? known.join(", ") : "none registered"})`);
    }
    const arg: { variant?: string; options?: Record<string, unknown>; field: string } = { field: where };
    if (e.variant !== undefined) arg.variant = e.variant;
    if (e.options !== undefined) arg.options = e.options;
    const m = f(arg);
    if (e.variant !== undefined && m.variant === undefined) {
      throw new CompositionError(`${where}.variant`, `unknown variant "${e.variant}" of ${m.name} (valid: none: it has no variants)`);
    }
    checkVariant(m, where);
    return m;
  });
}

function checkVariant(m: Mechanism, where: string): void {
  if (m.variant === undefined) return;
  if (!m.variants || !m.variants.includes(m.variant)) {
    const valid = m.variants && m.variants.length ? m.variants.join(", ") : "none: it has no variants";
    throw new CompositionError(`${where}.variant`, `unknown variant "${m.variant}" of ${m.name} (valid: ${valid})`);
  }
}

/** Checks a composed list: duplicates, unknown variants, conflicts and missing requirements. */
export function checkComposition(mechanisms: readonly Mechanism[], field = "kernel.mechanisms"): void {
  const names = new Map<string, number>();
  mechanisms.forEach((m, i) => {
    if (names.has(m.name)) throw new CompositionError(`${field}[${i}]`, `"${m.name}" is listed twice (each mechanism at most once)`);
    names.set(m.name, i);
    checkVariant(m, `${field}[${i}]`);
  });
  mechanisms.forEach((m, i) => {
    for (const c of m.conflicts ?? []) {
      if (names.has(c)) throw new CompositionError(`${field}[${i}]`, `${m.name} conflicts with ${c} (compose only one of them)`);
    }
    for (const r of m.requires ?? []) {
      if (!names.has(r)) throw new CompositionError(`${field}[${i}]`, `${m.name} requires ${r} (add "${r}" to the mechanisms)`);
    }
  });
}

/**
 * Resolves a mechanism's numeric options over its defaults after {@link checkOptions} against its
 * table `limits` (unknown keys, types, ranges; errors name `<mechanism>.options.<key>`).
 */
export function resolveFigures<F extends Record<string, number>>(mechanism: string, options: object, defaults: Readonly<F>, limits: OptionLimits): F {
  checkOptions(mechanism, options, limits);
  const out = { ...defaults } as F;
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(defaults) as (keyof F & string)[]) {
    if (given[key] !== undefined) (out as Record<string, number>)[key] = given[key] as number;
  }
  return out;
}
