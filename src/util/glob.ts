// Go's path.Match patterns ('*' and '?' never cross '/', '[...]' classes, '\' escapes) as anchored regular
// expressions: image reference filters and COPY's wildcards.

/** The pattern as a regular expression; undefined when it is malformed (an unclosed class). */
export function globRegExp(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      // a ']' first in the class is one of its characters
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return undefined;
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  try { return new RegExp(`^${re}$`); } catch { return undefined; }
}
