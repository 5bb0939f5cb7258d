// How long each step of one operation took, for a debug log line ({ rootfs: 1, network: 0, runtime: 53 }).
export class PhaseTimer {
  private last = performance.now();
  readonly ms: Record<string, number> = {};

  /** The step called `name` ends now. */
  mark(name: string): void {
    const now = performance.now();
    this.ms[name] = Math.round(now - this.last);
    this.last = now;
  }
}
