// A small subset of Go's text/template, enough for docker's --format/-f habits:
// {{.A.B}}, {{json .X}}, {{index .M "k"}}, {{range}}/{{if}}/{{with}}/{{else}}/{{end}}, pipes, $vars, {{- -}} trimming.
type Value = unknown;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if' | 'with'; pipe: Pipe; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipe; keyVar?: string; valVar?: string; body: Node[]; else: Node[] };

interface Pipe { decl?: string[]; cmds: Operand[][] }

type Operand =
  | { t: 'field'; base: 'dot' | string; path: string[] } // base 'dot' or a $variable name
  | { t: 'lit'; v: Value }
  | { t: 'fn'; name: string }
  | { t: 'sub'; pipe: Pipe; path: string[] };

export class TemplateError extends Error {}

type Fn = (...args: Value[]) => Value;

/** Go's default printing of a value (fmt %v). */
export function goString(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).filter((k) => typeof (v as Record<string, Value>)[k] !== 'function').sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, Value>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function goFloat(n: number): string {
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-4 || a >= 1e21)) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(n);
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/**
 * A value that prints its own JSON for {{json .}}: docker's listing rows (ps, images…) marshal themselves with
 * sorted keys and HTML-sensitive characters escaped, unlike other values.
 */
export const OWN_JSON = Symbol('own JSON');

/**
 * docker's templates run on Go structs, whose field names are not always the JSON's (`APIVersion` for
 * `"ApiVersion"`, `ID` for `"id"`): the Go names are added as hidden properties, which JSON leaves out. A field the
 * value lacks reads as Go's empty string.
 */
export function withGoNames<T extends object>(value: T, names: Record<string, string>): T {
  const view = { ...value };
  for (const [goName, wire] of Object.entries(names)) {
    Object.defineProperty(view, goName, { value: (value as Record<string, unknown>)[wire] ?? '', enumerable: false });
  }
  return view;
}

const builtins: Record<string, Fn> = {
  json: (v) => {
    if (v === undefined) return 'null';
    const own = v && typeof v === 'object' ? (v as { [OWN_JSON]?: () => string })[OWN_JSON] : undefined;
    return own ? own() : JSON.stringify(v);
  },
  join: (a, sep) => (Array.isArray(a) ? a.map(goString).join(String(sep)) : goString(a)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${goString(s)}${' '.repeat(Number(r))}`,
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) cur = cur == null ? undefined : (cur as Record<string, Value>)[String(k)];
    return cur;
  },
  print: (...a) => a.map(goString).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => {
    let i = 0;
    return String(f).replace(/%([-+ 0#]*\d*(?:\.\d+)?)([sdvqtf%])/g, (_m, _flags, verb: string) => {
      if (verb === '%') return '%';
      const x = a[i++];
      if (verb === 'q') return JSON.stringify(goString(x));
      if (verb === 'd') return String(Math.trunc(Number(x)));
      return goString(x);
    });
  },
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  gt: (a, b) => (a as number) > (b as number),
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
};

// ---- lexing actions ----
function tokenize(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out.push(src.slice(i, j + 1)); i = j + 1; continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw string');
      out.push(src.slice(i, j + 1)); i = j + 1; continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') { out.push(c); i++; continue; }
    if (src.startsWith(':=', i)) { out.push(':='); i += 2; continue; }
    if (c === '=' ) { out.push('='); i++; continue; }
    let j = i;
    while (j < src.length && !/[\s()|,"`]/.test(src[j]) && !src.startsWith(':=', j)) j++;
    out.push(src.slice(i, j)); i = j;
  }
  return out;
}

