import { createElement, Element, parse } from "ltx";

export { Element };
export type XmlChild = Element | string | undefined | null | false;

/** Build an element: xml("iq", { type: "result" }, child1, child2). Falsy children are dropped. */
export function xml(
  name: string,
  attrs?: Record<string, string | number | undefined> | null,
  ...children: Array<XmlChild | XmlChild[]>
): Element {
  const clean: Record<string, string> = {};
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = String(v);
  }
  const flat = children
    .flat()
    .filter((c): c is Element | string => c !== undefined && c !== null && c !== false);
  return createElement(name, clean, ...flat);
}

/**
 * XML text that is already well-formed, written as it is (by writeXml and by ltx's toString):
 * a stored payload, or the shared part of a notification serialised once for all its
 * recipients. Only for text this program wrote from a parsed tree; its characters are still
 * checked on the way out (writeXml). It has no children to read: keep the tree it came from
 * where something must look inside.
 */
export class RawXml extends Element {
  readonly raw: string;
  /** Written by writeXml already: no character to check again. */
  readonly clean: boolean;

  /** `new RawXml(text)`; ltx's clone calls `new (name, attrs)`, and gets the text from attrs. */
  constructor(text: string, attrs?: { raw?: string; clean?: string }) {
    const raw = attrs?.raw ?? text;
    const clean = attrs?.clean === "1";
    super("#raw", { raw, clean: clean ? "1" : "0" });
    this.raw = raw;
    this.clean = clean;
  }

  /** Text writeXml wrote (its characters are known to be allowed). */
  static written(text: string): RawXml {
    return new RawXml(text, { raw: text, clean: "1" });
  }

  override write(writer: (part: string) => void): void {
    writer(this.raw);
  }
}

/** Parse one XML document (e.g. a stored payload) into an element tree; throws on bad XML. */
export function parseXml(text: string): Element {
  return parse(text);
}
