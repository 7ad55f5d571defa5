/** Who owns which microblog address: only the canonical address of each user owns a node. */
import { describe, expect, it } from "vitest";
import { Addresses } from "../../../component/src/protocol/addresses.js";

const a = new Addresses("microblog.localhost", ["localhost", "other.example"]);

describe("Addresses", () => {
  it.each([
    ["alice@microblog.localhost", "alice@localhost"],
    ["Alice@Microblog.Localhost/res", "alice@localhost"],
    ["bob\\40other.example@microblog.localhost", "bob@other.example"],
  ])("%s belongs to %s", (service, owner) => {
    expect(a.ownerOfService(service)).toBe(owner);
    expect(a.serviceOf(owner)).toBe(service.toLowerCase().split("/")[0]);
  });

  it.each([
    // The escaped form of a user of the first users domain: alice@C is her only address.
    "alice\\40localhost@microblog.localhost",
    "alice\\40LOCALHOST@microblog.localhost",
    // An escaped "@" inside the user part names no JID.
    "a\\40b\\40other.example@microblog.localhost",
    "bob\\40unknown.example@microblog.localhost",
    "\\40other.example@microblog.localhost",
    "microblog.localhost",
    "alice@elsewhere.example",
  ])("%s belongs to nobody", (service) => {
    expect(a.ownerOfService(service)).toBeUndefined();
  });

  it("gives no address to a JID that could not own one", () => {
    expect(a.serviceOf("a\\40b@other.example")).toBeNull();
    expect(a.serviceOf("alice@elsewhere.example")).toBeNull();
  });
});
