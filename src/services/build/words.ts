// Docker's shell-word processing for Dockerfile instructions: quote removal, the escape character and
// variable expansion, with the same results (and error wording) as BuildKit's Dockerfile frontend. It is a
// small lexer, not a shell: no command substitution, globbing or arithmetic.

export type Lookup = (name: string) => string | undefined;

export class WordError extends Error {}

/** docker's ProcessWord: one word in, one string out (whitespace inside the word is kept). */
export function expandWord(word: string, lookup: Lookup, escape: '\\' | '`' = '\\'): string {
  return new Lexer(word, lookup, { escape }).run().result;
}

/**
 * docker's ProcessWords: split on unquoted whitespace while expanding. As in docker, the result of an
 * unquoted `$VAR` is itself split on whitespace (`EXPOSE $PORTS` with PORTS="80 443" gives two words),
 * while a quoted one ("$VAR") stays in its word. Empty words are dropped.
 */
export function expandWords(text: string, lookup: Lookup, escape: '\\' | '`' = '\\'): string[] {
  return new Lexer(text, lookup, { escape }).run().words;
}

/** Names of the variables a word refers to (in order of first use), e.g. to know which build ARGs it uses. */
export function referencedNames(text: string, escape: '\\' | '`' = '\\'): string[] {
  const names = new Set<string>();
  const onName = (name: string) => {
    // positional and special parameters ($1, $@ ...) are never set in a Dockerfile
    if (/^[\p{L}_][\p{L}\p{Nd}_]*$/u.test(name)) names.add(name);
  };
  try {
    new Lexer(text, () => undefined, { escape, neverFail: true, onName }).run();
  } catch {
    // a malformed word still tells us the names seen before the error
  }
  return [...names];
}

/**
 * Splits a line into words the way the Dockerfile parser looks for heredoc markers: quotes, escapes and
 * variable references are kept as written, only unquoted whitespace separates words. Malformed input
 * (an unterminated quote) yields no words, as in BuildKit.
 */
export function rawWords(text: string): string[] {
  try {
    return new Lexer(text, () => undefined, { escape: '\\', rawQuotes: true, rawEscapes: true, keepUnset: true }).run().words;
  } catch {
    return [];
  }
}

/** Quote removal without expansion ($VAR kept as written); used to read a heredoc marker's name. */
export function unquotedWords(text: string, rawQuotes = false): string[] {
  return new Lexer(text, () => undefined, { escape: '\\', rawQuotes, keepUnset: true }).run().words;
}

interface LexOptions {
  escape: string;
  /** keep quote characters in the output */
  rawQuotes?: boolean;
  /** keep escape characters in the output */
  rawEscapes?: boolean;
  /** leave references to unset variables as written instead of expanding them to '' */
  keepUnset?: boolean;
  /** ${VAR?msg} never fails (when only collecting names) */
  neverFail?: boolean;
  /** told of every variable name as it is read, before anything nested in its ${...} */
  onName?: (name: string) => void;
}

const EOF = '';

