/**
 * xmpp: URIs of pubsub nodes and items (RFC 5122, XEP-0060 §12.22), read the same way by the
 * component (follow, post replies) and the CLI. Written by anybody: malformed escapes are
 * undefined, never an exception.
 */

export interface ItemAddress {
  service: string;
  node: string;
  item?: string;
}

/**
 * xmpp:JID?;node=N;item=I; with `nodeOnly`, the item may be absent (and the node then defaults
 * to the microblog node). Undefined for anything else.
 */
export function parseItemUri(uri: string, nodeOnly = false): ItemAddress | undefined {
  const m = /^xmpp:(?:\/\/)?([^?]+)(?:\?(.*))?$/.exec(uri.trim());
  if (!m?.[1]) return undefined;
  const params = new Map<string, string>();
  for (const part of (m[2] ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    try {
      params.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      return undefined;
    }
  }
  const node = params.get("node") ?? (nodeOnly ? "urn:xmpp:microblog:0" : undefined);
  const item = params.get("item");
  if (!node || (!item && !nodeOnly)) return undefined;
  let service: string;
  try {
    service = decodeURIComponent(m[1]).toLowerCase();
  } catch {
    return undefined;
  }
  return item ? { service, node, item } : { service, node };
}
