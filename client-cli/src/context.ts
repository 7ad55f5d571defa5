/** What every command runs with: the account, a logged-in session, C, and the output. */

import type { GlobalOptions } from "./account.js";
import { type Account, loadAccount } from "./account-io.js";
import { findComponent, type Warble } from "./discovery.js";
import { Session } from "./session.js";

export interface Ctx {
  account: Account;
  session: Session;
  json: boolean;
  /** The user's Warble C: given, or found by disco (once). */
  component(): Promise<string>;
  /** The user's microblog address u@C. */
  ownService(): Promise<string>;
}

export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function makeCtx(account: Account, session: Session, json: boolean): Ctx {
  let warble: Promise<Warble> | undefined;
  const find = () => {
    warble ??= account.component
      ? Promise.resolve({ jid: account.component })
      : findComponent(session, account.domain);
    return warble;
  };
  return {
    account,
    session,
    json,
    component: async () => (await find()).jid,
    ownService: async () => {
      const { jid, usersDomains } = await find();
      const local = account.local.toLowerCase();
      // A Warble's address of a user of its first users domain is local@C, else local\40domain@C.
      const primary = !usersDomains || usersDomains[0] === account.domain;
      return primary ? `${local}@${jid}` : `${local}\\40${account.domain}@${jid}`;
    },
  };
}

/** Load the account, log in, run `work`, and close the connection whatever happens. */
export async function withSession<T>(
  options: GlobalOptions,
  work: (ctx: Ctx) => Promise<T>,
): Promise<T> {
  const account = await loadAccount(options, process.env);
  const session = await Session.open(account);
  try {
    return await work(makeCtx(account, session, options.json === true));
  } finally {
    await session.close();
  }
}
