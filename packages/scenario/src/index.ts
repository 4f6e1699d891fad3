export * from "./problems.js";
export * from "./show.js";
export * from "./scenario.js";
export * from "./registry.js";
