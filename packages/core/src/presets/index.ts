import { InputError } from "../params.js";
import { linux49 } from "./linux-4.9.js";
import { linux61 } from "./linux-6.1.js";
import { linux612 } from "./linux-6.12.js";
import { linux612Rt } from "./linux-6.12-rt.js";
import type { Preset } from "./preset.js";

/** Every preset the core ships, by name. */
export const presets: Readonly<Record<string, Preset>> = Object.freeze({ [linux49.name]: linux49, [linux61.name]: linux61, [linux612.name]: linux612, [linux612Rt.name]: linux612Rt });

/** Looks a preset up by name; an unknown name is an InputError listing the valid ones. */
export function getPreset(name: string, field = "kernel.preset"): Preset {
  const p = presets[name];
  if (!p) throw new InputError(field, `unknown preset "${name}" (valid: ${Object.keys(presets).join(", ")})`);
  return p;
}
