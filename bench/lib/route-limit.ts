/**
 * The route limit of the fan-out bench: a trivial component, in a process of its own (as Warble
 * is), that sends posts × N copies of one notification to the sink's JIDs through the server as
 * fast as its socket takes them: batches of about 64 KB, waiting for "drain" whenever the socket's
 * buffer is full. Nothing is stored or looked up: what the server can route from one component
 * to another is all that bounds it.
 *
 * The parent (bench/fanout.ts) forks this file; the child runs `childMain` (IPC: start → ready,
 * go → done, stop → exit).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NS_ATOM, NS_PUBSUB_EVENT } from "../../schemas/src/ns.js";
import { type Element, parseXml, xml } from "../../schemas/src/xml.js";
import { connectComponent } from "./raw-component.js";
import { MARKER } from "./sink.js";
import { now } from "./stats.js";

/** What the child needs: where to connect, and what to send to whom. */
export interface RouteLimitJob {
  port: number;
  domain: string;
  secret: string;
  /** The stanza with the placeholders @@TO@@, @@ID@@ and @@MARK@@ (see `templateOf`). */
  template: string;
  sinkDomain: string;
  subscribers: number;
  posts: number;
  tag: string;
}

/** When the child started writing, and when its socket had taken the last byte. */
export interface RouteLimitTimes {
  startedAt: number;
  writtenAt: number;
}

type ToChild = { type: "start"; job: RouteLimitJob } | { type: "go" } | { type: "stop" };
type FromChild =
  | { type: "ready" }
  | ({ type: "done" } & RouteLimitTimes)
  | { type: "error"; message: string };

const PLACEHOLDERS = /(@@TO@@|@@ID@@|@@MARK@@)/;
const BATCH_BYTES = 64 * 1024;

/**
 * A captured notification as the template of the limit's messages: the same size and shape,
 * from `from`, with the recipient, the id and the post's marker as placeholders.
 */
export function templateOf(notification: Element, from: string): string {
  const el = parseXml(notification.toString());
  el.attrs.from = from;
  el.attrs.to = "@@TO@@";
  el.attrs.id = "@@ID@@";
  return el.toString().replace(new RegExp(MARKER.source, "g"), "@@MARK@@");
}

/**
 * A message of `bytes` characters with nothing in it but a body: what the route costs when the
 * server has one element to parse per stanza instead of a notification's dozen.
 */
export function flatTemplate(bytes: number, from: string): string {
  const shell = `<message from='${from}' to='@@TO@@' id='@@ID@@' type='headline'><body>@@MARK@@ </body></message>`;
  const fill = Math.max(0, bytes - shell.length);
  return shell.replace(" </body>", ` ${"x".repeat(fill)}</body>`);
}

/** A notification like Warble's (event, Atom entry, body), when none was captured. */
export function syntheticNotification(text: string): Element {
  const entry = xml("entry", { xmlns: NS_ATOM }, xml("title", { type: "text" }, text));
  return xml(
    "message",
    { type: "headline" },
    xml(
      "event",
      { xmlns: NS_PUBSUB_EVENT },
      xml("items", { node: "urn:xmpp:microblog:0" }, xml("item", { id: "x" }, entry)),
    ),
    xml("body", {}, text),
  );
}

/** Fork the sender and wait until it is connected. */
export async function startRouteLimit(job: RouteLimitJob): Promise<RouteLimitSender> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const sender = new RouteLimitSender(child);
  child.send({ type: "start", job } satisfies ToChild);
  await sender.next("ready");
  return sender;
}

/** The parent's side of the forked sender. */
export class RouteLimitSender {
  constructor(private readonly child: ChildProcess) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Send everything; resolves when the child's socket has taken it all. */
  async go(): Promise<RouteLimitTimes> {
    this.child.send({ type: "go" } satisfies ToChild);
    const done = await this.next("done");
    return { startedAt: done.startedAt, writtenAt: done.writtenAt };
  }

  /** Close the child's stream and wait for it to exit (killed after 5 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    if (this.child.connected) this.child.send({ type: "stop" } satisfies ToChild);
    else this.child.kill("SIGTERM");
    await exited;
    clearTimeout(timer);
  }

  /** The child's next message of `type`; rejects on its error report or its exit. */
  next<T extends FromChild["type"]>(type: T): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromChild) => {
        if (m.type !== type && m.type !== "error") return;
        cleanup();
        if (m.type === "error") reject(new Error(`route-limit sender: ${m.message}`));
        else resolve(m as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`route-limit sender exited (${code}) before "${type}"`));
      };
      const cleanup = () => {
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
      };
      this.child.on("message", onMessage);
      this.child.on("exit", onExit);
    });
  }
}

// ── the child ──

/** The messages of the job in order: post by post, each to every subscriber. */
function* messages(job: RouteLimitJob): Generator<string> {
  const parts = job.template.split(PLACEHOLDERS);
  for (let post = 0; post < job.posts; post++) {
    const mark = `#${job.tag}:${post}#`;
    for (let k = 0; k < job.subscribers; k++) {
      const values: Record<string, string> = {
        "@@TO@@": `s${k + 1}@${job.sinkDomain}`,
        "@@ID@@": `l${post}-${k}`,
        "@@MARK@@": mark,
      };
      yield parts.map((p) => values[p] ?? p).join("");
    }
  }
}

/** Write every message in batches, waiting for the socket to drain when it is full. */
async function blast(job: RouteLimitJob, send: (batch: string) => Promise<void>): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  for (const m of messages(job)) {
    batch.push(m);
    size += m.length;
    if (size < BATCH_BYTES) continue;
    await send(batch.join(""));
    batch = [];
    size = 0;
  }
  if (batch.length > 0) await send(batch.join(""));
}

async function childMain(): Promise<void> {
  const report = (m: FromChild) => process.send?.(m);
  const job = await new Promise<RouteLimitJob>((resolve) =>
    process.once("message", (m: ToChild) => m.type === "start" && resolve(m.job)),
  );
  const conn = await connectComponent(job.port, job.domain, job.secret, {
    closed: (why) => report({ type: "error", message: `the server closed the stream: ${why}` }),
  });
  process.on("message", async (m: ToChild) => {
    if (m.type === "stop") {
      await conn.close();
      process.exit(0);
    }
    if (m.type !== "go") return;
    const startedAt = now();
    await blast(job, async (batch) => {
      if (!conn.write(batch)) await conn.drained();
    });
    await conn.drained();
    report({ type: "done", startedAt, writtenAt: now() });
  });
  report({ type: "ready" });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  childMain().catch((err: unknown) => {
    process.send?.({ type: "error", message: (err as Error).message } satisfies FromChild);
    process.exit(1);
  });
}
