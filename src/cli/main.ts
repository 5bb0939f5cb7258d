// tug: the command line client (esbuild entry point).
import { buildProgram } from './commands.js';
import { normalizeBooleanFlags } from './argv.js';

// A closed pipe on our output (`tug logs -f | head -1`) ends the command quietly instead of crashing.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

async function main(): Promise<void> {
  const program = buildProgram();
  if (process.argv.length <= 2) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(normalizeBooleanFlags(program, process.argv));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