function parseOperand(tok: string): Operand {
  if (tok === '.') return { t: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { t: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok.startsWith('$')) {
    const [v, ...path] = tok.split('.');
    return { t: 'field', base: v, path };
  }
  if (tok.startsWith('"')) return { t: 'lit', v: JSON.parse(tok) };
  if (tok.startsWith('`')) return { t: 'lit', v: tok.slice(1, -1) };
  if (tok === 'true' || tok === 'false') return { t: 'lit', v: tok === 'true' };
  if (tok === 'nil') return { t: 'lit', v: null };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { t: 'lit', v: Number(tok) };
  if (/^[A-Za-z_]\w*$/.test(tok)) return { t: 'fn', name: tok };
  throw new TemplateError(`unexpected "${tok}" in template`);
}

function parsePipe(toks: string[]): Pipe {
  let pos = 0;
  const pipe: Pipe = { cmds: [] };
  // variable declarations: $x := ... or $i, $v := ...
  const assign = toks.indexOf(':=');
  if (assign > 0 && toks.slice(0, assign).every((t) => t.startsWith('$') || t === ',')) {
    pipe.decl = toks.slice(0, assign).filter((t) => t !== ',');
    pos = assign + 1;
  }
  const parseCmds = (end: string | undefined): Operand[][] => {
    const cmds: Operand[][] = [[]];
    while (pos < toks.length) {
      const tok = toks[pos];
      if (tok === end) { pos++; return cmds; }
      pos++;
      if (tok === '|') { cmds.push([]); continue; }
      if (tok === '(') {
        const inner = parseCmds(')');
        let path: string[] = [];
        if (pos < toks.length && toks[pos].startsWith('.') && toks[pos] !== '.') { path = toks[pos].slice(1).split('.'); pos++; }
        cmds[cmds.length - 1].push({ t: 'sub', pipe: { cmds: inner }, path });
        continue;
      }
      cmds[cmds.length - 1].push(parseOperand(tok));
    }
    if (end) throw new TemplateError('unclosed parenthesis');
    return cmds;
  };
  pipe.cmds = parseCmds(undefined);
  if (pipe.cmds.some((c) => c.length === 0)) throw new TemplateError('missing value for command');
  return pipe;
}

export interface Template { nodes: Node[] }

export function parseTemplate(src: string, funcs: Record<string, Fn> = {}): Template {
  // split into text and actions, honouring {{- and -}}
  const parts: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { parts.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let inner = open + 2;
    if (src[inner] === '-' && /\s/.test(src[inner + 1] ?? '')) { text = text.replace(/\s+$/, ''); inner++; }
    const close = src.indexOf('}}', inner);
    if (close < 0) throw new TemplateError('unclosed action');
    let body = src.slice(inner, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      while (next < src.length && /\s/.test(src[next])) next++;
    }
    parts.push({ text }, { action: body.trim() });
    i = next;
  }
  let k = 0;
  const known = { ...builtins, ...funcs };
  const checkFns = (p: Pipe) => {
    for (const cmd of p.cmds) for (const op of cmd) {
      if (op.t === 'fn' && !(op.name in known)) throw new TemplateError(`function "${op.name}" not defined`);
      if (op.t === 'sub') checkFns(op.pipe);
    }
  };
  const pipeOf = (s: string) => { const p = parsePipe(tokenize(s)); checkFns(p); return p; };

  const parseList = (stopAt: string[]): { nodes: Node[]; stop?: string } => {
    const nodes: Node[] = [];
    while (k < parts.length) {
      const p = parts[k++];
      if (p.text !== undefined) { if (p.text) nodes.push({ kind: 'text', text: p.text }); continue; }
      const a = p.action ?? '';
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0];
      if (word === 'end' || word === 'else') {
        if (!stopAt.includes(word)) throw new TemplateError(`unexpected {{${word}}}`);
        return { nodes, stop: a };
      }
      if (word === 'if' || word === 'with' || word === 'range') {
        const rest = a.slice(word.length).trim();
        const block = parseBlock();
        if (word === 'range') {
          const pipe = pipeOf(rest);
          const decl = pipe.decl ?? [];
          pipe.decl = undefined;
          nodes.push({ kind: 'range', pipe, keyVar: decl.length === 2 ? decl[0] : undefined, valVar: decl.length === 2 ? decl[1] : decl[0], body: block.then, else: block.else });
        } else nodes.push({ kind: word, pipe: pipeOf(rest), then: block.then, else: block.else });
        continue;
      }
      nodes.push({ kind: 'action', pipe: pipeOf(a) });
    }
    if (stopAt.length) throw new TemplateError('unexpected EOF: missing {{end}}');
    return { nodes };
  };
  const parseBlock = (): { then: Node[]; else: Node[] } => {
    const first = parseList(['end', 'else']);
    if (first.stop === 'end') return { then: first.nodes, else: [] };
    const elseRest = (first.stop ?? '').slice(4).trim();
    if (elseRest.startsWith('if ')) {
      // {{else if x}} … is an if nested in the else branch sharing the same {{end}}
      const inner = parseBlock();
      return { then: first.nodes, else: [{ kind: 'if', pipe: pipeOf(elseRest.slice(3)), then: inner.then, else: inner.else }] };
    }
    const second = parseList(['end']);
    return { then: first.nodes, else: second.nodes };
  };
  return { nodes: parseList([]).nodes };
}

