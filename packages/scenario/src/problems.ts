import { InputError } from "@isolsim/core";

/** One problem with the user's input: the field path and a message naming the value and what is valid. */
export interface Problem {
  /** Field path (`workload[2].every`) or option (`--seed`). */
  field: string;
  /** What is wrong: the value and what is valid. */
  message: string;
}

/** How many problems the CLI prints; the rest are counted ("… and N more"). */
export const PROBLEMS_SHOWN = 50;

/** How many problems are kept at most; beyond it they are only counted, so a huge bad file stays cheap. */
export const PROBLEMS_KEPT = 1000;

/** Bad input (exit 2): one or more problems, all reported at once. */
export class BadInput extends Error {
  constructor(
    /** The problems found (at most {@link PROBLEMS_KEPT} when the finder capped them). */
    readonly problems: readonly Problem[],
    /** File the problems are in, when there is one. */
    readonly file: string | null = null,
    /** Problems found beyond `problems` and not kept. */
    readonly more: number = 0,
  ) {
    super(problems.slice(0, PROBLEMS_SHOWN).map((p) => `${p.field}: ${p.message}`).join("\n"));
    this.name = "BadInput";
  }
}

/** A problem from a core InputError (its message starts with the field path, sometimes twice). */
export function fromInputError(e: InputError): Problem {
  const prefix = `${e.field}: `;
  let message = e.message;
  while (message.startsWith(prefix)) message = message.slice(prefix.length);
  return { field: e.field, message };
}

/** Top-level scenario fields in file order, to list problems in the order of the file. */
const FIELD_ORDER = ["(file)", "name", "description", "seed", "duration", "warmup", "kernel", "workload"];

/** Sorts problems in the order of the scenario's fields (workload items by index). */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const key = (f: string): string => {
    const top = /^[a-z_]+|^\(file\)/.exec(f)?.[0] ?? f;
    const i = FIELD_ORDER.indexOf(top);
    return `${String(i < 0 ? 99 : i).padStart(2, "0")}${f.replace(/\d+/g, (d) => d.padStart(6, "0"))}`;
  };
  return [...problems].sort((a, b) => (key(a.field) < key(b.field) ? -1 : key(a.field) > key(b.field) ? 1 : 0));
}

/** Runs `f`, turning a core InputError into a problem in `into`; returns whether it succeeded. */
export function collect(into: Problem[], f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof InputError) {
      into.push(fromInputError(e));
      return false;
    }
    throw e;
  }
}
