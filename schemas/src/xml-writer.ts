/**
 * The one place that turns an element tree into the XML text that goes on the wire. Unlike
 * ltx's toString it cannot emit a character XML 1.0 forbids (it writes U+FFFD instead and counts
 * it), it keeps tabs and line breaks in attribute values, and it walks the tree without
 * recursion, so no tree is too deep to write.
 */

import { type Element, RawXml } from "./xml.js";
import { toXmlText } from "./xml-chars.js";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};
const escapeChar = (c: string) => ESCAPES[c] ?? c;

export interface WriteStats {
  /** Forbidden characters replaced so far. */
  replaced: number;
}

type Step = { open: Element } | { close: string } | { text: string };

/** The XML text of `root`; `stats.replaced` grows by the number of characters replaced. */
export function writeXml(root: Element, stats?: WriteStats): string {
  const count = stats
    ? (n: number) => {
        stats.replaced += n;
      }
    : undefined;
  const out: string[] = [];
  const stack: Step[] = [{ open: root }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if ("text" in step) out.push(toXmlText(step.text, count).replace(/[&<>\r]/g, escapeChar));
    else if ("close" in step) out.push("</", step.close, ">");
    else if (step.open instanceof RawXml) {
      // Well-formed already; a character XML forbids is still replaced (it cannot be markup).
      out.push(step.open.clean ? step.open.raw : toXmlText(step.open.raw, count));
    } else {
      const el = step.open;
      out.push("<", el.name);
      for (const [k, v] of Object.entries(el.attrs)) {
        if (v === null || v === undefined) continue;
        out.push(
          " ",
          k,
          '="',
          toXmlText(String(v), count).replace(/[&<>"'\t\n\r]/g, escapeChar),
          '"',
        );
      }
      const children = el.children;
      if (children.length === 0) {
        out.push("/>");
        continue;
      }
      out.push(">");
      stack.push({ close: el.name });
      for (let i = children.length - 1; i >= 0; i--) {
        const child = children[i];
        if (typeof child === "string") stack.push({ text: child });
        else if (child !== null && child !== undefined) stack.push({ open: child });
      }
    }
  }
  return out.join("");
}
