/** One XEP-0313 query: the result messages that came before the IQ result, and its <fin/>. */
import { randomBytes } from "node:crypto";
import {
  buildMamQuery,
  type MamFin,
  type MamResult,
  parseMamFin,
  parseMamResult,
} from "../../schemas/src/mam.js";
import type { RsmRequest } from "../../schemas/src/rsm.js";
import { refusedError } from "./errors.js";
import type { Session } from "./session.js";

export interface MamPage {
  results: MamResult[];
  fin: MamFin;
}

export async function queryMam(
  session: Session,
  to: string,
  rsm: RsmRequest,
  filter: { start?: number; with?: string } = {},
): Promise<MamPage> {
  const queryid = randomBytes(6).toString("hex");
  const results: MamResult[] = [];
  const stop = session.onStanza((el) => {
    if (el.name !== "message") return;
    const result = parseMamResult(el);
    if (result?.queryid === queryid) results.push(result);
  });
  try {
    const reply = await session.request("set", to, buildMamQuery({ queryid, rsm, ...filter }));
    let fin: MamFin;
    try {
      fin = parseMamFin(reply);
    } catch (err) {
      throw refusedError(
        `${to} answered the archive query without <fin/>: ${(err as Error).message}`,
      );
    }
    return { results, fin };
  } finally {
    stop();
  }
}
