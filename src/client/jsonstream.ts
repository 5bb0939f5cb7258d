// Streams of JSON messages (pull/push/import/build progress, events): objects one after another,
// usually newline-separated but not guaranteed to be. Parse them incrementally.
import type { Readable } from 'node:stream';

export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
  [k: string]: unknown;
}

/** Split a buffer of concatenated JSON values; returns complete values and the unparsed rest. */
export function splitJson(text: string): { values: unknown[]; rest: string } {
  const values: unknown[] = [];
  let depth = 0;
  let inStr = false;
  let esc = false;
  let start = -1;
  let consumed = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') { inStr = true; if (start < 0) start = i; continue; }
    if (c === '{' || c === '[') { if (depth === 0) start = i; depth++; continue; }
    if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start >= 0) {
        values.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
        consumed = i + 1;
      }
    }
  }
  return { values, rest: text.slice(consumed) };
}

/** Yield each JSON value of a response body as it arrives. */
export async function* jsonMessages<T = JsonMessage>(body: Readable): AsyncGenerator<T> {
  let rest = '';
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    const r = splitJson(rest + chunk);
    rest = r.rest;
    for (const v of r.values) yield v as T;
  }
  if (rest.trim()) {
    const r = splitJson(rest);
    for (const v of r.values) yield v as T;
  }
}