// Collects the words of one (possibly nested) scan.
class WordSplitter {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  // a char that may separate words
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  addSplitting(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  finish(): string[] {
    if (this.buf.length > 0) this.words.push(this.buf);
    this.buf = '';
    this.inWord = false;
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly source: string,
    private readonly lookup: Lookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  run(): { result: string; words: string[] } {
    try {
      return this.scanUntil(EOF, this.rawEscapes);
    } catch (e) {
      if (e instanceof WordError) throw new WordError(`failed to process ${JSON.stringify(this.source)}: ${e.message}`);
      throw e;
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.peek();
    if (ch !== EOF) this.pos++;
    return ch;
  }

  // Scans up to (and consuming) `stop`, or to the end of input when stop is EOF.
  private scanUntil(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new WordSplitter();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        const special = this.special(ch);
        if (special) {
          const text = special();
          result += text;
          // only an expansion's result is split further; quoted text stays one piece
          if (ch === '$') words.addSplitting(text);
          else words.addRaw(text);
          continue;
        }
        let c = this.next();
        if (c === this.opts.escape) {
          if (this.rawEscapes) {
            words.addRaw(c);
            result += c;
          }
          c = this.next();
          if (c === EOF) break; // an escape at the very end is dropped
          words.addRaw(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== EOF) throw new WordError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private special(ch: string): (() => string) | undefined {
    switch (ch) {
      case '$':
        return () => this.dollar();
      case '<':
        return () => this.possibleHeredoc();
      case "'":
        return () => this.singleQuoted();
      case '"':
        return () => this.doubleQuoted();
      default:
        return undefined;
    }
  }

  // Everything up to the next ' is literal; a single quote cannot be escaped inside.
  private singleQuoted(): string {
    const open = this.next();
    let out = this.opts.rawQuotes ? open : '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new WordError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  // Literal except for $ expansions; the escape char only escapes ", $ and itself (elsewhere it stays).
  private doubleQuoted(): string {
    const open = this.next();
    let out = this.opts.rawQuotes ? open : '';
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) throw new WordError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        this.next();
        return this.opts.rawQuotes ? out + '"' : out;
      }
      if (peeked === '$') {
        out += this.dollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.opts.escape) {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next();
      }
      out += ch;
    }
  }

  // `<<` plus any blanks after it stay glued to the marker word that follows (`<< EOF` is one word).
  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') out += this.next();
    return out;
  }

  private dollar(): string {
    this.next(); // the '$'
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      this.opts.onName?.(name);
      const value = this.lookup(name);
      if (value === undefined && this.opts.keepUnset) return `$${name}`;
      return value ?? '';
    }
    this.next(); // the '{'
    const first = this.peek();
    if (first === EOF) throw new WordError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordError('syntax error: bad substitution');

    const name = this.name();
    this.opts.onName?.(name);
    let op = this.next();
    if (op === EOF) throw new WordError("syntax error: missing '}'");
    if (op === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.keepUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (op === '/') return this.substitute(name);

    let modifier = op;
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      modifier += op;
    } else if (!'+-?#%'.includes(op)) {
      throw new WordError(`unsupported modifier (${modifier}) in substitution`);
    }
    // patterns keep their escapes so that \* can mean a literal star
    const isPattern = op === '#' || op === '%';
    if (nullIsUnset && isPattern) throw new WordError(`unsupported modifier (${modifier}) in substitution`);
    let word = this.scanOperand('}', isPattern, "syntax error: missing '}'");

    const value = this.lookup(name);
    if (value === undefined && this.opts.keepUnset) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (this.opts.neverFail) return value ?? '';
        if (value === undefined) throw new WordError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new WordError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        // a doubled operator (## or %%) removes the longest match instead of the shortest
        const longest = word.startsWith(op);
        if (longest) word = word.slice(1);
        return op === '%' ? trimSuffix(word, value ?? '', longest) : trimPrefix(word, value ?? '', longest);
      }
      default:
        throw new WordError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  // ${VAR/pattern/replacement} and ${VAR//pattern/replacement}
  private substitute(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.scanOperand('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.scanOperand('}', true, "syntax error: missing '}'");
    const found = this.lookup(name);
    if (found === undefined && this.opts.keepUnset) return `\${${name}/${pattern}/${replacement}}`;
    const value = found ?? '';
    const re = patternRegex(pattern, true, false);
    if (all) return replaceAllLikeGo(re, value, replacement);
    const m = re.exec(value);
    return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
  }

  private scanOperand(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.scanUntil(stop, rawEscapes).result;
    } catch (e) {
      if (e instanceof WordError && this.peek() === EOF) throw new WordError(missing);
      throw e;
    }
  }

  // A variable name: letters, digits and _; or a run of digits (positional); or one special parameter.
  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) return name;
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') return name;
      name += this.next();
    }
  }
}

/** Go's unicode.IsSpace, which BuildKit uses to separate words. */
export function isSpace(ch: string): boolean {
  // Go's unicode.IsSpace: like \s, plus NEL, minus the BOM
  return ch !== '\uFEFF' && (ch === '\u0085' || /^\s$/u.test(ch));
}
const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);

/**
 * A shell pattern (`*` any string, `?` one char, `\` escaping * ? \) as a regular expression; no bracket
 * expressions, as in BuildKit. `\}` and `\/` are just the brace or slash (escaped to get them into ${}).
 */
function patternRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  // Go's `.` does not match a newline but does match \r, unlike JavaScript's
  const any = '[^\\n]';
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') out += greedy ? `${any}*` : `${any}*?`;
    else if (ch === '?') out += any;
    else if (ch === '\\') {
      const after = chars[i + 1];
      if (after === '}' || after === '/') continue;
      if (after !== '*' && after !== '?' && after !== '\\') {
        throw new WordError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ''}'`);
      }
      out += `\\${after}`;
      i++;
    } else if ('[]{}.+()|^$'.includes(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return new RegExp(out, 'gu');
}

function trimPrefix(pattern: string, value: string, longest: boolean): string {
  const re = patternRegex(pattern, longest, true);
  const m = re.exec(value);
  return m ? value.slice(m[0].length) : value;
}

// The shortest (or longest) matching suffix is found as a prefix of the reversed value, with a reversed pattern.
function trimSuffix(pattern: string, value: string, longest: boolean): string {
  const reversed = Array.from(value).reverse().join('');
  return Array.from(trimPrefix(reversePattern(pattern), reversed, longest)).reverse().join('');
}

// Reverses a pattern but keeps escape pairs in order: a\*c → c\*a.
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i < chars.length - 1) {
      out.unshift(chars[i], chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i]);
      i++;
    }
  }
  return out.join('');
}

// Replace every match the way Go's Regexp.ReplaceAllString walks the input (an empty match right after a
// match is not replaced); the replacement is literal.
function replaceAllLikeGo(re: RegExp, value: string, replacement: string): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += replacement;
    lastEnd = end;
    const width = searchPos < value.length ? (value.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 1;
    if (searchPos + width > end) searchPos += width;
    else searchPos = end;
  }
  return out + value.slice(lastEnd);
}
