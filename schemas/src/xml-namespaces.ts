/**
 * A subtree taken out of its stanza (a payload to store, to send again on its own) must keep the
 * meaning it had: the namespace declarations it relies on from its ancestors are written on its
 * root. Without them its text would use a prefix nobody declared (`<thr:in-reply-to/>` with
 * `xmlns:thr` on the <iq>), which a server's namespace-aware parser refuses by closing the
 * stream: one such post would cut the component off at each fan-out. ltx does not resolve
 * prefixes itself, so this walks the tree (without recursion) and the ancestors.
 */
import { clone } from "ltx";
import { WireError } from "./errors.js";
import type { Element } from "./xml.js";

/** The prefix of a qualified name ("thr" of "thr:in-reply-to"), undefined when it has none. */
function prefixOf(name: string): string | undefined {
  const colon = name.indexOf(":");
  return colon > 0 ? name.slice(0, colon) : undefined;
}

/** Every prefix used by an element or attribute name inside `root` (xml: and xmlns: excepted). */
function usedPrefixes(root: Element): Map<string, Element> {
  const used = new Map<string, Element>();
  const stack: Element[] = [root];
  for (let el = stack.pop(); el !== undefined; el = stack.pop()) {
    const names = [el.name, ...Object.keys(el.attrs)];
    for (const name of names) {
      const p = prefixOf(name);
      if (p && p !== "xml" && p !== "xmlns" && !used.has(p)) used.set(p, el);
    }
    for (const child of el.children) if (typeof child !== "string") stack.push(child);
  }
  return used;
}

/** The nearest declaration of `attr` from `el` up: its value and whether it lies within `root`. */
function declared(el: Element, attr: string, root: Element) {
  let inside = true;
  for (let at: Element | null | undefined = el; at; at = at.parent) {
    const value = at.attrs[attr];
    if (typeof value === "string") return { value, inside };
    if (at === root) inside = false;
  }
  return undefined;
}

/**
 * A copy of `el` that means the same on its own: the prefixes and the default namespace it
 * takes from its ancestors declared on it. Throws WireError (bad-request) for a prefix declared
 * nowhere.
 */
export function standalone(el: Element): Element {
  const added: Record<string, string> = {};
  for (const [prefix, user] of usedPrefixes(el)) {
    const found = declared(user, `xmlns:${prefix}`, el);
    if (!found)
      throw new WireError(`the namespace prefix "${prefix}" is not declared`, "bad-request");
    if (!found.inside) added[`xmlns:${prefix}`] = found.value;
  }
  // The default namespace in scope, for the root and every unprefixed element under it.
  const inScope =
    el.attrs.xmlns === undefined && el.parent ? declared(el.parent, "xmlns", el) : undefined;
  if (inScope?.value) added.xmlns = inScope.value;
  if (Object.keys(added).length === 0) return el;
  const copy = clone(el);
  copy.attrs = { ...added, ...copy.attrs };
  return copy;
}
