/**
 * How posts look on a terminal: author, relative time, text and short id, the text wrapped to
 * the width; colour only on a terminal without NO_COLOR. Pure functions; main passes the width.
 */
import type { Post } from "./posts.js";

export interface Look {
  width: number;
  colour: boolean;
  now: number;
}

/** The look of stdout: its width (80 when not a terminal), colour on a terminal without NO_COLOR. */
export function stdoutLook(env: Record<string, string | undefined> = process.env): Look {
  const tty = process.stdout.isTTY === true;
  return {
    width: tty && process.stdout.columns ? process.stdout.columns : 80,
    colour: tty && env.NO_COLOR === undefined,
    now: Date.now(),
  };
}

/** "now"-relative age: "12s", "3m", "2h", "5d" (future times read as 0s). */
export function relativeTime(iso: string, now: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "?";
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const chars = (s: string) => [...s].length;

/** Break a text into lines of at most `width` characters, at spaces where possible. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, "\n").split("\n")) {
    let line = "";
    for (const word of paragraph.split(/[ \t]+/).filter((x) => x !== "")) {
      let rest = word;
      while (chars(rest) > w) {
        if (line) lines.push(line);
        line = "";
        lines.push([...rest].slice(0, w).join(""));
        rest = [...rest].slice(w).join("");
      }
      if (!rest) continue;
      if (!line) line = rest;
      else if (chars(line) + 1 + chars(rest) <= w) line += ` ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  while (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Text written by others (posts, authors, a service's error text) made safe for a terminal:
 * control characters (C0 but tab and newline, DEL, C1: escape sequences, the window title,
 * clearing the screen) and the bidirectional overrides that can hide or reorder text become
 * U+FFFD.
 */
export function clean(text: string): string {
  let out = "";
  for (const ch of text) out += unsafeForTerminal(ch.codePointAt(0) ?? 0) ? "\uFFFD" : ch;
  return out;
}

function unsafeForTerminal(c: number): boolean {
  if (c < 0x20) return c !== 0x09 && c !== 0x0a;
  if (c >= 0x7f && c <= 0x9f) return true;
  if (c === 0x061c || c === 0x200e || c === 0x200f) return true;
  return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

const paint = (on: boolean, code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
const pad = (s: string, width: number) => s + " ".repeat(Math.max(0, width - chars(s)));

const TIME_WIDTH = 4;
const SHORT_WIDTH = 6;
const MIN_TEXT = 20;

/** The rows of one post, with the author column `authorWidth` wide. */
export function formatPost(post: Post, look: Look, authorWidth: number): string[] {
  const fixed = authorWidth + TIME_WIDTH + SHORT_WIDTH + 7;
  const textWidth = Math.max(MIN_TEXT, look.width - fixed);
  const lines = wrapText(clean(post.text), textWidth);
  const author = paint(look.colour, "1", pad(clean(post.author), authorWidth));
  const time = paint(look.colour, "2", relativeTime(post.published, look.now).padStart(TIME_WIDTH));
  const short = paint(look.colour, "33", post.short);
  const indent = " ".repeat(authorWidth + TIME_WIDTH + 4);
  return lines.map((line, i) =>
    i === 0
      ? `${author}  ${time}  ${pad(line, textWidth)}  ${short}`
      : `${indent}${line}`.trimEnd(),
  );
}

/** The author column: as wide as the longest author, within a third of the width. */
export function authorColumn(posts: readonly Post[], width: number): number {
  const longest = Math.max(1, ...posts.map((p) => chars(p.author)));
  return Math.min(longest, Math.max(8, Math.floor(width / 3)));
}

/** A table of posts, oldest first (the caller orders them). */
export function formatTable(posts: readonly Post[], look: Look): string {
  const authorWidth = authorColumn(posts, look.width);
  return posts
    .flatMap((p) => formatPost({ ...p, author: clip(p.author, authorWidth) }, look, authorWidth))
    .join("\n");
}

function clip(s: string, width: number): string {
  return chars(s) <= width ? s : `${[...s].slice(0, width - 1).join("")}…`;
}
