/**
 * mulberry32: a small deterministic PRNG. Pure state machines carry the 32-bit state and
 * call `mulberry32Step`; tests, labs and generators use the closure form.
 */

/** One draw: a float in [0, 1) and the next state. */
export function mulberry32Step(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/** A generator of floats in [0, 1); the same seed always gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const [r, next] = mulberry32Step(state);
    state = next;
    return r;
  };
}
