// random.js: a small seeded generator for the JS side (choosing digits to show, test data, demo
// memories), so every view is reproducible. The C core has its own (PCG32, src/rng.c).

/** mulberry32: a deterministic generator of uniform numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
