/**
 * Two private Prosody instances that federate over s2s on loopback: "home" (the server under
 * test: users on localhost, Warble at microblog.localhost) and "rogue" (another operator's
 * server: users on rogue.localhost, a component at microblog.rogue.localhost). Each routes the
 * other's two domains to the other's s2s port (prosody-config/modules/mod_warble_s2s_routes.lua);
 * s2s authenticates with dialback, without TLS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type Ports, startProsody } from "../../scripts/servers.js";
import { asTestServer, type TestServer } from "./servers.js";

export interface FederatedServer extends TestServer {
  /** The remote domains this server routes, and where to (the peer's s2s port). */
  s2sRoutes: Record<string, number>;
}

export interface FederatedPair {
  home: FederatedServer;
  rogue: FederatedServer;
  /** Stop both servers and remove their temp dirs (never throws). */
  dispose(): Promise<void>;
}

export interface FederatedPairOptions {
  home?: { usersDomain?: string; componentDomain?: string };
  rogue?: { usersDomain?: string; componentDomain?: string };
}

interface Side {
  name: string;
  usersDomain: string;
  componentDomain: string;
  ports: Ports;
}

async function pickDistinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function startSide(side: Side, peer: Side): Promise<FederatedServer> {
  const dir = mkdtempSync(join(tmpdir(), `warble-prosody-${side.name}-`));
  const secret = `secret-${Math.random().toString(36).slice(2)}`;
  const s2sRoutes = {
    [peer.usersDomain]: peer.ports.s2s,
    [peer.componentDomain]: peer.ports.s2s,
  };
  const { usersDomain, componentDomain } = side;
  let server: Awaited<ReturnType<typeof startProsody>>;
  try {
    server = await startProsody({
      usersDomain,
      componentDomain,
      secret,
      dir,
      ports: side.ports,
      s2sRoutes,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return Object.assign(asTestServer(server, dir), { s2sRoutes });
}

/**
 * Start "home" and "rogue" Prosody instances routed to each other. All six ports are picked
 * first, because each server's config needs the other's s2s port. On failure, whatever was
 * started is stopped and the error (a ServerStartError carries the server's log) is rethrown.
 */
export async function startFederatedProsodyPair(
  opts: FederatedPairOptions = {},
): Promise<FederatedPair> {
  const p = await pickDistinctPorts(6);
  const home: Side = {
    name: "home",
    usersDomain: opts.home?.usersDomain ?? "localhost",
    componentDomain: opts.home?.componentDomain ?? "microblog.localhost",
    ports: { c2s: p[0]!, s2s: p[1]!, component: p[2]! },
  };
  const rogue: Side = {
    name: "rogue",
    usersDomain: opts.rogue?.usersDomain ?? "rogue.localhost",
    componentDomain: opts.rogue?.componentDomain ?? "microblog.rogue.localhost",
    ports: { c2s: p[3]!, s2s: p[4]!, component: p[5]! },
  };
  const started = await Promise.allSettled([startSide(home, rogue), startSide(rogue, home)]);
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(servers.map((s) => s.dispose()));
    throw failed.reason;
  }
  const [homeServer, rogueServer] = servers as [FederatedServer, FederatedServer];
  return {
    home: homeServer,
    rogue: rogueServer,
    dispose: async () => {
      await Promise.allSettled([homeServer.dispose(), rogueServer.dispose()]);
    },
  };
}
