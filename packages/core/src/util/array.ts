/**
 * In-place array edits for hot paths: `splice()` allocates the array it returns and `unshift()`
 * is a runtime call, so queues and sorted lists that change at every event use these instead.
 */

/** Inserts `x` at index `i` of `a`, moving the later elements up (a.splice(i, 0, x) without its result). */
export function insertAt<T>(a: T[], i: number, x: T): void {
  let j = a.length;
  if (j === i) {
    a.push(x);
    return;
  }
  a.push(a[j - 1]!);
  while (--j > i) a[j] = a[j - 1]!;
  a[i] = x;
}

/** Removes the element at index `i` of `a`, moving the later elements down (a.splice(i, 1) without its result). */
export function removeAt<T>(a: T[], i: number): void {
  const n = a.length;
  for (let j = i + 1; j < n; j++) a[j - 1] = a[j]!;
  a.pop();
}
