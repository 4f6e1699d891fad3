export * from "./rcu-nocb-merge.js";
export * from "./layouts.js";
export * from "./observe.js";
