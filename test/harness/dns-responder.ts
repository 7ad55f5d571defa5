/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for federation tests: ejabberd 23.01 finds
 * s2s peers only through DNS (SERVERS.md), so the harness points it here with an Erlang inetrc.
 *
 * It answers, for each listed domain D:
 *   - SRV `_xmpp-server._tcp.D` → priority 0, weight 0, the domain's s2s port, target `localhost`;
 *   - A `D` → 127.0.0.1;
 *   - any other type for those names → no answer (NODATA);
 * and NXDOMAIN for every other name. It binds to 127.0.0.1 only, answers only loopback senders,
 * ignores datagrams it cannot parse, and sends one answer at most per query (always under 512
 * bytes). The wire format (RFC 1035, RFC 2782) is written by hand below.
 */
import { createSocket, type RemoteInfo } from "node:dgram";

const TYPE_A = 1;
const TYPE_SRV = 33;
const TYPE_ANY = 255;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const SRV_PREFIX = "_xmpp-server._tcp.";
const TTL_SECONDS = 5;
const MAX_LOGGED = 200;

export interface DnsQuery {
  /** 1 for the first query answered, then 2, ... (the log keeps the last 200). */
  seq: number;
  /** The name asked, lower-cased. */
  name: string;
  type: number;
  rcode: number;
  answers: number;
}

export interface DnsResponder {
  /** The UDP port on 127.0.0.1. */
  port: number;
  /** Point `_xmpp-server._tcp.DOMAIN` at 127.0.0.1 (target `localhost`) on this s2s port. */
  setSrv(domain: string, s2sPort: number): void;
  /** Forget a domain: its names get NXDOMAIN from now on. */
  deleteSrv(domain: string): void;
  /** The domains answered, and their s2s ports. */
  routes(): Record<string, number>;
  /** The last queries answered (at most 200), oldest first. */
  queries(): DnsQuery[];
  /** Stop listening (never throws; idempotent). */
  close(): Promise<void>;
}

export interface DnsResponderOptions {
  /** Domains and the s2s port their SRV record names. */
  srv?: Record<string, number>;
  /** Fixed UDP port; a free one when absent. */
  port?: number;
}

interface Question {
  id: number;
  flags: number;
  /** The name asked, lower-cased for matching (raw keeps its case). */
  name: string;
  type: number;
  cls: number;
  /** The question section's bytes, copied into the answer as they came. */
  raw: Buffer;
}

function normalize(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, "");
}

/** The question of a standard query, or a reason it is not one (null: not worth an answer). */
export function parseQuery(
  msg: Buffer,
): Question | { id: number; flags: number; rcode: number } | null {
  if (msg.length < 12) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response: never answer those
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { id, flags, rcode: RCODE_NOTIMP };
  if (msg.readUInt16BE(4) !== 1) return { id, flags, rcode: RCODE_FORMERR };
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return { id, flags, rcode: RCODE_FORMERR };
    const len = msg[off]!;
    off += 1;
    if (len === 0) break;
    // No compression pointers (0xc0) or extended labels in a question; 63 bytes a label.
    if (len > 63 || off + len > msg.length) return { id, flags, rcode: RCODE_FORMERR };
    labels.push(msg.toString("latin1", off, off + len));
    off += len;
    if (off - 12 > 255) return { id, flags, rcode: RCODE_FORMERR };
  }
  if (off + 4 > msg.length) return { id, flags, rcode: RCODE_FORMERR };
  const type = msg.readUInt16BE(off);
  const cls = msg.readUInt16BE(off + 2);
  return {
    id,
    flags,
    name: labels.join(".").toLowerCase(),
    type,
    cls,
    raw: Buffer.from(msg.subarray(12, off + 4)),
  };
}

/** A name in wire format, uncompressed. */
function encodeName(name: string): Buffer {
  const parts = normalize(name)
    .split(".")
    .filter((l) => l.length > 0);
  const bufs: Buffer[] = [];
  for (const label of parts) {
    const b = Buffer.from(label, "latin1");
    if (b.length > 63) throw new Error(`DNS label too long: ${label}`);
    bufs.push(Buffer.from([b.length]), b);
  }
  bufs.push(Buffer.from([0]));
  return Buffer.concat(bufs);
}

