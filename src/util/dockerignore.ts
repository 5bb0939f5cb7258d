// .dockerignore: which paths of a build context stay out of it. docker's rules: the file is read the way its CLI
// reads it (comments, trimming, Go's path cleaning, no leading '/'), and paths are matched the way
// moby/patternmatcher matches them: `*` `?` `[…]` within one path segment, `**` across any number of them, a
// pattern also matching everything under a directory it matches, and the last matching pattern deciding
// (a '!' pattern re-includes). The CLI uses it to skip files while packing a context; the daemon may use it too.

export interface IgnorePattern {
  /** The cleaned pattern, without its leading '!'. */
  pattern: string;
  /** A '!' line: what it matches is included again. */
  exception: boolean;
}

const goTrimSpace = (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/g, '');

/** Go's path.Clean: the shortest equivalent of a slash-separated path ("./a//b/../c" → "a/c"). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined || '.';
}

/** The patterns of a .dockerignore file, in order. */
export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  const lines = text.split('\n');
  // a final newline does not start another line
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    // a comment is a '#' in the very first column: "  # x" is a pattern
    if (line.startsWith('#')) return;
    let pattern = goTrimSpace(line);
    if (!pattern) return;
    const exception = pattern[0] === '!';
    if (exception) pattern = goTrimSpace(pattern.slice(1));
    if (pattern) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    patterns.push({ pattern, exception });
  });
  return patterns;
}

/** The error docker reports for a malformed pattern (Go's filepath.ErrBadPattern). */
export class BadPatternError extends Error {}

/** Go's filepath.Match syntax check: escapes need a character, classes must be closed and their ranges complete. */
function checkGlobSyntax(p: string): void {
  const bad = () => new BadPatternError('syntax error in pattern');
  const cs = [...p];
  /** One class character (maybe escaped) at i; returns the index after it. */
  const classChar = (i: number): number => {
    if (i >= cs.length || cs[i] === '-' || cs[i] === ']') throw bad();
    if (cs[i] === '\\') { i++; if (i >= cs.length) throw bad(); }
    i++;
    if (i >= cs.length) throw bad(); // the class is never closed
    return i;
  };
  for (let i = 0; i < cs.length; i++) {
    if (cs[i] === '\\') { if (++i >= cs.length) throw bad(); continue; }
    if (cs[i] !== '[') continue;
    i++;
    if (cs[i] === '^') i++;
    for (let ranges = 0; ; ranges++) {
      if (cs[i] === ']' && ranges > 0) break;
      i = classChar(i);
      if (cs[i] === '-') i = classChar(i + 1);
    }
  }
}

type MatchKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Regular-expression characters that mean nothing in a path pattern, escaped as patternmatcher does. */
const REGEXP_ONLY = new Set([...'.+()|{}$']);

class CompiledPattern {
  readonly text: string;
  readonly exception: boolean;
  private readonly kind: MatchKind;
  private readonly re?: RegExp;

  constructor(text: string, exception: boolean) {
    this.text = text;
    this.exception = exception;
    // the translation of moby/patternmatcher, including its shortcuts: a pattern with nothing special is compared
    // as is, "x**" as a prefix, and one starting with "**" (and nothing special after) as a suffix
    let re = '^';
    let kind: MatchKind = 'exact';
    const cs = [...text];
    for (let i = 0, token = 0; i < cs.length; i++, token++) {
      const c = cs[i];
      if (c === '*' && cs[i + 1] === '*') {
        i++;
        if (cs[i + 1] === '/') i++;
        if (i + 1 >= cs.length) {
          if (kind === 'exact') kind = 'prefix';
          else { re += '.*'; kind = 'regexp'; }
        } else {
          re += '(.*/)?';
          kind = 'regexp';
        }
        if (token === 0) kind = 'suffix';
      } else if (c === '*') {
        re += '[^/]*';
        kind = 'regexp';
      } else if (c === '?') {
        re += '[^/]';
        kind = 'regexp';
      } else if (REGEXP_ONLY.has(c)) {
        re += `\\${c}`;
      } else if (c === '\\') {
        if (i + 1 < cs.length) { re += `\\${cs[++i]}`; kind = 'regexp'; } else re += '\\\\';
      } else if (c === '[' || c === ']') {
        re += c;
        kind = 'regexp';
      } else {
        re += c;
      }
    }
    this.kind = kind;
    if (kind === 'regexp') {
      try { this.re = new RegExp(`${re}$`); } catch { throw new BadPatternError('syntax error in pattern'); }
    }
  }

