/**
 * A minimal teardown CLI with only the live and interfaces commands, for the live tests to spawn (inside a
 * network namespace) whatever src/cli/main.ts wires. Usage errors exit 2, as the real CLI.
 */
import yargs from 'yargs';
import { registerInterfacesCommand, registerLiveCommand } from '../../src/cli/live-command.js';

async function main(argv: string[]): Promise<number> {
  let status = 0;
  let usageError: string | null = null;
  const setStatus = (code: number): void => {
    status = code;
  };
  const parser = registerInterfacesCommand(registerLiveCommand(yargs(argv).scriptName('teardown'), setStatus), setStatus)
    .demandCommand(1, 'Name a command: live, interfaces')
    .strict()
    .help()
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'bad command line';
    });
  await parser.parseAsync();
  if (usageError !== null) {
    process.stderr.write(`teardown: ${usageError}\n`);
    return 2;
  }
  return status;
}

// `node --test dist/test/` also runs every plain .js file under test/, with no arguments: then there is nothing to do.
if (process.argv.length > 2) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`teardown: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
