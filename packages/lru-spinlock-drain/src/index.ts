export * from "./lru-spinlock-drain.js";
export * from "./spinlock.js";