  match(path: string): boolean {
    switch (this.kind) {
      case 'exact': return path === this.text;
      case 'prefix': return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        return path.endsWith(suffix) || (suffix[0] === '/' && path === suffix.slice(1));
      }
      case 'regexp': return this.re!.test(path);
    }
  }

  /**
   * Whether this pattern could match some path strictly below `dirSegments` (more segments, the first ones equal).
   * Segment by segment: without "**" a pattern matches only paths of as many segments as it has. When unsure
   * (a "**", an escaped '/', a class we can't read per segment), the answer is yes: it only costs a walk.
   */
  couldMatchBelow(dirSegments: string[]): boolean {
    const segs = this.text.split('/');
    for (let j = 0; j < dirSegments.length; j++) {
      if (j >= segs.length) return false;
      const seg = segs[j];
      if (/(^|[^\\])(\\\\)*\\$/.test(seg)) return true;
      const star2 = seg.indexOf('**');
      if (star2 >= 0 && seg.includes('\\')) return true;
      // from a "**" on, anything may follow: what comes before it must start this segment of the directory
      const re = segmentRegExp(star2 < 0 ? seg : seg.slice(0, star2), star2 < 0);
      if (!re) return true;
      if (!re.test(dirSegments[j])) return false;
      if (star2 >= 0) return true;
    }
    return segs.length > dirSegments.length;
  }
}

const escapeLiteral = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** (The start of) one segment of a pattern as a regular expression, literals escaped; undefined if it can't be read alone. */
function segmentRegExp(seg: string, whole: boolean): RegExp | undefined {
  let re = '^';
  const cs = [...seg];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < cs.length) re += escapeLiteral(cs[++i]);
    else if (c === '[') {
      const end = cs.indexOf(']', i + 2);
      if (end < 0 || cs.slice(i, end).includes('\\')) return undefined;
      re += cs.slice(i, end + 1).join('');
      i = end;
    } else re += escapeLiteral(c);
  }
  try { return new RegExp(whole ? `${re}$` : re); } catch { return undefined; }
}

/** Per pattern: whether it matched a path or one of the path's parents (kept while walking down a tree). */
export type MatchState = Uint8Array;

export class IgnoreMatcher {
  private readonly patterns: CompiledPattern[] = [];

  /** Throws BadPatternError (or docker's error for a lone "!") for a pattern docker would refuse. */
  constructor(patterns: IgnorePattern[]) {
    for (const p of patterns) {
      // patternmatcher trims and cleans once more, the '!' included
      let text = goTrimSpace(`${p.exception ? '!' : ''}${p.pattern}`);
      if (!text) continue;
      text = cleanPath(text);
      const exception = text[0] === '!';
      if (exception) {
        if (text.length === 1) throw new BadPatternError('illegal exclusion pattern: "!"');
        text = text.slice(1);
      }
      checkGlobSyntax(text);
      this.patterns.push(new CompiledPattern(text, exception));
    }
  }

  get empty(): boolean { return this.patterns.length === 0; }

  /**
   * The state of `relPath` given its parent directory's (undefined for an entry of the context root): each pattern
   * that matched the parent (or above) still holds, the others are tried on the path itself.
   */
  state(relPath: string, parent?: MatchState): MatchState {
    const s = new Uint8Array(this.patterns.length);
    for (let i = 0; i < s.length; i++) s[i] = parent?.[i] || this.patterns[i].match(relPath) ? 1 : 0;
    return s;
  }

  /** Whether a state means "excluded": the last pattern that matched is not an exception. */
  excluded(state: MatchState): boolean {
    const last = state.lastIndexOf(1);
    return last >= 0 && !this.patterns[last].exception;
  }

  /** The state of a path, its parents included ("a/b/c" is matched by a pattern for "a"). */
  stateOf(relPath: string): MatchState {
    const segs = cleanPath(relPath).split('/');
    let s: MatchState | undefined;
    for (let i = 1; i <= segs.length; i++) s = this.state(segs.slice(0, i).join('/'), s);
    return s!;
  }

  /** Whether `relPath` (relative to the context root, '/'-separated) is left out of the context. */
  matches(relPath: string): boolean {
    const clean = cleanPath(relPath);
    // the context root itself is never excluded
    if (clean === '.' || this.patterns.length === 0) return false;
    return this.excluded(this.stateOf(clean));
  }

  /**
   * Whether something under the excluded directory `relDir` could be included again, so that a walk must go into
   * it: an exception placed after the patterns that exclude the directory, which could match a path below it.
   */
  mayIncludeUnder(relDir: string, state: MatchState = this.stateOf(relDir)): boolean {
    const last = state.lastIndexOf(1);
    const segs = cleanPath(relDir).split('/');
    for (let i = last + 1; i < this.patterns.length; i++) {
      const p = this.patterns[i];
      if (p.exception && p.couldMatchBelow(segs)) return true;
    }
    return false;
  }
}
