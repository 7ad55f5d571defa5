/** What ends the CLI: one line on stderr and an exit code (INTERFACE "The CLI"). */

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  refused: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
export const authError = (message: string) => new CliError(message, EXIT.auth);
export const unreachableError = (message: string) => new CliError(message, EXIT.unreachable);
export const refusedError = (message: string) => new CliError(message, EXIT.refused);

/** The line and code for anything thrown; never a stack trace. */
export function describeFailure(err: unknown): { line: string; code: ExitCode } {
  if (err instanceof CliError) return { line: err.message, code: err.exitCode };
  const text = err instanceof Error ? err.message : String(err);
  return { line: `internal error: ${text}`, code: EXIT.internal };
}
