// The Dockerfile parser: text → instructions with raw (unexpanded) arguments, following the rules and the
// error wording of BuildKit's Dockerfile frontend (parser directives, line continuations, comments inside
// continuations, JSON vs shell form, heredocs). Variable expansion happens later, at dispatch (words.ts).
import { isSpace, rawWords, unquotedWords } from './words.js';

export type Keyword =
  | 'FROM'
  | 'RUN'
  | 'CMD'
  | 'LABEL'
  | 'MAINTAINER'
  | 'EXPOSE'
  | 'ENV'
  | 'ADD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'VOLUME'
  | 'USER'
  | 'WORKDIR'
  | 'ARG'
  | 'ONBUILD'
  | 'STOPSIGNAL'
  | 'HEALTHCHECK'
  | 'SHELL';

const KEYWORDS: readonly Keyword[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK',
  'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

/** A leading `--name=value` (or `--name`) of an instruction, quotes removed, variables not expanded. */
export interface Flag {
  name: string;
  value: string | undefined;
}

export interface Heredoc {
  name: string;
  /** body lines joined with "\n", ending with "\n"; for <<- the leading tabs are already stripped */
  content: string;
  /** false when the marker was quoted (<<"EOF", <<'EOF'): the body is taken literally */
  expand: boolean;
  chomp: boolean;
}

export interface Instruction {
  keyword: Keyword;
  /** The instruction as written, continuation lines joined and comment lines dropped; heredoc bodies left out. */
  original: string;
  /** 1-based line of the keyword */
  line: number;
  /** last line, heredoc bodies included */
  endLine: number;
  flags: Flag[];
  /** the exec (JSON array) form was used */
  json: boolean;
  /**
   * FROM, EXPOSE: whitespace-separated words. RUN/CMD/ENTRYPOINT: the JSON array, or the rest of the line as
   * one string. SHELL: the JSON array. COPY/ADD/VOLUME: the JSON array or whitespace-separated words (quotes
   * kept). USER/WORKDIR/STOPSIGNAL/MAINTAINER: the rest of the line. HEALTHCHECK CMD: the command (see
   * `health`). ONBUILD: the trigger as docker stores it in the image config (see `onbuild`). ENV/LABEL/ARG:
   * empty (see `pairs`). All raw: nothing expanded, quotes as written.
   */
  args: string[];
  /**
   * ENV and LABEL: [key, value] as written (`A="b c"` → ['A', '"b c"']), both for `KEY=VALUE ...` and the
   * legacy `KEY value` form. ARG: [name, default or undefined] per name.
   */
  pairs?: Array<[string, string | undefined]>;
  heredocs: Heredoc[];
  /** ONBUILD's trigger instruction (it carries the heredocs, too) */
  onbuild?: Instruction;
  /** HEALTHCHECK: NONE, or CMD in exec or shell form; its options are in `flags` */
  health?: { none: true } | { none: false; json: boolean; cmd: string[] };
}

export interface ParsedDockerfile {
  escape: '\\' | '`';
  /** from a "# syntax=" directive */
  syntax?: string;
  instructions: Instruction[];
  /** what BuildKit warns about, as "RuleName: message (line N)" */
  warnings: string[];
}

export class DockerfileParseError extends Error {
  /** the message without the location */
  readonly reason: string;
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`dockerfile parse error on line ${line}: ${message}`);
    this.reason = message;
  }
}

