/**
 * Deterministic randomness for the generated store: a seeded PRNG, Zipf-shaped counts and
 * samples, shuffles, and post texts. The same seed gives the same store on every run.
 */

/** A PRNG (mulberry32) returning floats in [0, 1). */
export type Random = () => number;

export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [lo, hi). */
export const between = (rng: Random, lo: number, hi: number): number =>
  lo + Math.floor(rng() * (hi - lo));

/** Shuffle in place (Fisher–Yates). */
export function shuffle<T extends { length: number; [i: number]: number }>(a: T, rng: Random): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/** 0..n-1 in random order. */
export function permutation(n: number, rng: Random): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffle(p, rng);
}

/**
 * Counts for ranks 0..n-1 proportional to 1/(rank+1)^s, none over `cap`, summing to `total`
 * (or to n*cap when that is less). The scale is found by bisection; what flooring leaves is
 * given one by one to the first ranks below the cap.
 */
export function zipfCounts(n: number, total: number, s: number, cap: number): Int32Array {
  const want = Math.min(total, n * cap);
  const w = Float64Array.from({ length: n }, (_, r) => (r + 1) ** -s);
  const sumAt = (scale: number) => {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += Math.min(cap, Math.floor(scale * (w[r] as number)));
    return sum;
  };
  let lo = 0;
  let hi = want * (n + 1);
  for (let i = 0; i < 100 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (sumAt(mid) <= want) lo = mid;
    else hi = mid;
  }
  const counts = Int32Array.from(w, (x) => Math.min(cap, Math.floor(lo * x)));
  let left = want - counts.reduce((a, b) => a + b, 0);
  for (let r = 0; left > 0; r = (r + 1) % n) {
    if ((counts[r] as number) < cap) {
      counts[r] = (counts[r] as number) + 1;
      left--;
    }
  }
  return counts;
}

/** A sampler of ranks 0..n-1 with probability proportional to 1/(rank+1)^s. */
export function zipfSampler(n: number, s: number, rng: Random): () => number {
  const cum = new Float64Array(n);
  let acc = 0;
  for (let r = 0; r < n; r++) {
    acc += (r + 1) ** -s;
    cum[r] = acc;
  }
  return () => {
    const x = rng() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const WORDS = (
  "the a of to and in is it that for on with as at this was be by from are or an have not " +
  "but had they his her she he we you all one there their what so up out if about who get " +
  "which go me when make can like time no just him know take people into year your good some " +
  "could them see other than then now look only come its over think also back after use two " +
  "how our work first well way even new want because any these give day most us morning " +
  "coffee train weather release server federation microblog timeline post reply read " +
  "tonight weekend garden music book city river bridge cloud rain sun coding bug fix"
).split(" ");

/** A post text of about `around` characters (±10%): words, a capital, a full stop. */
export function postText(rng: Random, around = 200): string {
  const target = Math.round(around * (0.9 + rng() * 0.2));
  const words: string[] = [];
  let length = 0;
  while (length < target - 1) {
    const word = WORDS[Math.floor(rng() * WORDS.length)] as string;
    words.push(word);
    length += word.length + 1;
  }
  const text = words.join(" ").slice(0, target - 1);
  return `${text.charAt(0).toUpperCase()}${text.slice(1).trimEnd()}.`;
}