function header(id: number, queryFlags: number, rcode: number, qd: number, an: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  // QR, the query's opcode, AA, the query's RD; RA clear (no recursion here).
  const flags = 0x8000 | (queryFlags & 0x7800) | 0x0400 | (queryFlags & 0x0100) | (rcode & 0xf);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

/** One answer record whose owner is the question's name (a pointer to offset 12). */
function record(type: number, rdata: Buffer): Buffer {
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(TTL_SECONDS, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([rr, rdata]);
}

function srvData(port: number, target: string): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(0, 0); // priority
  fixed.writeUInt16BE(0, 2); // weight
  fixed.writeUInt16BE(port, 4);
  return Buffer.concat([fixed, encodeName(target)]);
}

/** The answer to one datagram given the routes, or null when it gets none. */
export function answer(
  msg: Buffer,
  routes: ReadonlyMap<string, number>,
): { reply: Buffer; query: Omit<DnsQuery, "seq"> } | null {
  const q = parseQuery(msg);
  if (!q) return null;
  if (!("name" in q)) {
    return {
      reply: header(q.id, q.flags, q.rcode, 0, 0),
      query: { name: "", type: 0, rcode: q.rcode, answers: 0 },
    };
  }
  const records: Buffer[] = [];
  let rcode = RCODE_NXDOMAIN;
  if (q.cls === CLASS_IN || q.cls === TYPE_ANY) {
    const srvFor = q.name.startsWith(SRV_PREFIX) ? q.name.slice(SRV_PREFIX.length) : null;
    const srvPort = srvFor === null ? undefined : routes.get(srvFor);
    if (srvPort !== undefined) {
      rcode = RCODE_NOERROR;
      if (q.type === TYPE_SRV || q.type === TYPE_ANY) {
        records.push(record(TYPE_SRV, srvData(srvPort, "localhost")));
      }
    } else if (routes.has(q.name)) {
      rcode = RCODE_NOERROR;
      if (q.type === TYPE_A || q.type === TYPE_ANY) {
        records.push(record(TYPE_A, Buffer.from([127, 0, 0, 1])));
      }
    }
  }
  return {
    reply: Buffer.concat([header(q.id, q.flags, rcode, 1, records.length), q.raw, ...records]),
    query: { name: q.name, type: q.type, rcode, answers: records.length },
  };
}

function isLoopback(rinfo: RemoteInfo): boolean {
  return rinfo.family === "IPv4" && rinfo.address.startsWith("127.");
}

/** Start answering on 127.0.0.1 (UDP); reject if the port cannot be bound. */
export async function startDnsResponder(opts: DnsResponderOptions = {}): Promise<DnsResponder> {
  const routes = new Map<string, number>();
  const setSrv = (domain: string, port: number) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`bad s2s port for ${domain}: ${port}`);
    }
    encodeName(domain); // throws on a label over 63 bytes
    routes.set(normalize(domain), port);
  };
  for (const [domain, port] of Object.entries(opts.srv ?? {})) setSrv(domain, port);

  const log: DnsQuery[] = [];
  let seq = 0;
  const socket = createSocket({ type: "udp4" });
  socket.on("message", (msg, rinfo) => {
    if (!isLoopback(rinfo)) return;
    let result: ReturnType<typeof answer>;
    try {
      result = answer(msg, routes);
    } catch {
      return;
    }
    if (!result) return;
    log.push({ seq: ++seq, ...result.query });
    if (log.length > MAX_LOGGED) log.shift();
    socket.send(result.reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(opts.port ?? 0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  // A send error (the asker went away) must not crash the test process.
  socket.on("error", () => {});
  socket.unref();
  let closed: Promise<void> | null = null;
  return {
    port: socket.address().port,
    setSrv,
    deleteSrv: (domain) => {
      routes.delete(normalize(domain));
    },
    routes: () => Object.fromEntries(routes),
    queries: () => [...log],
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
      return closed;
    },
  };
}
