// Showing a stream of JSON progress messages (import, pull) the way docker does: one line per layer ID, updated
// in place on a terminal; plain status lines otherwise. An {"error":…} message ends the stream with that error.
import type { JsonMessage } from '../client/jsonstream.js';

export class StreamError extends Error {}

export async function displayProgress(messages: AsyncIterable<JsonMessage>, output: NodeJS.WriteStream = process.stdout): Promise<JsonMessage[]> {
  const tty = !!output.isTTY;
  const lines = new Map<string, number>(); // id -> line index (from the top of our block)
  let total = 0;
  const seen: JsonMessage[] = [];
  for await (const m of messages) {
    seen.push(m);
    if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message ?? m.error ?? 'unknown error');
    if (m.aux !== undefined && !m.status && !m.stream) continue;
    if (m.stream) { output.write(m.stream); continue; }
    const prefix = m.id ? `${m.id}: ` : '';
    if (tty && m.id) {
      const text = `${prefix}${m.status ?? ''}${m.progress ? ` ${m.progress}` : ''}`;
      const idx = lines.get(m.id);
      if (idx === undefined) {
        lines.set(m.id, total++);
        output.write(`${text}\n`);
      } else {
        const up = total - idx;
        output.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
      }
      continue;
    }
    if (m.progressDetail && m.progressDetail.current !== undefined && !tty) continue;
    output.write(`${prefix}${m.status ?? ''}\n`);
    if (tty) total++;
  }
  return seen;
}
