import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Element, parseXml } from "../../../schemas/src/xml.js";

const ROOT = fileURLToPath(new URL("../../fixtures/schemas/", import.meta.url));

/** Every top-level stanza of a fixture file (a spec example may hold several). */
export function loadStanzas(name: string): Element[] {
  const text = readFileSync(`${ROOT}${name}.xml`, "utf8");
  return parseXml(`<fixture>${text}</fixture>`).getChildElements();
}

/** The first stanza of a fixture file. */
export function loadStanza(name: string): Element {
  const first = loadStanzas(name)[0];
  if (!first) throw new Error(`fixture ${name} holds no element`);
  return first;
}

/** The first child element of the fixture's first stanza with this name (and namespace). */
export function loadChild(name: string, child: string, xmlns?: string): Element {
  const el = loadStanza(name).getChild(child, xmlns);
  if (!el) throw new Error(`fixture ${name} has no <${child}/>`);
  return el;
}

/**
 * A comparable serialization: whitespace-only text dropped, text trimmed, attributes sorted,
 * and each element's namespace written out (so inherited and declared xmlns compare equal).
 */
export function canonical(el: Element, parentNs?: string): string {
  const ns = el.getNS();
  const attrs = Object.entries(el.attrs)
    .filter(([k]) => k !== "xmlns" && !k.startsWith("xmlns:"))
    .map(([k, v]) => [k, v.trim().replace(/\s+/g, " ")])
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([k, v]) => ` ${k}="${v}"`)
    .join("");
  const nsAttr = ns !== parentNs ? ` {${ns}}` : "";
  const children = el.children
    .map((c) => (typeof c === "string" ? c.trim().replace(/\s+/g, " ") : canonical(c, ns)))
    .filter((c) => c !== "")
    .join("");
  return `<${el.getName()}${nsAttr}${attrs}>${children}</${el.getName()}>`;
}
