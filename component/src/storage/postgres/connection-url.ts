/** PostgreSQL URLs as Warble shows them: never with their password. */

/** Whether `db` names a PostgreSQL database (postgres:// or postgresql://), not a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL with its password replaced by "***"; an unparsable URL is not shown at all. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable PostgreSQL URL)";
  }
}

/** A driver's message on one line, the URL's password (if any) replaced by "***". */
export function safeMessage(err: unknown, url: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const flat = message.replace(/\s*\n\s*/g, " ").trim();
  const secret = passwordOf(url);
  return secret ? flat.split(secret).join("***") : flat;
}

function passwordOf(url: string): string | undefined {
  try {
    const { password } = new URL(url);
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
