// The mechanism packages a scenario may name: in @isolsim/scenario, so the CLI and the explorer know the same ones.
export { describeMechanisms, describePresets, fileOptionName, fromPackage, registry } from "@isolsim/scenario";
export type { BuiltIn, MechanismListing, PresetListing } from "@isolsim/scenario";