/** A heredoc marker word (`<<EOF`, `<<-"EOF"`, ...) as it appears in RUN/COPY/ADD arguments, or undefined. */
export function parseHeredocMarker(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/.exec(word);
  if (!m || m[3] === '') return undefined;
  let unquoted: string[];
  let raw: string[];
  try {
    unquoted = unquotedWords(m[3]);
    raw = unquotedWords(m[3], true);
  } catch {
    return undefined;
  }
  if (unquoted.length !== 1 || raw.length !== 1) return undefined;
  // any quote anywhere in the marker (<<"EOF", <<E'O'F) turns expansion of the body off
  const quotes = (s: string) => s.replace(/[^'"]/g, '').length;
  return { name: unquoted[0], chomp: m[2] === '-', expand: quotes(unquoted[0]) === quotes(raw[0]) };
}

export function parseDockerfile(text: string): ParsedDockerfile {
  return new Parser(text).parse();
}

const HEREDOC_KEYWORDS: ReadonlySet<Keyword> = new Set(['RUN', 'COPY', 'ADD']);
const KEYWORD_SEPARATOR = /[\t\v\f\r ]+/;
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

interface Warning {
  line: number;
  text: string;
}

class Parser {
  private readonly lines: string[];
  private escape: '\\' | '`' = '\\';
  private syntax: string | undefined;
  private directivesDone = false;
  private readonly directivesSeen = new Set<string>();
  private readonly warnings: Warning[] = [];

  constructor(text: string) {
    this.lines = text.split('\n');
    if (this.lines[this.lines.length - 1] === '') this.lines.pop();
    if (this.lines.length > 0) this.lines[0] = this.lines[0].replace(/^\uFEFF/, '');
  }

  parse(): ParsedDockerfile {
    const instructions: Instruction[] = [];
    const writtenKeywords: string[] = [];
    let i = 0;
    while (i < this.lines.length) {
      const line = i + 1;
      const first = trimStartSpace(trimNewline(this.lines[i++]));
      this.directive(first, line);
      if (first.startsWith('#')) continue;

      let [text, complete] = this.trimContinuation(first);
      if (complete && text === '') continue;
      let emptyContinuation = false;
      while (!complete && i < this.lines.length) {
        const next = trimNewline(this.lines[i++]);
        // comment lines inside a continued instruction are skipped, blank ones too (docker warns about those)
        if (trimStartSpace(next).startsWith('#')) continue;
        if (trimStartSpace(next) === '') {
          emptyContinuation = true;
          continue;
        }
        let part: string;
        [part, complete] = this.trimContinuation(next);
        text += part;
      }
      if (emptyContinuation) this.warn(i, 'NoEmptyContinuation', 'Empty continuation line');

      const instruction = this.instruction(text, line, i);
      i = this.readHeredocs(instruction, text, i);
      instructions.push(instruction);
      writtenKeywords.push(text.trim().split(KEYWORD_SEPARATOR)[0]);
    }
    if (instructions.length === 0) throw new DockerfileParseError(Math.max(this.lines.length, 1), 'file with no instructions');
    this.checkCasing(instructions, writtenKeywords);
    return {
      escape: this.escape,
      ...(this.syntax !== undefined ? { syntax: this.syntax } : {}),
      instructions,
      warnings: this.warnings.sort((a, b) => a.line - b.line).map((w) => w.text),
    };
  }

  // Parser directives are comments at the very top; the first line that is not one ends them.
  private directive(line: string, lineNo: number): void {
    if (this.directivesDone) return;
    const m = line.startsWith('#') ? /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(trimStartSpace(line.slice(1))) : null;
    const key = m?.[1].toLowerCase();
    if (!m || !key || !['escape', 'syntax', 'check'].includes(key)) {
      this.directivesDone = true;
      return;
    }
    if (this.directivesSeen.has(key)) throw new DockerfileParseError(lineNo, `only one ${key} parser directive can be used`);
    this.directivesSeen.add(key);
    const value = m[2];
    if (key === 'syntax') this.syntax = value;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') throw new DockerfileParseError(lineNo, `invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
    }
  }

  // The escape char as the last non-blank char continues the line, unless it is itself escaped.
  private trimContinuation(line: string): [text: string, complete: boolean] {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (!trimmed.endsWith(this.escape)) return [line, true];
    if (trimmed.length > 1 && trimmed[trimmed.length - 2] === this.escape) return [line, true];
    return [trimmed.slice(0, -1), false];
  }

  private warn(line: number, rule: string, message: string): void {
    this.warnings.push({ line, text: `${rule}: ${message} (line ${line})` });
  }

  private instruction(text: string, line: number, endLine: number): Instruction {
    const fail = (message: string) => new DockerfileParseError(line, message);
    const trimmed = text.trim();
    const [written, afterKeyword] = splitOnce(trimmed, KEYWORD_SEPARATOR);
    const keyword = toKeyword(written);
    if (!keyword) throw fail(unknownInstruction(written));
    const { flags, rest } = extractFlags(afterKeyword, this.escape);
    const ins: Instruction = { keyword, original: trimmed, line, endLine, flags, json: false, args: [], heredocs: [] };

    switch (keyword) {
      case 'FROM': {
        ins.args = splitWhitespace(rest);
        const [, as, name] = ins.args;
        if (ins.args.length === 3 && as.toLowerCase() === 'as') {
          if (!STAGE_NAME.test(name.toLowerCase())) {
            throw fail(`invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`);
          }
          if (name !== name.toLowerCase()) this.warn(line, 'StageNameCasing', `Stage name '${name}' should be lowercase`);
          if (isConsistentCase(written) && as !== (written === written.toLowerCase() ? as.toLowerCase() : as.toUpperCase())) {
            this.warn(line, 'FromAsCasing', `'${as}' and '${written}' keywords' casing do not match`);
          }
        } else if (ins.args.length !== 1) {
          throw fail('FROM requires either one or three arguments');
        }
        break;
      }
      case 'RUN':
      case 'CMD':
      case 'ENTRYPOINT':
      case 'SHELL': {
        this.maybeJSON(ins, rest, line);
        if (keyword === 'RUN' && ins.args.length === 0) throw fail('RUN requires at least one argument');
        if (keyword === 'SHELL') {
          if (ins.args.length === 0) throw fail('SHELL requires at least one argument');
          if (!ins.json) throw fail('SHELL requires the arguments to be in JSON form');
        }
        break;
      }
      case 'COPY':
      case 'ADD': {
        const json = parseJSONArray(rest, line);
        ins.json = json !== undefined;
        ins.args = json ?? splitWhitespace(rest);
        if (ins.args.length < 2) {
          throw fail(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
        }
        if (parseHeredocMarker(ins.args[ins.args.length - 1])) throw fail(`${keyword} cannot accept a heredoc as a destination`);
        break;
      }
      case 'VOLUME': {
        const json = parseJSONArray(rest, line);
        ins.json = json !== undefined;
        ins.args = json ?? splitWhitespace(rest);
        if (ins.args.length === 0) throw fail('VOLUME requires at least one argument');
        if (ins.args.some((v) => v.trim() === '')) throw fail('VOLUME specified can not be an empty string');
        break;
      }
      case 'EXPOSE':
        ins.args = splitWhitespace(rest);
        if (ins.args.length === 0) throw fail('EXPOSE requires at least one argument');
        break;
      case 'ENV':
      case 'LABEL':
        ins.pairs = this.keyValuePairs(keyword, rest, line);
        break;
      case 'ARG':
        ins.pairs = argPairs(rest, this.escape, line);
        break;
      case 'MAINTAINER':
      case 'USER':
      case 'WORKDIR':
      case 'STOPSIGNAL':
        if (rest === '') throw fail(`${keyword} requires exactly one argument`);
        ins.args = [rest];
        if (keyword === 'MAINTAINER') this.warn(line, 'MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label');
        break;
      case 'HEALTHCHECK':
        this.healthcheck(ins, rest, line);
        break;
      case 'ONBUILD': {
        if (rest === '') throw fail('ONBUILD requires at least one argument');
        const trigger = splitOnce(rest, KEYWORD_SEPARATOR)[0].toUpperCase();
        if (trigger === 'ONBUILD') throw fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw fail(`${trigger} isn't allowed as an ONBUILD trigger`);
        // BuildKit lints a trigger only when a downstream build runs it
        const warningsBefore = this.warnings.length;
        ins.onbuild = this.instruction(rest, line, endLine);
        this.warnings.length = warningsBefore;
        ins.args = [ins.onbuild.original];
        break;
      }
    }
    return ins;
  }

  // RUN, CMD, ENTRYPOINT, SHELL: a JSON array of strings, or else the rest of the line as one string.
  private maybeJSON(ins: Instruction, rest: string, line: number): void {
    if (rest === '') return;
    const json = parseJSONArray(rest, line);
    ins.json = json !== undefined;
    ins.args = json ?? [rest];
  }

  private healthcheck(ins: Instruction, rest: string, line: number): void {
    if (rest === '') throw new DockerfileParseError(line, 'HEALTHCHECK requires at least one argument');
    const [type, command] = splitOnce(rest, /\s+/u);
    const probe: Instruction = { ...ins, args: [] };
    this.maybeJSON(probe, command, line);
    const kind = type.toUpperCase();
    if (kind === 'NONE') {
      if (probe.args.length > 0) throw new DockerfileParseError(line, 'HEALTHCHECK NONE takes no arguments');
      ins.health = { none: true };
      return;
    }
    if (kind !== 'CMD') throw new DockerfileParseError(line, `Unknown type ${JSON.stringify(kind)} in HEALTHCHECK (try CMD)`);
    if (probe.args.length === 0) throw new DockerfileParseError(line, 'Missing command after HEALTHCHECK CMD');
    ins.json = probe.json;
    ins.args = probe.args;
    ins.health = { none: false, json: probe.json, cmd: probe.args };
  }

  // ENV/LABEL: `k=v k2="v 2"` (any number), or the legacy `k value with spaces` (exactly one pair).
  private keyValuePairs(keyword: 'ENV' | 'LABEL', rest: string, line: number): Array<[string, string]> {
    const fail = (message: string) => new DockerfileParseError(line, message);
    const words = quotedWords(rest, this.escape);
    if (words.length === 0) throw fail(`${keyword} requires at least one argument`);
    let pairs: Array<[string, string]>;
    if (!words[0].includes('=')) {
      const [key, value] = splitOnce(rest, KEYWORD_SEPARATOR);
      if (value === '') throw fail(`${keyword} must have two arguments`);
      this.warn(line, 'LegacyKeyValueFormat', `"${keyword} key=value" should be used instead of legacy "${keyword} key value" format`);
      pairs = [[key, value]];
    } else {
      pairs = words.map((word) => {
        const eq = word.indexOf('=');
        if (eq < 0) throw fail(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
        return [word.slice(0, eq), word.slice(eq + 1)];
      });
    }
    if (pairs.some(([key]) => key === '')) throw fail(`${keyword} names can not be blank`);
    return pairs;
  }

  // Heredoc bodies follow the instruction line, one after another, in the order of their markers.
  private readHeredocs(ins: Instruction, text: string, next: number): number {
    const target = ins.onbuild ?? ins;
    if (!HEREDOC_KEYWORDS.has(target.keyword) || target.json || !text.includes('<<')) return next;
    const markers = rawWords(text).flatMap((w) => parseHeredocMarker(w) ?? []);
    const bodies: string[] = [];
    for (const marker of markers) {
      const body: string[] = [];
      let terminated = false;
      while (next < this.lines.length) {
        const raw = this.lines[next++];
        let candidate = trimNewline(raw);
        if (marker.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === marker.name) {
          terminated = true;
          break;
        }
        body.push(raw);
      }
      if (!terminated) throw new DockerfileParseError(ins.line, 'unterminated heredoc');
      const content = body.map((l) => `${l}\n`).join('');
      bodies.push(`${content}${marker.name}`);
      target.heredocs.push({ ...marker, content: marker.chomp ? content.replace(/^\t+/gm, '') : content });
    }
    ins.endLine = next;
    if (ins.onbuild) {
      ins.onbuild.endLine = next;
      ins.heredocs = ins.onbuild.heredocs;
      // the trigger is stored with its heredoc bodies so that it re-parses the same way downstream
      ins.args = [[ins.onbuild.original, ...bodies].join('\n')];
    }
    return next;
  }

  // ConsistentInstructionCasing: every instruction should follow the case (upper/lower) most of them use.
  private checkCasing(instructions: Instruction[], written: string[]): void {
    // ARGs before the first FROM do not belong to a stage, and BuildKit does not count them
    const start = instructions.findIndex((ins) => ins.keyword === 'FROM');
    if (start < 0) return;
    const counted = written.slice(start);
    const lower = counted.filter((w) => isConsistentCase(w) && w === w.toLowerCase()).length;
    const upper = counted.filter((w) => isConsistentCase(w) && w !== w.toLowerCase()).length;
    const majorityLower = lower > upper;
    counted.forEach((w, k) => {
      const ok = majorityLower ? w === w.toLowerCase() : w === w.toUpperCase();
      if (!ok) {
        const casing = majorityLower ? 'lowercase' : 'uppercase';
        this.warn(instructions[start + k].line, 'ConsistentInstructionCasing', `Command '${w}' should match the case of the command majority (${casing})`);
      }
    });
  }
}

function toKeyword(written: string): Keyword | undefined {
  const upper = written.toUpperCase();
  return KEYWORDS.find((k) => k === upper);
}

// BuildKit suggests the closest instruction name (edit distance below 3), in the casing the user wrote.
function unknownInstruction(written: string): string {
  const lower = written.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of KEYWORDS) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (!best) return `unknown instruction: ${written}`;
  const suggestion = written === lower ? best.toLowerCase() : written === written.toUpperCase() ? best : best.toLowerCase();
  return `unknown instruction: ${written} (did you mean ${suggestion}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

const isConsistentCase = (s: string) => s === s.toLowerCase() || s === s.toUpperCase();

const trimNewline = (line: string) => line.replace(/[\r\n]+$/, '');

function trimStartSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return s.slice(i);
}

// [before the first separator, the rest (trimmed)]; the rest is '' when there is no separator.
function splitOnce(s: string, separator: RegExp): [string, string] {
  const m = separator.exec(s);
  if (!m) return [s, ''];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length).trim()];
}

function splitWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(KEYWORD_SEPARATOR);
}

// The exec form: a JSON array of strings. Anything that does not parse as JSON is shell form instead, but
// a JSON array holding something other than strings is an error.
function parseJSONArray(rest: string, line: number): string[] | undefined {
  const text = trimStartSpace(rest);
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((item) => typeof item === 'string')) {
    throw new DockerfileParseError(line, 'when using JSON array syntax, arrays must be comprised of strings only');
  }
  return parsed as string[];
}

// Leading --flags: quotes and escapes in them are processed; `--` alone ends them.
function extractFlags(text: string, escape: string): { flags: Flag[]; rest: string } {
  const words: string[] = [];
  const done = (restAt: number) => ({
    flags: words.map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? { name: w.slice(2), value: undefined } : { name: w.slice(2, eq), value: w.slice(eq + 1) };
    }),
    rest: text.slice(restAt).trim(),
  });
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let keepEmpty = false;
  for (let pos = 0; pos <= text.length; pos++) {
    let ch = text[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === text.length) break;
      if (isSpace(ch)) continue;
      if (!text.startsWith('--', pos)) return done(pos);
      phase = 'word';
    }
    if (pos === text.length) {
      if (word !== '--' && (keepEmpty || word !== '')) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return done(pos);
        if (keepEmpty || word !== '') words.push(word);
        word = '';
        keepEmpty = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        keepEmpty = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === text.length) continue;
        ch = text[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === text.length) {
        phase = 'word';
        continue;
      }
      ch = text[++pos];
    }
    word += ch;
  }
  return done(text.length);
}

// Words separated by unquoted whitespace, with quotes and escapes kept as written (ENV, LABEL, ARG).
function quotedWords(text: string, escape: string): string[] {
  const chars = Array.from(text);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let keepEmpty = false;
  for (let i = 0; i <= chars.length; i++) {
    let ch = chars[i] ?? '';
    if (phase === 'spaces') {
      if (i === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (i === chars.length) {
      if (keepEmpty || word !== '') words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (keepEmpty || word !== '') words.push(word);
        word = '';
        keepEmpty = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        keepEmpty = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue; // a trailing escape is dropped
        word += ch;
        ch = chars[++i];
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // the escape char escapes inside double quotes only
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++i];
    }
    word += ch;
  }
  return words;
}

function argPairs(rest: string, escape: string, line: number): Array<[string, string | undefined]> {
  const words = quotedWords(rest, escape);
  if (words.length === 0) throw new DockerfileParseError(line, 'ARG requires at least one argument');
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) return [word, undefined];
    if (eq === 0) throw new DockerfileParseError(line, 'ARG names can not be blank');
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}
