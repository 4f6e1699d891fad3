import type { MechanismEntry } from "../mechanism.js";
import type { Params } from "../params.js";

/** A kernel preset: data only — parameter values and a mechanism list. */
export interface Preset {
  /** Name, as scenario files give it (`linux-4.9`). */
  readonly name: string;
  /** One line. */
  readonly description: string;
  /** Source era whose behaviour it follows where versions differ. */
  readonly era: "4.9" | "6.1" | "6.12";
  /** Parameter values that differ from the defaults. */
  readonly params: Readonly<Partial<Params>>;
  /** Mechanisms the kernel has built in. */
  readonly mechanisms: readonly MechanismEntry[];
}
