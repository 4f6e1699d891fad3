import type { Kernel, Nanoseconds } from "@isolsim/core";

/** Lock figures shared by every batch lock of one kernel, counted in the measured window. */
export interface BatchLockStats {
  /** spin_lock() calls that took a batch lock (owner and remote drainer). */
  acquires: number;
  /** Acquires that found the lock held and waited. */
  contended: number;
  /** Longest wait from a contended spin_lock() to the handoff, ns. */
  maxWaitNs: Nanoseconds;
  /** Sum of the contended waits, ns. */
  waitNsTotal: Nanoseconds;
}

/** One CPU queued on a {@link BatchLock} (an MCS node of the qspinlock queue). */
interface Waiter {
  readonly cpu: number;
  readonly since: Nanoseconds;
  readonly granted: () => void;
}

/**
 * The per-CPU spinlock guarding one CPU's LRU batches: the QPW series' qpw_lock(&cpu_fbatches.lock,
 * cpu) (2024-26, "per-CPU work via spinlock" for isolated CPUs; the 2016 consensus), which on a
 * nohz_full CPU is spin_lock() on that CPU's lock, taken by the owner for its own adds and by a remote
 * CPU that drains the batch. Waiters spin in FIFO order and the lock is handed to the first at release
 * (kernel/locking/qspinlock.c MCS queue).
 *
 * It also checks `lru-exclusive` itself, independently of the locking: a CPU declares itself inside
 * the batch's critical section ({@link enter}/{@link leave}) and every batch operation is reported
 * through {@link touch}; a second CPU inside, or a touch by a CPU while another is inside, is a
 * violation. A caller that skips the lock is therefore caught, not trusted.
 */
export class BatchLock {
  /** CPU holding the lock, or -1. */
  holder = -1;
  /** CPUs inside the batch's critical section now (one when the lock works). */
  readonly inside: number[] = [];
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly k: Kernel,
    /** The CPU whose batches it guards. */
    readonly cpu: number,
    private readonly stats: BatchLockStats,
  ) {}

  /**
   * spin_lock() by CPU `by`: takes a free lock and returns true, or queues `by` (it spins) and returns
   * false; `granted` runs at the instant the holder hands the lock over.
   */
  acquire(by: number, granted: () => void): boolean {
    const k = this.k;
    if (k.measuring()) this.stats.acquires++;
    if (this.holder < 0) {
      this.holder = by;
      return true;
    }
    if (k.measuring()) this.stats.contended++;
    this.waiters.push({ cpu: by, since: k.engine.now, granted });
    return false;
  }

  /** spin_unlock() by `by`, the holder: the first waiter gets the lock now. */
  release(by: number): void {
    if (this.holder !== by) throw new Error(`lru batch lock of CPU ${this.cpu}: released by CPU ${by}, holder ${this.holder}`);
    this.holder = -1;
    const w = this.waiters.shift();
    if (!w) return;
    const k = this.k;
    this.holder = w.cpu;
    const wait = k.engine.now - w.since;
    if (k.measuring()) {
      this.stats.waitNsTotal += wait;
      if (wait > this.stats.maxWaitNs) this.stats.maxWaitNs = wait;
    }
    w.granted();
  }

  /** CPU `by` enters the batch's critical section; another CPU already inside violates lru-exclusive. */
  enter(by: number, role: string): void {
    this.k.invariants.evaluate("lru-exclusive");
    const other = this.inside.find((c) => c !== by);
    if (other !== undefined) this.violate(by, role, other, "entered");
    this.inside.push(by);
  }

  /** CPU `by` leaves the batch's critical section. */
  leave(by: number): void {
    const i = this.inside.indexOf(by);
    if (i >= 0) this.inside.splice(i, 1);
  }

  /** CPU `by` operates on the batch (pagevec_add(), lru_add_drain_cpu()); another CPU inside violates lru-exclusive. */
  touch(by: number, role: string): void {
    this.k.invariants.evaluate("lru-exclusive");
    const other = this.inside.find((c) => c !== by);
    if (other !== undefined) this.violate(by, role, other, "touched");
  }

  private violate(by: number, role: string, other: number, what: string): void {
    const whose = other === this.cpu ? "its owner" : "a remote drainer";
    this.k.invariants.violate("lru-exclusive", this.cpu, `CPU ${by} (${role}) ${what} CPU ${this.cpu}'s LRU batch while CPU ${other} (${whose}) was inside it`);
  }
}
