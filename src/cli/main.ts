// tug: the command line client (esbuild entry point).
import { buildProgram } from './commands.js';
import { normalizeBooleanFlags } from './argv.js';
import { err, installLazyStdio } from './output.js';

installLazyStdio();

/** The command word: the first argument that is neither a global flag nor a global flag's value. */
function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-H' || a === '--host' || a === '-l' || a === '--log-level') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

async function main(): Promise<void> {
  const program = buildProgram(commandWord(process.argv.slice(2)));
  if (process.argv.length <= 2) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(normalizeBooleanFlags(program, process.argv));
}

main().catch((e: unknown) => {
  err(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
