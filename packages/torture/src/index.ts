export * from "./scenario-object.js";
export * from "./random.js";
export * from "./cpulist.js";
export * from "./hazards.js";
export * from "./generate.js";
export * from "./shrink.js";
export * from "./torture.js";
export * from "./table.js";
