// tug: the command line client (esbuild entry point).
import { buildProgram } from './commands.js';
import { normalizeBooleanFlags } from './argv.js';

// A closed pipe on our output (`tug logs -f | head -1`) ends the command quietly instead of crashing. The handler is
// attached when a stream is first used: node makes process.stdout and stderr on first access, which costs a
// command that prints nothing (`run --rm IMAGE true`) a few milliseconds of module loading.
for (const name of ['stdout', 'stderr'] as const) {
  const original = Object.getOwnPropertyDescriptor(process, name);
  if (!original?.get) continue;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      const stream = original.get?.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, name, { configurable: true, enumerable: original.enumerable, writable: true, value: stream });
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0);
        throw e;
      });
      return stream;
    },
  });
}

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
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
