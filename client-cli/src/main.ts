#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import type { GlobalOptions } from "./account.js";
import { COMMANDS, type CommandSpec } from "./commands/table.js";
import { describeFailure, EXIT, usageError } from "./errors.js";
/**
 * The `warble` command: commander wiring, and the one place errors end the process (one line
 * on stderr, an exit code of INTERFACE "The CLI", never a stack trace).
 */
import { clean } from "./format.js";

const ACCOUNT_HELP = `
Account: flags, else WARBLE_JID, WARBLE_PASSWORD (the password itself), WARBLE_XMPP_SERVICE,
WARBLE_COMPONENT, else $XDG_CONFIG_HOME/warble/config.json (mode 600):
  {"default": "me", "accounts": {"me": {"jid": "alice@example.org", "passwordFile": "~/.warble-pw"}}}
Without a password on a terminal, warble asks for it.

Exit codes: 0 ok, 2 usage, 3 authentication, 4 not reachable, 5 refused by the service.
Run "warble help COMMAND" for a command's options and an example.`;

function fail(err: unknown): never {
  const { line, code } = describeFailure(err);
  process.stderr.write(`warble: ${clean(line).replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(code);
}

async function runSpec(spec: CommandSpec, cmd: Command): Promise<void> {
  const args = cmd.args;
  const opts = cmd.opts<Record<string, string>>();
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const prepared = spec.prepare ? await spec.prepare(args, opts) : undefined;
  const { withSession } = await import("./context.js");
  await withSession(globals, (ctx) => spec.run(ctx, args, opts, prepared));
}

function addCommand(program: Command, spec: CommandSpec): void {
  const cmd = program
    .command(spec.args ? `${spec.name} ${spec.args}` : spec.name)
    .description(spec.summary)
    .option("--json", "machine-readable JSON on stdout")
    .addHelpText("after", `\nExample:\n  ${spec.example}`);
  for (const o of spec.options ?? []) cmd.option(o.flags, o.description);
  cmd.action(async (...params: unknown[]) => runSpec(spec, params[params.length - 1] as Command));
}

function buildProgram(): Command {
  const program = new Command()
    .name("warble")
    .description("Post, follow and read Warble microblogs from the command line.")
    .option("--jid <jid>", "your account u@D (WARBLE_JID)")
    .option("--password-file <file>", "file holding your password (WARBLE_PASSWORD: the password)")
    .option("--service <uri>", "your server, e.g. xmpp://host:5222 (WARBLE_XMPP_SERVICE)")
    .option("--component <domain>", "your Warble C; found by disco when absent (WARBLE_COMPONENT)")
    .option("--account <name>", "an account of the config file")
    .option("--json", "machine-readable JSON on stdout")
    .configureHelp({ showGlobalOptions: true })
    .addHelpText("after", ACCOUNT_HELP)
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  for (const spec of COMMANDS) addCommand(program, spec);
  return program;
}

/** Commander's own errors: help is success, everything else a usage error in our words. */
function commanderFailure(err: CommanderError): never {
  if (
    err.exitCode === 0 ||
    err.code === "commander.helpDisplayed" ||
    err.code === "commander.version"
  )
    process.exit(EXIT.ok);
  if (err.code === "commander.help") process.exit(EXIT.usage);
  if (err.code === "commander.unknownCommand") {
    const name = /'([^']*)'/.exec(err.message)?.[1] ?? "";
    fail(usageError(`unknown command "${name}" (see warble --help)`));
  }
  fail(usageError(`${err.message.replace(/^error: /, "")} (see warble --help)`));
}

async function main(): Promise<void> {
  // `warble listen --json | head -1`: a closed pipe ends the CLI quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(EXIT.ok);
  });
  process.on("unhandledRejection", fail);
  process.on("uncaughtException", fail);
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) commanderFailure(err);
    fail(err);
  }
  process.exit(EXIT.ok);
}

void main();
