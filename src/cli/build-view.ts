// The compact view of a build on a terminal: the current step as a status line with the last few lines of its
// output below, redrawn in place. The whole log is kept: it is printed when the build fails; when it succeeds only
// the lines docker ends with ("Successfully built …", "Successfully tagged …", warnings) remain.

export interface Terminal {
  write(text: string): void;
  /** Width in columns. */
  columns(): number;
}

const STEP = /^Step \d+\/\d+ : /;
const KEPT = /^(Successfully (built|tagged) |\[Warning\])/;
const MAX_PULL_LINES = 6;

/** One line as the terminal should show it: no escape sequences or control characters, tabs expanded. */
function printable(line: string): string {
  let text = '';
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x1b) {
      // CSI (ESC [ parameters, up to a final byte in @..~) or a two-character escape
      if (line[i + 1] === '[') {
        i += 2;
        while (i < line.length && !(line.charCodeAt(i) >= 0x40 && line.charCodeAt(i) <= 0x7e)) i++;
      } else i++;
      continue;
    }
    if (c === 0x09) text += '    ';
    else if (c >= 0x20 && c !== 0x7f) text += line[i];
  }
  return text;
}

/** What a line shows once carriage returns have rewritten it (a progress bar shows its last state). */
function afterCarriageReturns(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  return trimmed.slice(trimmed.lastIndexOf('\r') + 1);
}

export class CompactBuildView {
  private status = '';
  private readonly tail: string[] = [];
  private partial = '';
  private readonly pulls = new Map<string, string>();
  private readonly kept: string[] = [];
  private log = '';
  private drawn = 0;
  private dirty = false;
  private stepSeen = false;

  constructor(private readonly term: Terminal, private readonly tailSize = 5) {}

  /** The status shown before the first step (the context upload); ignored once the steps have begun. */
  setStatus(text: string): void {
    if (this.stepSeen || text === this.status) return;
    this.status = text;
    this.dirty = true;
  }

  /** Text for the log only (printed if the build fails), not for the block. */
  logOnly(text: string): void {
    this.log += text;
  }

  /** The text of a `stream` message: step headers, the builder's lines, RUN output. */
  stream(text: string): void {
    this.log += text;
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) this.line(afterCarriageReturns(raw));
    this.dirty = true;
  }

  /** A pull progress message (a base image being pulled): one line per layer, replaced as it changes. */
  pull(m: { id?: string; status?: string; progress?: string; progressDetail?: { current?: number } }): void {
    const text = `${m.id ? `${m.id}: ` : ''}${m.status ?? ''}`;
    // the log gets what a plain (non-terminal) output would show
    if (m.progressDetail?.current === undefined) this.log += `${text}\n`;
    if (m.id) {
      this.pulls.set(m.id, m.progress ? `${text} ${m.progress}` : text);
    } else this.pushTail(text);
    this.dirty = true;
  }

  private line(text: string): void {
    if (STEP.test(text)) {
      this.stepSeen = true;
      this.status = text;
      this.tail.length = 0;
      this.pulls.clear();
      return;
    }
    if (KEPT.test(text)) this.kept.push(text);
    this.pushTail(text);
  }

  private pushTail(text: string): void {
    this.tail.push(text);
    if (this.tail.length > this.tailSize) this.tail.shift();
  }

  /** The rows of the block, fitted to the terminal's width (a row that wraps would break the redraw). */
  frame(): string[] {
    const width = Math.max(10, this.term.columns() - 1);
    const fit = (s: string) => {
      const p = [...printable(s)];
      return p.length > width ? `${p.slice(0, width - 1).join('')}…` : p.join('');
    };
    const pulls = [...this.pulls.values()].slice(-MAX_PULL_LINES);
    const output = [...this.tail, ...(this.partial ? [afterCarriageReturns(this.partial)] : [])].slice(-this.tailSize);
    return [
      ...(this.status ? [fit(this.status)] : []),
      ...pulls.map((l) => `\x1b[2m${fit(`  ${l}`)}\x1b[0m`),
      ...output.map((l) => `\x1b[2m${fit(`  ${l}`)}\x1b[0m`),
    ];
  }

  /** Redraw the block if something changed. */
  render(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const rows = this.frame();
    this.term.write(`${this.erase()}${rows.map((r) => `${r}\n`).join('')}`);
    this.drawn = rows.length;
  }

  private erase(): string {
    const s = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.drawn = 0;
    return s;
  }

  /** The build succeeded: the block gives way to docker's closing lines. */
  succeed(): void {
    this.term.write(`${this.erase()}${this.kept.map((l) => `${l}\n`).join('')}`);
  }

  /** The build failed: the block gives way to the whole log. */
  fail(): void {
    const log = this.log + (this.partial && !this.log.endsWith('\n') ? '\n' : '');
    this.term.write(`${this.erase()}${log}`);
  }
}
