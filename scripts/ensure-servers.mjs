#!/usr/bin/env node
// Make sure the XMPP servers, PostgreSQL (and the independent test client) are installed, with
// apt-get when they are missing and we run as root.
// Usage: ensure-servers.mjs [prosody] [ejabberd] [slixmpp] [postgresql]
// (no argument: all four, as `npm test` needs).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const wanted = process.argv.slice(2);
const all = wanted.length === 0;
const checks = [
  { name: "prosody", pkg: "prosody", ok: () => has("prosodyctl") },
  { name: "ejabberd", pkg: "ejabberd", ok: () => has("ejabberdctl") },
  {
    name: "slixmpp",
    pkg: "python3-slixmpp",
    ok: () =>
      spawnSync("/usr/bin/python3", ["-c", "from slixmpp import ClientXMPP"], { stdio: "ignore" })
        .status === 0,
  },
  // The test harness runs Debian's server binaries itself (test/harness/postgres.ts).
  { name: "postgresql", pkg: "postgresql", ok: () => hasPostgresServer() },
].filter((c) => all || wanted.includes(c.name));

function hasPostgresServer() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return false;
  return readdirSync(root).some(
    (v) => existsSync(`${root}/${v}/bin/initdb`) && existsSync(`${root}/${v}/bin/postgres`),
  );
}

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const missing = checks.filter((c) => !c.ok());
if (missing.length > 0) {
  const pkgs = missing.map((c) => c.pkg);
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      `warble: missing ${pkgs.join(", ")}; install with: sudo apt-get install -y ${pkgs.join(" ")}\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`warble: installing ${pkgs.join(", ")} with apt-get (once)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
    execFileSync("apt-get", ["install", "-y", "-qq", ...pkgs], {
      stdio: ["ignore", "ignore", "inherit"],
      env,
    });
  } catch {
    process.stderr.write(`warble: apt-get could not install ${pkgs.join(", ")}\n`);
    process.exit(1);
  }
  // Debian starts nothing on install here, but stop system services if a policy did.
  for (const svc of ["prosody", "ejabberd", "postgresql"])
    spawnSync("service", [svc, "stop"], { stdio: "ignore" });
  const still = missing.filter((c) => !c.ok());
  if (still.length > 0) {
    process.stderr.write(
      `warble: still missing after install: ${still.map((c) => c.pkg).join(", ")}\n`,
    );
    process.exit(1);
  }
}
