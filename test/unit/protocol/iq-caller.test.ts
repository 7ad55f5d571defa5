/**
 * Outgoing IQs: each request has its own id; only an answer from the entity asked settles it
 * (result: its payload; error: IqError with the parsed stanza error); no answer in time is an
 * IqTimeoutError; cancelAll fails what is in flight.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IqCaller, IqError, IqTimeoutError } from "../../../component/src/federation/iq-caller.js";
import { buildStanzaError } from "../../../schemas/src/errors.js";
import { NS_DISCO_INFO, NS_PING } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";

const FROM = "alice@mb.example.org";
const TO = "carol@remote.example";

function setup(timeoutMs?: number) {
  const sent: Element[] = [];
  const caller = new IqCaller({
    send: (el) => sent.push(el),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  const query = () => xml("query", { xmlns: NS_DISCO_INFO });
  /** The answer to the n-th sent request (0-based), from `from` (default: whom it was sent to). */
  const answer = (n: number, type: "result" | "error", children: Element[] = [], from?: string) => {
    const req = sent[n] as Element;
    return xml(
      "iq",
      { type, id: req.attrs.id, from: from ?? req.attrs.to, to: req.attrs.from },
      ...children,
    );
  };
  return { caller, sent, query, answer };
}

/** The rejection of `p` (which must reject). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the request to reject");
}

describe("IqCaller", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends an iq with a unique id, from and to, and the payload", async () => {
    const { caller, sent, query } = setup();
    const requests = [
      caller.request("get", FROM, TO, query()),
      caller.request("set", `${FROM}/res`, `${TO}/phone`, xml("ping", { xmlns: NS_PING })),
    ];
    expect(sent).toHaveLength(2);
    const [first, second] = sent as [Element, Element];
    expect(first.name).toBe("iq");
    expect(first.attrs).toMatchObject({ type: "get", from: FROM, to: TO });
    expect(second.attrs).toMatchObject({ type: "set", from: `${FROM}/res`, to: `${TO}/phone` });
    expect(first.attrs.id).toBeTruthy();
    expect(second.attrs.id).toBeTruthy();
    expect(first.attrs.id).not.toBe(second.attrs.id);
    expect(first.getChildElements().map((c) => c.toString())).toEqual([
      `<query xmlns="${NS_DISCO_INFO}"/>`,
    ]);
    expect(second.getChild("ping", NS_PING)).toBeDefined();
    // Ids are unique across callers too (another connection's requests may be in flight).
    const other = setup();
    requests.push(other.caller.request("get", FROM, TO, query()));
    expect(other.sent[0]?.attrs.id).not.toBe(first.attrs.id);
    const ended = Promise.allSettled(requests);
    caller.cancelAll("done");
    other.caller.cancelAll("done");
    expect((await ended).map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  });

  it("resolves with the result's payload, and with undefined for an empty result", async () => {
    const { caller, query, answer } = setup();
    const withPayload = caller.request("get", FROM, TO, query());
    const empty = caller.request("set", FROM, TO, query());
    expect(caller.inFlight).toBe(2);
    const payload = xml("query", { xmlns: NS_DISCO_INFO }, xml("identity", { category: "pubsub" }));
    caller.onResponse(answer(0, "result", [payload]));
    expect(caller.inFlight).toBe(1);
    caller.onResponse(answer(1, "result"));
    expect(caller.inFlight).toBe(0);
    expect((await withPayload)?.toString()).toBe(payload.toString());
    await expect(empty).resolves.toBeUndefined();
  });

  it("takes the answer of the account to a request sent to its bare JID", async () => {
    const { caller, query, answer } = setup();
    const p = caller.request("get", FROM, TO, query());
    caller.onResponse(answer(0, "result", [], `${TO}/phone`));
    await expect(p).resolves.toBeUndefined();
    const q = caller.request("get", FROM, "Carol@Remote.Example", query());
    caller.onResponse(answer(1, "result", [], TO));
    await expect(q).resolves.toBeUndefined();
  });

  it("rejects with IqError carrying the parsed condition, type and text", async () => {
    const { caller, query, answer } = setup();
    const p = caller.request("set", FROM, TO, query());
    const error = buildStanzaError({
      condition: "forbidden",
      type: "auth",
      text: "you are banned",
      pubsubCondition: "closed-node",
    });
    caller.onResponse(answer(0, "error", [query(), error]));
    const err = await rejection(p);
    expect(err).toBeInstanceOf(IqError);
    const iqError = err as IqError;
    expect(iqError.name).toBe("IqError");
    expect(iqError.error).toMatchObject({
      condition: "forbidden",
      type: "auth",
      text: "you are banned",
      pubsubCondition: "closed-node",
    });
    expect(iqError.stanza.attrs.type).toBe("error");
    expect(iqError.message).toBe("auth/forbidden: you are banned");
    expect(caller.inFlight).toBe(0);
  });

  it("rejects an error answer without a readable <error/> as undefined-condition", async () => {
    const { caller, query, answer } = setup();
    const p = caller.request("get", FROM, TO, query());
    caller.onResponse(answer(0, "error"));
    const err = (await rejection(p)) as IqError;
    expect(err).toBeInstanceOf(IqError);
    expect(err.error).toEqual({ condition: "undefined-condition", type: "cancel" });
  });

  it("ignores an answer from another JID, and the request still times out", async () => {
    const { caller, query, answer } = setup(5_000);
    const p = caller.request("get", FROM, TO, query());
    const settled = vi.fn();
    p.then(settled, settled);
    for (const forger of ["eve@rogue.example", "remote.example", `eve@remote.example/${TO}`, ""])
      caller.onResponse(answer(0, "result", [xml("forged")], forger));
    caller.onResponse(
      answer(0, "error", [buildStanzaError({ condition: "item-not-found" })], "eve@rogue.example"),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).not.toHaveBeenCalled();
    expect(caller.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const err = await rejection(p);
    expect(err).toBeInstanceOf(IqTimeoutError);
    expect((err as Error).message).toContain(TO);
    expect(caller.inFlight).toBe(0);
    // The real answer arriving late is dropped without effect.
    expect(() => caller.onResponse(answer(0, "result"))).not.toThrow();
    expect(caller.inFlight).toBe(0);
  });

  it("ignores an answer with an unknown id, and a second answer to a settled request", async () => {
    const { caller, query, answer } = setup();
    const p = caller.request("get", FROM, TO, query());
    caller.onResponse(xml("iq", { type: "result", id: "nope", from: TO, to: FROM }));
    caller.onResponse(xml("iq", { type: "result", from: TO, to: FROM }));
    expect(caller.inFlight).toBe(1);
    caller.onResponse(answer(0, "result", [xml("first")]));
    caller.onResponse(answer(0, "error", [buildStanzaError({ condition: "conflict" })]));
    expect((await p)?.name).toBe("first");
  });

  it("uses the default timeout of 30 s, or the one given per request", async () => {
    const { caller, query } = setup();
    const byDefault = caller.request("get", FROM, TO, query());
    const short = caller.request("get", FROM, TO, query(), 100);
    const both = [rejection(byDefault), rejection(short)];
    await vi.advanceTimersByTimeAsync(100);
    expect(caller.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(29_899);
    expect(caller.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(caller.inFlight).toBe(0);
    for (const err of await Promise.all(both)) expect(err).toBeInstanceOf(IqTimeoutError);
  });

  it("cancelAll rejects everything in flight; inFlight counts", async () => {
    const { caller, query, answer } = setup();
    expect(caller.inFlight).toBe(0);
    const requests = [0, 1, 2].map(() => caller.request("get", FROM, TO, query()));
    expect(caller.inFlight).toBe(3);
    caller.onResponse(answer(1, "result"));
    expect(caller.inFlight).toBe(2);
    const rejections = [requests[0], requests[2]].map((p) => rejection(p as Promise<unknown>));
    caller.cancelAll("the connection is closing");
    expect(caller.inFlight).toBe(0);
    for (const err of await Promise.all(rejections)) {
      expect(err).toBeInstanceOf(IqTimeoutError);
      expect((err as Error).message).toBe("the connection is closing");
    }
    await expect(requests[1]).resolves.toBeUndefined();
    // Their timers were cleared: nothing fires later.
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("IqCaller: who may answer", () => {
  it("a request to a full JID is not settled by another resource of the account", () => {
    const sent: Element[] = [];
    const caller = new IqCaller({ send: (el) => sent.push(el), timeoutMs: 50 });
    const p = caller.request("get", "alice@mb.example.org", "carol@remote.example/phone", xml("q"));
    p.catch(() => {});
    caller.onResponse(
      xml("iq", { type: "result", id: sent[0]?.attrs.id, from: "carol@remote.example/evil" }),
    );
    expect(caller.inFlight).toBe(1);
    caller.onResponse(
      xml("iq", { type: "result", id: sent[0]?.attrs.id, from: "Carol@Remote.example/phone" }),
    );
    expect(caller.inFlight).toBe(0);
  });
});
