// Go-style boolean flags: docker users write `--rm=false`, `--sig-proxy=false`, `--interactive=true`.
// commander knows only `--x` and `--no-x`, so those forms are rewritten before parsing. Arguments that
// belong to the container's command (after the image in `run`, `create`, `exec`) are left alone.
import type { Command, Option } from 'commander';

const TRUE = ['true', '1', 't', 'T', 'TRUE', 'True'];
const FALSE = ['false', '0', 'f', 'F', 'FALSE', 'False'];

function options(cmd: Command): readonly Option[] {
  const all: Option[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) all.push(...c.options);
  return all;
}

const takesValue = (o: Option) => o.required || o.optional;
/** commander keeps this flag private; `run`, `create` and `exec` stop parsing options at their first argument. */
const passesThrough = (cmd: Command) => !!(cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions;

export function normalizeBooleanFlags(program: Command, argv: string[]): string[] {
  const out = argv.slice(0, 2);
  let cmd = program;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { out.push(...argv.slice(i)); break; }
    if (!a.startsWith('-') || a === '-') {
      const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
      if (sub) { cmd = sub; out.push(a); continue; }
      if (passesThrough(cmd)) { out.push(...argv.slice(i)); break; }
      out.push(a);
      continue;
    }
    const opts = options(cmd);
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (m) {
      const opt = opts.find((o) => o.long === `--${m[1]}` && !o.negate && !takesValue(o));
      if (opt && (TRUE.includes(m[2]) || FALSE.includes(m[2]))) {
        if (TRUE.includes(m[2])) out.push(`--${m[1]}`);
        else if (opts.some((o) => o.long === `--no-${m[1]}`)) out.push(`--no-${m[1]}`);
        continue; // false on a flag that is off unless given: nothing to pass
      }
      out.push(a);
      continue;
    }
    out.push(a);
    // a value given as the next argument is not an argument of the command
    const opt = a.startsWith('--') ? opts.find((o) => o.long === a) : opts.find((o) => o.short === a.slice(0, 2) && a.length === 2);
    if (opt && opt.required && i + 1 < argv.length) out.push(argv[++i]);
    else if (!a.startsWith('--') && a.length > 2) {
      // grouped short flags (-it, -dit): the last one may take the following argument
      const last = opts.find((o) => o.short === `-${a[a.length - 1]}`);
      if (last?.required && i + 1 < argv.length) out.push(argv[++i]);
    }
  }
  return out;
}