function getPath(v: Value, path: string[]): Value {
  let cur = v;
  for (const f of path) {
    if (cur === null || cur === undefined) throw new TemplateError(`nil pointer evaluating .${f}`);
    if (typeof cur !== 'object') throw new TemplateError(`can't evaluate field ${f} in type ${typeof cur}`);
    cur = (cur as Record<string, Value>)[f];
  }
  return cur;
}

export function execute(t: Template, data: Value, funcs: Record<string, Fn> = {}): string {
  const fns = { ...builtins, ...funcs };
  let out = '';
  const run = (nodes: Node[], dot: Value, vars: Map<string, Value>) => {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text': out += n.text; break;
        case 'action': {
          const v = evalPipe(n.pipe, dot, vars);
          if (!n.pipe.decl) out += goString(v);
          break;
        }
        case 'if': case 'with': {
          const v = evalPipe(n.pipe, dot, vars);
          if (truthy(v)) run(n.then, n.kind === 'with' ? v : dot, vars);
          else run(n.else, dot, vars);
          break;
        }
        case 'range': {
          const v = evalPipe(n.pipe, dot, vars);
          let entries: Array<[Value, Value]> = [];
          if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
          else if (v && typeof v === 'object') entries = Object.keys(v).sort().map((key) => [key, (v as Record<string, Value>)[key]]);
          else if (typeof v === 'number') entries = Array.from({ length: v }, (_, i) => [i, i]);
          if (!entries.length) { run(n.else, dot, vars); break; }
          for (const [key, val] of entries) {
            const inner = new Map(vars);
            if (n.keyVar) inner.set(n.keyVar, key);
            if (n.valVar) inner.set(n.valVar, val);
            run(n.body, val, inner);
          }
          break;
        }
      }
    }
  };
  const evalOperand = (op: Operand, dot: Value, vars: Map<string, Value>): Value => {
    switch (op.t) {
      case 'lit': return op.v;
      case 'fn': return fns[op.name]();
      case 'sub': return getPath(evalPipe(op.pipe, dot, vars), op.path);
      case 'field': {
        let base: Value;
        if (op.base === 'dot') base = dot;
        else if (op.base === '$') base = vars.get('$');
        else if (vars.has(op.base)) base = vars.get(op.base);
        else throw new TemplateError(`undefined variable "${op.base}"`);
        const v = getPath(base, op.path);
        return v;
      }
    }
  };
  const evalCmd = (cmd: Operand[], dot: Value, vars: Map<string, Value>, piped: Value[] | undefined): Value => {
    const [head, ...rest] = cmd;
    const args = () => [...rest.map((o) => evalOperand(o, dot, vars)), ...(piped ?? [])];
    if (head.t === 'fn') {
      const fn = fns[head.name];
      if (!fn) throw new TemplateError(`function "${head.name}" not defined`);
      return fn(...args());
    }
    // a method-like field: {{.Label "k"}}
    if (head.t === 'field' && head.path.length) {
      const parent = getPath(head.base === 'dot' ? dot : vars.get(head.base), head.path.slice(0, -1));
      const m = parent && typeof parent === 'object' ? (parent as Record<string, Value>)[head.path[head.path.length - 1]] : undefined;
      if (typeof m === 'function') return (m as Fn)(...args());
    }
    if (rest.length || piped) throw new TemplateError(`can't give argument to non-function ${JSON.stringify(head)}`);
    return evalOperand(head, dot, vars);
  };
  const evalPipe = (p: Pipe, dot: Value, vars: Map<string, Value>): Value => {
    let v: Value;
    let piped: Value[] | undefined;
    for (const cmd of p.cmds) { v = evalCmd(cmd, dot, vars, piped); piped = [v]; }
    if (p.decl) for (const d of p.decl) vars.set(d, v);
    return v;
  };
  run(t.nodes, data, new Map([['$', data]]));
  return out;
}

/** Parse and run in one go. */
export function renderTemplate(src: string, data: Value, funcs: Record<string, Fn> = {}): string {
  return execute(parseTemplate(src, funcs), data, funcs);
}
