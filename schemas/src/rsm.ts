/**
 * XEP-0059 Result Set Management: the request a client sends and the set a service answers with.
 */
import { WireError } from "./errors.js";
import { NS_RSM } from "./ns.js";
import { type Element, xml } from "./xml.js";

/** A page request. `before: ""` (an empty `<before/>`) asks for the last page. */
export interface RsmRequest {
  max?: number;
  after?: string;
  before?: string;
  index?: number;
}

/** The answering set: first item id (with its index), last item id, total count. */
export interface RsmResponse {
  first?: string;
  firstIndex?: number;
  last?: string;
  count?: number;
}

/** A `<set/>` that cannot be honoured; the caller answers bad-request. */
export class RsmError extends WireError {
  constructor(message: string) {
    super(message, "bad-request");
    this.name = "RsmError";
  }
}

/** The RSM `<set/>` child of `parent`, if any. */
export function findRsmSet(parent: Element): Element | undefined {
  return parent.getChild("set", NS_RSM);
}

export function parseRsmRequest(set: Element): RsmRequest {
  assertSet(set);
  const request: RsmRequest = {};
  const max = set.getChildText("max");
  if (max !== null) request.max = parseNonNegative("max", max);
  const index = set.getChildText("index");
  if (index !== null) request.index = parseNonNegative("index", index);
  const after = set.getChildText("after");
  if (after !== null) {
    if (after.trim() === "") throw new RsmError("RSM <after/> must name an item.");
    request.after = after.trim();
  }
  const before = set.getChildText("before");
  if (before !== null) request.before = before.trim();
  return request;
}

export function buildRsmRequest(request: RsmRequest): Element {
  return xml(
    "set",
    { xmlns: NS_RSM },
    request.max !== undefined && xml("max", null, String(request.max)),
    request.after !== undefined && xml("after", null, request.after),
    request.before !== undefined && xml("before", null, request.before),
    request.index !== undefined && xml("index", null, String(request.index)),
  );
}

export function buildRsmResponse(response: RsmResponse): Element {
  return xml(
    "set",
    { xmlns: NS_RSM },
    response.first !== undefined && xml("first", { index: response.firstIndex }, response.first),
    response.last !== undefined && xml("last", null, response.last),
    response.count !== undefined && xml("count", null, String(response.count)),
  );
}

export function parseRsmResponse(set: Element): RsmResponse {
  assertSet(set);
  const response: RsmResponse = {};
  const first = set.getChild("first");
  if (first) {
    response.first = first.getText().trim();
    if (first.attrs.index !== undefined)
      response.firstIndex = parseNonNegative("first index", first.attrs.index);
  }
  const last = set.getChildText("last");
  if (last !== null) response.last = last.trim();
  const count = set.getChildText("count");
  if (count !== null) response.count = parseNonNegative("count", count);
  return response;
}

function assertSet(set: Element): void {
  if (!set.is("set", NS_RSM)) throw new RsmError(`Expected an RSM <set/>, got <${set.name}/>.`);
}

function parseNonNegative(what: string, text: string): number {
  const value = text.trim();
  if (!/^\d+$/.test(value))
    throw new RsmError(`RSM ${what} must be a non-negative integer, not '${value}'.`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RsmError(`RSM ${what} is too large: '${value}'.`);
  return n;
}
