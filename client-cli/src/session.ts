/**
 * One logged-in XMPP connection (@xmpp/client): login with a 10 s limit, IQs whose errors
 * become exit codes, incoming stanzas, and a quick close (the stream end is not waited for
 * long: by then every request has been answered).
 */
import { randomBytes } from "node:crypto";
import { type Client, client } from "@xmpp/client";
import { describeStanzaError, parseStanzaError } from "../../schemas/src/errors.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { isLoopback } from "./account.js";
import type { Account } from "./account-io.js";
import { authError, CliError, refusedError, unreachableError } from "./errors.js";

export const TIMEOUT_MS = 10_000;

type Authenticate = (creds: object, mechanism: string) => Promise<void>;
interface Entity {
  isSecure(): boolean;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name cannot be resolved now",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "the connection was reset",
};

function loginFailure(account: Account, err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err as { name?: string; code?: string; condition?: string; text?: string };
  const where = `${account.service.host}:${account.service.port}`;
  if (e.name === "SASLError") {
    if (e.condition === "not-authorized")
      return authError(`the server refused the password for ${account.jid}`);
    return authError(`the server refused the login of ${account.jid}: ${e.text || e.condition}`);
  }
  if (e.name === "StreamError") {
    const why =
      e.condition === "host-unknown" ? `it does not serve ${account.domain}` : e.condition;
    return unreachableError(`cannot reach ${where}: ${why}${e.text ? ` (${e.text})` : ""}`);
  }
  if (e.name === "TimeoutError")
    return unreachableError(`cannot reach ${where}: no answer within ${TIMEOUT_MS / 1000} s`);
  const reason = (e.code && REASONS[e.code]) || (err as Error)?.message || String(err);
  return unreachableError(`cannot reach ${where}: ${reason}`);
}

function credentialsFor(account: Account) {
  const { local: username, password } = account;
  return async (
    authenticate: Authenticate,
    mechanisms: string[],
    _fast: unknown,
    entity: Entity,
  ) => {
    const plainAllowed = isLoopback(account.service.host) || entity.isSecure();
    const mechanism =
      plainAllowed && mechanisms.includes("PLAIN")
        ? "PLAIN"
        : mechanisms.find((m) => m.startsWith("SCRAM-"));
    if (!mechanism) {
      throw authError(
        `${account.service.host} offers no safe way to log in without TLS (it offers ${mechanisms.join(", ")})`,
      );
    }
    await authenticate({ username, password }, mechanism);
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

export class Session {
  private closed = false;

  private constructor(
    readonly account: Account,
    private readonly xmpp: Client,
  ) {}

  /** Log in; CliError 3 (password) or 4 (not reachable) when it cannot. */
  static async open(account: Account): Promise<Session> {
    const xmpp = client({
      service: account.service.uri,
      domain: account.domain,
      timeout: TIMEOUT_MS,
      resource: `warble-${randomBytes(4).toString("hex")}`,
      credentials: credentialsFor(account),
    } as unknown as Parameters<typeof client>[0]);
    xmpp.reconnect.stop();
    xmpp.on("error", () => {});
    const session = new Session(account, xmpp);
    const where = `${account.service.host}:${account.service.port}`;
    try {
      await withTimeout(xmpp.start(), TIMEOUT_MS, () =>
        unreachableError(`cannot reach ${where}: no answer within ${TIMEOUT_MS / 1000} s`),
      );
    } catch (err) {
      session.destroy();
      throw loginFailure(account, err);
    }
    return session;
  }

  /** Send an IQ and resolve with the result stanza; an error reply becomes CliError 5 (or 4). */
  async request(type: "get" | "set", to: string, child: Element): Promise<Element> {
    const iq = xml("iq", { type, to }, child);
    try {
      return (await this.xmpp.iqCaller.request(iq as never, TIMEOUT_MS)) as unknown as Element;
    } catch (err) {
      throw iqFailure(to, err);
    }
  }

  send(el: Element): Promise<void> {
    return this.xmpp.send(el as never);
  }

  /** Listen to incoming stanzas; returns the function that stops listening. */
  onStanza(handler: (el: Element) => void): () => void {
    const listener = (el: unknown) => handler(el as Element);
    this.xmpp.on("stanza", listener);
    return () => {
      this.xmpp.removeListener("stanza", listener);
    };
  }

  /** Called once when the connection is lost (not after close()). */
  onDisconnect(handler: () => void): void {
    this.xmpp.once("disconnect", () => {
      if (!this.closed) handler();
    });
  }

  /** End the stream; waits at most `waitMs` for the server's end, then drops the socket. */
  async close(waitMs = 25): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(this.xmpp.stop(), waitMs, () => new Error("slow close")).catch(() => {});
    this.destroy();
  }

  private destroy(): void {
    this.closed = true;
    const socket = (this.xmpp as unknown as { socket?: { destroy(): void } | null }).socket;
    socket?.destroy();
  }
}

const UNREACHABLE = new Set(["remote-server-not-found", "remote-server-timeout"]);

function iqFailure(to: string, err: unknown): CliError {
  const e = err as { name?: string; element?: Element };
  if (e.name === "TimeoutError")
    return unreachableError(`cannot reach ${to}: no answer within ${TIMEOUT_MS / 1000} s`);
  if (e.name === "StanzaError" && e.element) {
    const parsed = parseStanzaError(e.element);
    const text = parsed.text ?? describeStanzaError(parsed);
    if (UNREACHABLE.has(parsed.condition)) return unreachableError(`cannot reach ${to}: ${text}`);
    return refusedError(text);
  }
  return unreachableError(`cannot reach ${to}: ${(err as Error)?.message ?? String(err)}`);
}
