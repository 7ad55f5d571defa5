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

/** Parse one XML document (e.g. a stored payload) into an element tree; throws on bad XML. */
export function parseXml(text: string): Element {
  return parse(text);
}
