/**
 * `listen`: new home-timeline posts as they arrive, in archive order, each printed once. The
 * last printed MAM id is the cursor: a relayed chat message from u@C, a 5 s poll and every
 * reconnection all fetch by MAM after it. The connection comes back by itself (1 s doubling
 * to 30 s); SIGINT/SIGTERM end with 0.
 */
import type { MamResult } from "../../schemas/src/mam.js";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { type Ctx, print, printJson } from "./context.js";
import { CliError, EXIT } from "./errors.js";
import { formatPost, stdoutLook } from "./format.js";
import { type MamPage, queryMam } from "./mam-client.js";
import { type Post, postFromMam } from "./posts.js";
import { Session } from "./session.js";

export const POLL_MS = 5_000;
export const BACKOFF_FIRST_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
const PAGE = 100;

interface Cursor {
  id: string;
  stamp: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bare = (jid: string | undefined) => (jid ?? "").split("/")[0]?.toLowerCase() ?? "";
const isNumber = (s: string) => /^\d+$/.test(s);
const note = (text: string) => process.stderr.isTTY && process.stderr.write(`warble: ${text}\n`);

export class Listener {
  private cursor: Cursor | undefined;
  private fetching = false;
  private again = false;
  private stopped = false;

  constructor(
    private session: Session,
    private readonly service: string,
    private readonly show: (post: Post) => void,
  ) {}

  /** Start after the newest post there is now; then listen until stopped. */
  async start(): Promise<void> {
    const page = await queryMam(this.session, this.service, { max: 1, before: "" });
    const newest = page.results[page.results.length - 1];
    if (newest) this.cursor = { id: newest.id, stamp: newest.stamp };
    await this.attach(this.session);
    setInterval(() => this.trigger(), POLL_MS);
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.session.close(0);
  }

  private async attach(session: Session): Promise<void> {
    this.session = session;
    session.onStanza((el) => {
      if (this.isRelay(el)) this.trigger();
    });
    session.onDisconnect(() => void this.reconnect());
    await session.send(presence());
    this.trigger();
  }

  /** A relayed chat message from u@C about a post after the cursor. */
  private isRelay(el: Element): boolean {
    if (el.name !== "message" || bare(el.attrs.from) !== this.service) return false;
    if (!el.getChild("relayed", NS_WARBLE)) return false;
    const seq = /^warble-relay-(\d+)$/.exec(el.attrs.id ?? "")?.[1];
    const last = this.cursor?.id;
    return !(seq && last && isNumber(last) && Number(seq) <= Number(last));
  }

  /** Fetch what is new; a fetch under way fetches again when it is done. */
  trigger(): void {
    if (this.stopped) return;
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = true;
    void this.drain().finally(() => {
      this.fetching = false;
    });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      const session = this.session;
      try {
        await this.fetchNew();
      } catch (err) {
        if (err instanceof CliError && /no answer within/.test(err.message)) {
          // Only the session that timed out goes (a reconnection may have replaced it already).
          if (session === this.session) {
            await session.close(0);
            void this.reconnect();
          }
          return;
        }
        // The connection is going or the service is away: the next poll or reconnection retries.
      }
    } while (this.again && !this.stopped);
  }

  private async fetchNew(): Promise<void> {
    for (;;) {
      const page = await this.pageAfter();
      const fresh = page.results.filter((r) => this.isAfterCursor(r));
      for (const result of fresh) this.emit(result);
      if (page.fin.complete || fresh.length === 0) return;
    }
  }

  /** The page after the cursor; when its post is gone (unfollowed), the page from its time on. */
  private async pageAfter(): Promise<MamPage> {
    const cursor = this.cursor;
    if (!cursor) return queryMam(this.session, this.service, { max: PAGE });
    try {
      return await queryMam(this.session, this.service, { max: PAGE, after: cursor.id });
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.refused) throw err;
      return queryMam(this.session, this.service, { max: PAGE }, { start: cursor.stamp });
    }
  }

  private isAfterCursor(result: MamResult): boolean {
    const last = this.cursor?.id;
    if (last === undefined || result.id === last) return last === undefined;
    return !(isNumber(last) && isNumber(result.id)) || Number(result.id) > Number(last);
  }

  private emit(result: MamResult): void {
    this.cursor = { id: result.id, stamp: result.stamp };
    const post = postFromMam(result);
    if (post) this.show(post);
  }

  /** Log in again with backoff; a refused password ends the CLI (3). One loop at a time. */
  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      await this.reconnectLoop();
    } finally {
      this.reconnecting = false;
    }
  }

  private reconnecting = false;

  private async reconnectLoop(): Promise<void> {
    let delay = BACKOFF_FIRST_MS;
    while (!this.stopped) {
      note(`connection lost; trying again in ${delay / 1000} s`);
      await sleep(delay);
      try {
        const session = await Session.open(this.session.account);
        if (this.stopped) return void (await session.close(0));
        await this.attach(session);
        note("connected again");
        return;
      } catch (err) {
        if (err instanceof CliError && err.exitCode === EXIT.auth) throw err;
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      }
    }
  }
}

function presence(): Element {
  // Available, priority 0: the server then delivers u@C's relayed chat messages here too.
  return xml("presence");
}

export async function listen(ctx: Ctx): Promise<void> {
  const service = await ctx.ownService();
  const look = stdoutLook();
  const show = (post: Post) => {
    if (ctx.json) printJson(post);
    else {
      look.now = Date.now();
      print(formatPost(post, look, Math.min(30, [...post.author].length)).join("\n"));
    }
  };
  const listener = new Listener(ctx.session, service, show);
  const end = () => void listener.stop().finally(() => process.exit(EXIT.ok));
  process.once("SIGINT", end);
  process.once("SIGTERM", end);
  await listener.start();
  await new Promise<never>(() => {});
}
