#!/usr/bin/env node
import { Command } from "commander";

const program = new Command()
  .name("warble")
  .description("Post, follow and read Warble microblogs from the command line.")
  .option("--jid <jid>", "your account u@D (WARBLE_JID)")
  .option(
    "--password-file <file>",
    "file holding your password (WARBLE_PASSWORD: the password itself)",
  )
  .option("--service <uri>", "your server, e.g. xmpp://host:5222 (WARBLE_XMPP_SERVICE)")
  .option(
    "--component <domain>",
    "the Warble component C; found by disco when absent (WARBLE_COMPONENT)",
  )
  .option("--json", "machine-readable JSON on stdout")
  .argument("[command...]", "a command and its arguments (below)")
  .addHelpText(
    "after",
    `
Commands (planned; this version prints this help only):
  post TEXT [--reply-to URI]   delete ID       follow JID      unfollow JID
  following                    followers       pending         approve JID     deny JID
  block JID|DOMAIN             unblock ...     lock            unlock
  timeline [--limit N] [--before ID]           show JID [--limit N]            listen`,
  );

program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
program.configureOutput({
  writeErr: (s) => process.stderr.write(s.split("\n")[0] ? `${s.trim().split("\n")[0]}\n` : s),
});
program.parse();
if (program.args.length === 0) {
  program.outputHelp();
} else {
  process.stderr.write(`warble: the command "${program.args[0]}" is not built yet\n`);
  process.exit(2);
}
