/**
 * The publisher of the fan-out bench: one c2s client (test/harness/client.ts) that publishes the
 * run's posts, at most `inflight` awaiting their answer at any time. The same posts go to Warble
 * and to the server's own pubsub; only the phase's marker differs.
 */
import { buildEntry } from "../../schemas/src/atom.js";
import { NS_PUBSUB } from "../../schemas/src/ns.js";
import { buildPubsubRequest } from "../../schemas/src/pubsub-request-build.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import type { TestClient } from "../../test/harness/client.js";
import { marker } from "./sink.js";
import { now, pool } from "./stats.js";

export const NODE = "urn:xmpp:microblog:0";

/** When each post was sent and answered; the refusals. */
export interface PublishRun {
  sentAt: number[];
  ackedAt: number[];
  errors: number;
  firstError?: string;
}

/** A post of about 140 characters (a typical microblog post), with the phase's marker. */
export function postText(tag: string, post: number): string {
  const head = `Fan-out bench post ${post} ${marker(tag, post)} `;
  return head + "lorem ipsum dolor sit amet ".repeat(5).slice(0, Math.max(0, 140 - head.length));
}

/** A publish of one post (`<entry><title type='text'>`), built by the schemas' codecs. */
export function publishIq(service: string, text: string): Element {
  const request = buildPubsubRequest({
    kind: "publish",
    node: NODE,
    payloads: [buildEntry({ text })],
  });
  return xml("iq", { type: "set", to: service }, request);
}

/** Create NODE at a plain pubsub service; an existing node is fine. */
export async function createNode(client: TestClient, service: string): Promise<void> {
  const reply = await client.iq(
    xml(
      "iq",
      { type: "set", to: service },
      xml("pubsub", { xmlns: NS_PUBSUB }, xml("create", { node: NODE })),
    ),
  );
  const conflict = reply.getChild("error")?.getChild("conflict");
  if (reply.attrs.type !== "result" && !conflict) {
    throw new Error(`cannot create ${NODE} at ${service}: ${reply.toString().slice(0, 300)}`);
  }
}

/** Publish posts 0..posts-1 to `service`, `inflight` at a time, in order of their numbers. */
export async function publishPosts(
  client: TestClient,
  service: string,
  tag: string,
  posts: number,
  inflight: number,
): Promise<PublishRun> {
  const run: PublishRun = { sentAt: [], ackedAt: [], errors: 0 };
  await pool(posts, inflight, async (i) => {
    const iq = publishIq(service, postText(tag, i));
    run.sentAt[i] = now();
    const reply = await client.iq(iq, 120_000);
    run.ackedAt[i] = now();
    if (reply.attrs.type === "result") return;
    run.errors++;
    run.firstError ??= reply.toString().slice(0, 300);
  });
  return run;
}
