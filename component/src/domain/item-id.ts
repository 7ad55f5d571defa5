/**
 * Item ids for publishes that carry none: ULID-like, 26 Crockford base32 characters, 10 for the
 * time in ms and 16 random. They sort by time as strings, and the ids of one generator sort in
 * creation order even within one millisecond or when the clock steps back.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_LEN = 10;
const RANDOM_LEN = 16;

export type ItemIdGenerator = () => string;

function encodeTime(ms: number): string {
  let out = "";
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET.charAt(t % 32) + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** Add one to a base32 string (digits as indexes); undefined on overflow. */
function increment(digits: number[]): number[] | undefined {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    const d = next[i] ?? 0;
    if (d < 31) {
      next[i] = d + 1;
      return next;
    }
    next[i] = 0;
  }
  return undefined;
}

/** A generator of sortable unique ids; clock and randomness are injectable for tests. */
export function createItemIdGenerator(
  now: () => number = Date.now,
  random: () => number = Math.random,
): ItemIdGenerator {
  let lastTime = -1;
  let lastRandom: number[] = [];
  const fresh = () => Array.from({ length: RANDOM_LEN }, () => Math.floor(random() * 32) % 32);
  return () => {
    // Never go back in time (a clock step backwards keeps the last time); within one
    // millisecond increment the random part, and on its overflow move to the next millisecond.
    let time = Math.max(now(), lastTime);
    let digits = time === lastTime ? increment(lastRandom) : undefined;
    if (!digits) {
      if (time === lastTime) time += 1;
      digits = fresh();
    }
    lastTime = time;
    lastRandom = digits;
    return encodeTime(time) + digits.map((d) => ALPHABET.charAt(d)).join("");
  };
}
