/**
 * The short id of a post (the CLI shows it and takes it back): 6 characters, the lower-case
 * RFC 4648 base32 of the first 30 bits of SHA-256(service "\n" node "\n" item).
 */
import { createHash } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
export const SHORT_ID_LENGTH = 6;

/** Whether `text` has the form of a short id (it may still name no post). */
export function isShortId(text: string): boolean {
  return /^[a-z2-7]{6}$/.test(text);
}

export function shortId(service: string, node: string, item: string): string {
  const digest = createHash("sha256").update(`${service}\n${node}\n${item}`, "utf8").digest();
  // The first 4 bytes hold the 30 bits the 6 characters need (5 bits each, most significant first).
  const bits = digest.readUInt32BE(0);
  let out = "";
  for (let i = 0; i < SHORT_ID_LENGTH; i++) out += ALPHABET[(bits >>> (27 - 5 * i)) & 31];
  return out;
}
