// A real terminal for CLI tests: commands run in tmux panes on a private tmux server, keys are sent with
// send-keys, the screen is read with capture-pane, and the command's exit status is printed when it ends.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

export class Terminals {
  private readonly server = `tugtest-${process.pid}-${++counter}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tug-tmux-'));
  private readonly conf = join(this.dir, 'tmux.conf');

  constructor() {
    writeFileSync(this.conf, 'set -g remain-on-exit on\nset -g history-limit 10000\nset -g status off\n');
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.server, '-f', this.conf, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Start `command` (a shell line) in a new window of the given size. */
  open(name: string, command: string, size = { cols: 80, rows: 24 }): void {
    // the status is printed by the shell: tmux may mark a pane dead before it has reaped the process
    this.tmux(['new-session', '-d', '-s', name, '-x', String(size.cols), '-y', String(size.rows), `${command}; echo "__exit=$?__"`]);
  }

  /** Type a line (Enter appended) into a window. */
  type(name: string, line: string): void { this.tmux(['send-keys', '-t', name, '-l', line]); this.tmux(['send-keys', '-t', name, 'Enter']); }

  /** Send tmux key names, e.g. "C-p", "C-q". */
  keys(name: string, ...keys: string[]): void { for (const k of keys) this.tmux(['send-keys', '-t', name, k]); }

  resize(name: string, cols: number, rows: number): void { this.tmux(['resize-window', '-t', name, '-x', String(cols), '-y', String(rows)]); }

  /** The whole screen and its scrollback. */
  screen(name: string): string { return this.tmux(['capture-pane', '-p', '-J', '-t', name, '-S', '-']); }

  /** The exit status of the window's command once it has ended (printed by the wrapper in open), else undefined. */
  exitStatus(name: string): number | undefined {
    const m = /__exit=(\d+)__/.exec(this.screen(name));
    return m ? Number(m[1]) : undefined;
  }

  /** Wait until the screen matches (returns the match) or fail with what the screen shows. */
  async waitFor(name: string, re: RegExp, timeoutMs = 15000): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen(name);
      const m = re.exec(s);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in window ${name}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Wait for the window's command to end and return its exit status. */
  async waitExit(name: string, timeoutMs = 15000): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.exitStatus(name);
      if (s !== undefined) return s;
      if (Date.now() > end) throw new Error(`window ${name} still running after ${timeoutMs} ms; screen:\n${this.screen(name)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.server, 'kill-server'], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
