/**
 * The rows of a Williams design: orders of 0..n-1 in which every subject directly follows every
 * other one equally often (once each for even n; n odd takes the reversed rows too).
 */
export function balancedOrders(n: number): number[][] {
  const first: number[] = [];
  for (let k = 0, lo = 1, hi = n - 1; k < n; k++) first.push(k === 0 ? 0 : k % 2 === 1 ? lo++ : hi--);
  const rows = Array.from({ length: n }, (_, r) => first.map((x) => (x + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}
