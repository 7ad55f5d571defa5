/**
 * A Prosody and an ejabberd that federate over s2s on loopback (dialback, no TLS):
 *   - prosody: users on `localhost`, component `microblog.localhost`; it routes ejabberd's two
 *     domains to ejabberd's s2s port (prosody-config/modules/mod_warble_s2s_routes.lua);
 *   - ejabberd: users on `ej.localhost`, component `microblog.ej.localhost`; it finds Prosody's
 *     domains through a private DNS responder (./dns-responder.ts) that answers
 *     `_xmpp-server._tcp.D` SRV with Prosody's s2s port. For `localhost` itself ejabberd asks no
 *     SRV (dot-less) and connects to outgoing_s2s_port, which is Prosody's s2s port too.
 * The responder lives as long as the pair, so either server can stop and restart (on the same
 * ports) in between; dispose() stops both servers and the responder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type Ports,
  type RunningServer,
  type ServerOptions,
  startEjabberd,
  startProsody,
} from "../../scripts/servers.js";
import { type DnsResponder, startDnsResponder } from "./dns-responder.js";
import type { FederatedServer } from "./federation.js";
import { asTestServer } from "./servers.js";

export interface FederatedMixedPair {
  /** Prosody: users `localhost`, component `microblog.localhost` by default. */
  prosody: FederatedServer;
  /** ejabberd: users `ej.localhost`, component `microblog.ej.localhost` by default. */
  ejabberd: FederatedServer;
  /** The DNS responder ejabberd asks (Prosody's domains → Prosody's s2s port). */
  dns: DnsResponder;
  /** Stop both servers and the DNS responder, remove the temp dirs (never throws). */
  dispose(): Promise<void>;
}

export interface FederatedMixedPairOptions {
  prosody?: { usersDomain?: string; componentDomain?: string };
  ejabberd?: {
    usersDomain?: string;
    componentDomain?: string;
    /** s2s_max_retry_delay in seconds (default 5). */
    maxRetryDelaySeconds?: number;
  };
}

async function pickDistinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function startOne(
  kind: "prosody" | "ejabberd",
  opts: Omit<ServerOptions, "dir" | "secret">,
  s2sRoutes: Record<string, number>,
): Promise<FederatedServer> {
  const dir = mkdtempSync(join(tmpdir(), `warble-${kind}-mixed-`));
  const secret = `secret-${Math.random().toString(36).slice(2)}`;
  let server: RunningServer;
  try {
    server = await (kind === "prosody" ? startProsody : startEjabberd)({ ...opts, dir, secret });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return Object.assign(asTestServer(server, dir), { s2sRoutes });
}

/**
 * Start the DNS responder, then Prosody and ejabberd side by side (about 1.5 s, ejabberd's boot).
 * All six TCP ports are picked first, because each side's config names the other's s2s port. On
 * failure, whatever was started is stopped and the error (a ServerStartError carries the
 * server's log) is rethrown.
 */
export async function startFederatedMixedPair(
  opts: FederatedMixedPairOptions = {},
): Promise<FederatedMixedPair> {
  const p = await pickDistinctPorts(6);
  const prosodyPorts: Ports = { c2s: p[0]!, s2s: p[1]!, component: p[2]! };
  const ejabberdPorts: Ports = { c2s: p[3]!, s2s: p[4]!, component: p[5]! };
  const pd = {
    usersDomain: opts.prosody?.usersDomain ?? "localhost",
    componentDomain: opts.prosody?.componentDomain ?? "microblog.localhost",
  };
  const ed = {
    usersDomain: opts.ejabberd?.usersDomain ?? "ej.localhost",
    componentDomain: opts.ejabberd?.componentDomain ?? "microblog.ej.localhost",
  };
  const toProsody = { [pd.usersDomain]: prosodyPorts.s2s, [pd.componentDomain]: prosodyPorts.s2s };
  const toEjabberd = {
    [ed.usersDomain]: ejabberdPorts.s2s,
    [ed.componentDomain]: ejabberdPorts.s2s,
  };
  const dns = await startDnsResponder({ srv: toProsody });
  const started = await Promise.allSettled([
    startOne("prosody", { ...pd, ports: prosodyPorts, s2sRoutes: toEjabberd }, toEjabberd),
    startOne(
      "ejabberd",
      {
        ...ed,
        ports: ejabberdPorts,
        ejabberdS2s: {
          dnsPort: dns.port,
          // Dot-less names (`localhost`) get no SRV lookup: they go to this port.
          outgoingPort: prosodyPorts.s2s,
          maxRetryDelaySeconds: opts.ejabberd?.maxRetryDelaySeconds ?? 5,
        },
      },
      toProsody,
    ),
  ]);
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(servers.map((s) => s.dispose()));
    await dns.close();
    throw failed.reason;
  }
  const [prosody, ejabberd] = started.map(
    (r) => (r as PromiseFulfilledResult<FederatedServer>).value,
  ) as [FederatedServer, FederatedServer];
  console.info(
    `harness: prosody (${pd.usersDomain}, s2s ${prosodyPorts.s2s}) federated with ejabberd (${ed.usersDomain}, s2s ${ejabberdPorts.s2s}), DNS on udp ${dns.port}`,
  );
  return {
    prosody,
    ejabberd,
    dns,
    dispose: async () => {
      await Promise.allSettled([prosody.dispose(), ejabberd.dispose()]);
      await dns.close();
    },
  };
}
