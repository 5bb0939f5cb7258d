import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileParseError, parseDockerfile, parseHeredocMarker, type Instruction } from '../../src/services/build/dockerfile.ts';
import { expandWord, expandWords, referencedNames, WordError, type Lookup } from '../../src/services/build/words.ts';

const parse = (...lines: string[]) => parseDockerfile(lines.join('\n') + '\n');
const only = (...lines: string[]): Instruction => {
  const { instructions } = parse(...lines);
  return instructions[instructions.length - 1];
};
const parseError = (line: number, what: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof DockerfileParseError, String(e));
  assert.equal(e.line, line);
  if (typeof what === 'string') assert.equal(e.message, `dockerfile parse error on line ${line}: ${what}`);
  else assert.match(e.message, what);
  return true;
};

// --- parser: lines, comments, continuations ---

test('keywords are case-insensitive and lines are numbered from 1', () => {
  const df = parse('', '# comment', 'from alpine', 'Run echo hi', '  COPY a b');
  assert.deepEqual(df.instructions.map((i) => [i.keyword, i.line, i.endLine]), [['FROM', 3, 3], ['RUN', 4, 4], ['COPY', 5, 5]]);
  assert.equal(df.instructions[1].original, 'Run echo hi');
  assert.equal(df.instructions[2].original, 'COPY a b');
  assert.equal(df.escape, '\\');
  assert.equal(df.syntax, undefined);
});

test('continuation lines are joined as docker prints them, skipping comments inside', () => {
  const run = only('FROM a', 'RUN apt-get update && \\', '    # a comment inside', '  #another', '    apt-get install -y nginx \\  ', '    && rm -rf /var/lib/apt');
  assert.equal(run.original, 'RUN apt-get update &&     apt-get install -y nginx     && rm -rf /var/lib/apt');
  assert.deepEqual(run.args, ['apt-get update &&     apt-get install -y nginx     && rm -rf /var/lib/apt']);
  assert.equal(run.line, 2);
  assert.equal(run.endLine, 6);
});

test('an escaped escape at the end of a line does not continue it', () => {
  const df = parse('FROM a', 'RUN echo foo\\\\', 'RUN echo bar');
  assert.deepEqual(df.instructions.map((i) => i.args[0]), ['a', 'echo foo\\\\', 'echo bar']);
});

test('empty continuation lines are allowed, with a warning', () => {
  const df = parse('FROM a', 'RUN foo \\', '', 'bar \\', '   ', 'baz');
  assert.equal(df.instructions[1].args[0], 'foo bar baz');
  assert.equal(df.instructions[1].endLine, 6);
  assert.deepEqual(df.warnings, ['NoEmptyContinuation: Empty continuation line (line 6)']);
});

test('a continuation at the end of the file ends the instruction', () => {
  const df = parseDockerfile('FROM a\nRUN echo \\');
  assert.equal(df.instructions[1].args[0], 'echo');
});

test('CRLF line endings and a byte order mark are tolerated', () => {
  const df = parseDockerfile('\uFEFFFROM a\r\nRUN echo \\\r\n  hi\r\n');
  assert.equal(df.instructions[0].args[0], 'a');
  assert.equal(df.instructions[1].original, 'RUN echo   hi');
});

test('a file without instructions is an error', () => {
  assert.throws(() => parseDockerfile(''), parseError(1, 'file with no instructions'));
  assert.throws(() => parseDockerfile('# just\n\n# comments\n'), parseError(3, 'file with no instructions'));
});

// --- parser directives ---

test('escape and syntax directives at the top', () => {
  const df = parse('# syntax = docker/dockerfile:1.7', '#ESCAPE=`', 'FROM mcr.microsoft.com/windows', 'COPY testfile.txt c:\\', 'RUN dir c:\\ `', '  && echo done');
  assert.equal(df.syntax, 'docker/dockerfile:1.7');
  assert.equal(df.escape, '`');
  assert.deepEqual(df.instructions[1].args, ['testfile.txt', 'c:\\']);
  assert.equal(df.instructions[2].args[0], 'dir c:\\   && echo done');
});

test('directives are only read before any other line', () => {
  for (const stop of ['', '# a comment', 'FROM a']) {
    const df = parse('# syntax=x', stop, '# escape=`', 'FROM a', 'RUN a \\', 'b');
    assert.equal(df.escape, '\\', JSON.stringify(stop));
    assert.equal(df.instructions[df.instructions.length - 1].args[0], 'a b');
  }
  // an unknown directive ends them too
  assert.equal(parse('# foo=bar', '# escape=`', 'FROM a').escape, '\\');
  // the check directive is a directive
  assert.equal(parse('# check=skip=all', '# escape=`', 'FROM a').escape, '`');
});

test('bad or repeated directives are errors', () => {
  assert.throws(() => parse('# escape=x', 'FROM a'), parseError(1, "invalid escape token 'x' does not match ` or \\"));
  assert.throws(() => parse('# escape=`', '# escape=\\', 'FROM a'), parseError(2, 'only one escape parser directive can be used'));
});

// --- instructions ---

test('unknown instructions, with docker\'s suggestion', () => {
  assert.throws(() => parse('FROM a', '', 'FORM b'), parseError(3, 'unknown instruction: FORM (did you mean FROM?)'));
  assert.throws(() => parse('FROM a', 'cpy a b'), parseError(2, 'unknown instruction: cpy (did you mean copy?)'));
  assert.throws(() => parse('FROM a', 'FOOBAR x'), parseError(2, 'unknown instruction: FOOBAR'));
});

test('FROM with --platform and AS', () => {
  const from = only('FROM --platform=$BUILDPLATFORM ${BASE}:latest AS build');
  assert.deepEqual(from.flags, [{ name: 'platform', value: '$BUILDPLATFORM' }]);
  assert.deepEqual(from.args, ['${BASE}:latest', 'AS', 'build']);
  assert.deepEqual(only('from a as b').args, ['a', 'as', 'b']);
  assert.throws(() => parse('FROM'), parseError(1, 'FROM requires either one or three arguments'));
  assert.throws(() => parse('FROM a b'), parseError(1, 'FROM requires either one or three arguments'));
  assert.throws(() => parse('FROM a AS'), parseError(1, 'FROM requires either one or three arguments'));
  assert.throws(() => parse('FROM a AS 1x'), parseError(1, 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols'));
});

test('flags: values keep variables, lose quotes; -- ends them; other instructions collect them too', () => {
  const copy = only('FROM a', 'COPY --from=build --link --chown="me:me" --exclude= -- --weird /dst');
  assert.deepEqual(copy.flags, [
    { name: 'from', value: 'build' },
    { name: 'link', value: undefined },
    { name: 'chown', value: 'me:me' },
    { name: 'exclude', value: '' },
  ]);
  assert.deepEqual(copy.args, ['--weird', '/dst']);
  const run = only('FROM a', 'RUN --mount=type=cache,target=/root/.cache --network=none pip install x');
  assert.deepEqual(run.flags.map((f) => f.name), ['mount', 'network']);
  assert.deepEqual(run.args, ['pip install x']);
  // dispatch, not the parser, rejects flags an instruction does not know
  assert.deepEqual(only('FROM a', 'CMD --doit ["a"]').flags, [{ name: 'doit', value: undefined }]);
});

test('JSON (exec) form versus shell form', () => {
  const cmd = only('FROM a', 'CMD ["nginx", "-g", "daemon off;"]');
  assert.equal(cmd.json, true);
  assert.deepEqual(cmd.args, ['nginx', '-g', 'daemon off;']);
  assert.deepEqual(only('FROM a', 'ENTRYPOINT ["/bin/echo","a\\tb", "\\u00e9"]').args, ['/bin/echo', 'a\tb', 'é']);
  for (const shell of ['CMD [ "a"', "CMD ['a']", 'CMD ["a",]', 'CMD echo ["a"]']) {
    const ins = only('FROM a', shell);
    assert.equal(ins.json, false, shell);
    assert.deepEqual(ins.args, [shell.slice(4)], shell);
  }
  const empty = only('FROM a', 'CMD []');
  assert.deepEqual([empty.json, empty.args], [true, []]);
  assert.deepEqual(only('FROM a', 'ENTRYPOINT').args, []);
  assert.throws(() => parse('FROM a', 'RUN ["a", 1]'), parseError(2, 'when using JSON array syntax, arrays must be comprised of strings only'));
  assert.throws(() => parse('FROM a', 'RUN'), parseError(2, 'RUN requires at least one argument'));
});

test('SHELL must be JSON', () => {
  assert.deepEqual(only('FROM a', 'SHELL ["powershell", "-command"]').args, ['powershell', '-command']);
  assert.throws(() => parse('FROM a', 'SHELL powershell -command'), parseError(2, 'SHELL requires the arguments to be in JSON form'));
  assert.throws(() => parse('FROM a', 'SHELL []'), parseError(2, 'SHELL requires at least one argument'));
});

test('COPY and ADD: words as written, the last is the destination', () => {
  const copy = only('FROM a', 'COPY "a b" c*.txt  /dst/');
  assert.equal(copy.json, false);
  assert.deepEqual(copy.args, ['"a', 'b"', 'c*.txt', '/dst/']);
  const add = only('FROM a', 'ADD ["a b", "/dst dir/"]');
  assert.equal(add.json, true);
  assert.deepEqual(add.args, ['a b', '/dst dir/']);
  assert.throws(() => parse('FROM a', 'COPY a'), parseError(2, 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'));
  assert.throws(() => parse('FROM a', 'ADD'), parseError(2, /ADD requires at least two arguments/));
});

test('ENV: key=value pairs raw, and the legacy form', () => {
  const env = only('FROM a', 'ENV A="b c" D=e\\ f G=\'h i\' EMPTY= Q="x\\"y"');
  assert.deepEqual(env.args, []);
  assert.deepEqual(env.pairs, [['A', '"b c"'], ['D', 'e\\ f'], ['G', "'h i'"], ['EMPTY', ''], ['Q', '"x\\"y"']]);
  assert.deepEqual(only('FROM a', 'ENV PATH  /usr/local/bin:$PATH and more').pairs, [['PATH', '/usr/local/bin:$PATH and more']]);
  const multi = only('FROM a', 'ENV A=1 \\', '    B=2');
  assert.deepEqual(multi.pairs, [['A', '1'], ['B', '2']]);
  assert.ok(parse('FROM a', 'ENV A b').warnings.some((w) => w.startsWith('LegacyKeyValueFormat: "ENV key=value" should be used')));
  assert.throws(() => parse('FROM a', 'ENV'), parseError(2, 'ENV requires at least one argument'));
  assert.throws(() => parse('FROM a', 'ENV A'), parseError(2, 'ENV must have two arguments'));
  assert.throws(() => parse('FROM a', 'ENV =x'), parseError(2, 'ENV names can not be blank'));
  assert.throws(() => parse('FROM a', 'ENV A=1 B'), parseError(2, 'Syntax error - can\'t find = in "B". Must be of the form: name=value'));
});

test('LABEL: several pairs, quoted keys', () => {
  const label = only('FROM a', 'LABEL "com.example.vendor"="ACME Inc" version=1.0 \\', '  description="multi word"');
  assert.deepEqual(label.pairs, [['"com.example.vendor"', '"ACME Inc"'], ['version', '1.0'], ['description', '"multi word"']]);
  assert.throws(() => parse('FROM a', 'LABEL'), parseError(2, 'LABEL requires at least one argument'));
  assert.throws(() => parse('FROM a', 'LABEL a=b foo'), parseError(2, 'Syntax error - can\'t find = in "foo". Must be of the form: name=value'));
  assert.throws(() => parse('FROM a', 'LABEL foo'), parseError(2, 'LABEL must have two arguments'));
});

test('ARG with and without defaults, several per line', () => {
  const df = parse('ARG BASE=alpine:3.19', 'FROM ${BASE}', 'ARG A B=2 C="x y" D=');
  assert.deepEqual(df.instructions[0].pairs, [['BASE', 'alpine:3.19']]);
  assert.deepEqual(df.instructions[2].pairs, [['A', undefined], ['B', '2'], ['C', '"x y"'], ['D', '']]);
  assert.throws(() => parse('FROM a', 'ARG'), parseError(2, 'ARG requires at least one argument'));
  assert.throws(() => parse('FROM a', 'ARG =1'), parseError(2, 'ARG names can not be blank'));
});

test('single-string instructions keep the rest of the line', () => {
  const df = parse('FROM a', 'USER app:app', 'WORKDIR  /my dir ', 'STOPSIGNAL SIGTERM', 'MAINTAINER Jane <j@example.com>', 'EXPOSE 80/tcp  443', 'VOLUME /a /b', 'VOLUME ["/c"]');
  assert.deepEqual(df.instructions.slice(1).map((i) => i.args), [['app:app'], ['/my dir'], ['SIGTERM'], ['Jane <j@example.com>'], ['80/tcp', '443'], ['/a', '/b'], ['/c']]);
  assert.equal(df.instructions[7].json, true);
  assert.ok(df.warnings.some((w) => w.startsWith('MaintainerDeprecated:')));
  assert.throws(() => parse('FROM a', 'WORKDIR'), parseError(2, 'WORKDIR requires exactly one argument'));
  assert.throws(() => parse('FROM a', 'EXPOSE'), parseError(2, 'EXPOSE requires at least one argument'));
  assert.throws(() => parse('FROM a', 'VOLUME ["/a", " "]'), parseError(2, 'VOLUME specified can not be an empty string'));
});

test('HEALTHCHECK: NONE, and CMD in both forms with its options', () => {
  assert.deepEqual(only('FROM a', 'HEALTHCHECK NONE').health, { none: true });
  const shell = only('FROM a', 'HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\', '  CMD curl -f http://localhost/ || exit 1');
  assert.deepEqual(shell.flags, [{ name: 'interval', value: '5s' }, { name: 'timeout', value: '3s' }, { name: 'retries', value: '3' }]);
  assert.deepEqual(shell.health, { none: false, json: false, cmd: ['curl -f http://localhost/ || exit 1'] });
  const exec = only('FROM a', 'HEALTHCHECK --start-period=1s --start-interval=1s cmd ["/bin/check", "-q"]');
  assert.deepEqual(exec.health, { none: false, json: true, cmd: ['/bin/check', '-q'] });
  assert.equal(exec.json, true);
  assert.throws(() => parse('FROM a', 'HEALTHCHECK'), parseError(2, 'HEALTHCHECK requires at least one argument'));
  assert.throws(() => parse('FROM a', 'HEALTHCHECK NONE x'), parseError(2, 'HEALTHCHECK NONE takes no arguments'));
  assert.throws(() => parse('FROM a', 'HEALTHCHECK CMD'), parseError(2, 'Missing command after HEALTHCHECK CMD'));
  assert.throws(() => parse('FROM a', 'HEALTHCHECK connect tcp'), parseError(2, 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'));
});

test('ONBUILD holds its trigger instruction', () => {
  const ob = only('FROM a', 'ONBUILD RUN ["echo", "x"]');
  assert.equal(ob.keyword, 'ONBUILD');
  assert.equal(ob.onbuild?.keyword, 'RUN');
  assert.equal(ob.onbuild?.json, true);
  assert.deepEqual(ob.onbuild?.args, ['echo', 'x']);
  assert.equal(ob.onbuild?.original, 'RUN ["echo", "x"]');
  assert.deepEqual(ob.args, ['RUN ["echo", "x"]']);
  assert.deepEqual(only('FROM a', 'onbuild copy --chown=1 . /app').onbuild?.flags, [{ name: 'chown', value: '1' }]);
  assert.throws(() => parse('FROM a', 'ONBUILD'), parseError(2, 'ONBUILD requires at least one argument'));
  assert.throws(() => parse('FROM a', 'ONBUILD ONBUILD RUN x'), parseError(2, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'));
  assert.throws(() => parse('FROM a', 'ONBUILD from b'), parseError(2, "FROM isn't allowed as an ONBUILD trigger"));
  assert.throws(() => parse('FROM a', 'ONBUILD MAINTAINER me'), parseError(2, "MAINTAINER isn't allowed as an ONBUILD trigger"));
});

// --- heredocs ---

test('heredocs: unquoted, quoted, chomped, with a command', () => {
  const df = parse(
    'FROM a',
    'RUN <<EOF',
    'echo $HOME',
    '  # not a comment here',
    'EOF',
    "RUN python3 <<'PY'",
    'print("$x")',
    'PY',
    'RUN <<-"END"',
    '\t\techo tabbed',
    '\tEND',
    'RUN <<EMPTY',
    'EMPTY',
  );
  const [, plain, quoted, chomped, empty] = df.instructions;
  assert.deepEqual(plain.heredocs, [{ name: 'EOF', content: 'echo $HOME\n  # not a comment here\n', expand: true, chomp: false }]);
  assert.deepEqual(plain.args, ['<<EOF']);
  assert.equal(plain.original, 'RUN <<EOF');
  assert.deepEqual([plain.line, plain.endLine], [2, 5]);
  assert.deepEqual(quoted.heredocs, [{ name: 'PY', content: 'print("$x")\n', expand: false, chomp: false }]);
  assert.deepEqual(quoted.args, ["python3 <<'PY'"]);
  assert.deepEqual(chomped.heredocs, [{ name: 'END', content: 'echo tabbed\n', expand: false, chomp: true }]);
  assert.deepEqual(empty.heredocs, [{ name: 'EMPTY', content: '', expand: true, chomp: false }]);
  assert.equal(df.instructions.length, 5);
});

test('several heredocs on one line, bodies in order; COPY sources', () => {
  const df = parse('FROM a', 'COPY <<A <<B /dest/', 'one', 'B', 'A', 'two', 'B', 'RUN <<X cat > /f && <<Y sh', 'x', 'X', 'y', 'Y');
  const [, copy, run] = df.instructions;
  assert.deepEqual(copy.args, ['<<A', '<<B', '/dest/']);
  assert.deepEqual(copy.heredocs.map((h) => [h.name, h.content]), [['A', 'one\nB\n'], ['B', 'two\n']]);
  assert.deepEqual([copy.line, copy.endLine], [2, 7]);
  assert.deepEqual(run.heredocs.map((h) => h.name), ['X', 'Y']);
  assert.equal(run.line, 8);
});

test('no heredocs in quotes, JSON form, or instructions other than RUN/COPY/ADD', () => {
  const df = parse('FROM a', 'RUN echo "<<EOF"', "RUN echo '<<EOF'", 'RUN ["cat", "<<EOF"]', 'RUN echo a<<b');
  assert.ok(df.instructions.every((i) => i.heredocs.length === 0));
  assert.throws(() => parse('FROM a', 'CMD <<EOF', 'hi', 'EOF'), parseError(3, /unknown instruction: hi/));
});

test('heredoc markers with blanks, odd quoting, a continued instruction', () => {
  const df = parse('FROM a', 'RUN <<  EOF', 'x', 'EOF', 'RUN <<E"O"F', 'y', 'EOF', 'RUN --mount=type=cache,target=/c \\', '  <<EOF', 'z', 'EOF');
  assert.deepEqual(df.instructions.slice(1).map((i) => [i.heredocs[0].name, i.heredocs[0].expand, i.heredocs[0].content]), [['EOF', true, 'x\n'], ['EOF', false, 'y\n'], ['EOF', true, 'z\n']]);
  assert.deepEqual([df.instructions[3].line, df.instructions[3].endLine], [8, 11]);
});

test('heredocs in ONBUILD go with the trigger', () => {
  const ob = only('FROM a', 'ONBUILD RUN <<EOF', 'echo hi', 'EOF');
  assert.deepEqual(ob.onbuild?.heredocs, [{ name: 'EOF', content: 'echo hi\n', expand: true, chomp: false }]);
  assert.deepEqual(ob.heredocs, ob.onbuild?.heredocs);
  assert.deepEqual(ob.args, ['RUN <<EOF\necho hi\nEOF']);
  assert.equal(ob.endLine, 4);
});

test('unterminated heredoc and heredoc destination are errors', () => {
  assert.throws(() => parse('FROM a', 'RUN <<EOF', 'echo', 'EOFX'), parseError(2, 'unterminated heredoc'));
  assert.throws(() => parse('FROM a', 'RUN <<A <<B', 'a', 'A', 'b'), parseError(2, 'unterminated heredoc'));
  // <<- strips tabs only, not spaces, from the terminator
  assert.throws(() => parse('FROM a', 'RUN <<-EOF', 'x', '  EOF'), parseError(2, 'unterminated heredoc'));
  assert.throws(() => parse('FROM a', 'COPY a <<EOF', 'x', 'EOF'), parseError(2, 'COPY cannot accept a heredoc as a destination'));
});

test('parseHeredocMarker', () => {
  assert.deepEqual(parseHeredocMarker('<<EOF'), { name: 'EOF', chomp: false, expand: true });
  assert.deepEqual(parseHeredocMarker('<<-\'EOF\''), { name: 'EOF', chomp: true, expand: false });
  assert.deepEqual(parseHeredocMarker('<< EOF'), { name: 'EOF', chomp: false, expand: true });
  for (const not of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh', '"<<EOF"']) assert.equal(parseHeredocMarker(not), undefined, not);
});

// --- warnings ---

test('casing warnings as BuildKit lints them', () => {
  const df = parse('FROM a AS Build', 'from b as c', 'run x', 'Copy y z');
  assert.deepEqual(df.warnings, [
    "StageNameCasing: Stage name 'Build' should be lowercase (line 1)",
    "ConsistentInstructionCasing: Command 'FROM' should match the case of the command majority (lowercase) (line 1)",
    "ConsistentInstructionCasing: Command 'Copy' should match the case of the command majority (lowercase) (line 4)",
  ]);
  assert.deepEqual(parse('FROM a as b').warnings, ["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]);
  assert.deepEqual(parse('ARG x', 'FROM a', 'RUN b').warnings, []);
});

// --- words ---

const env: Record<string, string> = { PWD: '/home', EMPTY: '', SPACED: 'a  b', FILE: 'archive.tar.gz', PATHV: '/usr/bin:/bin' };
const lookup: Lookup = (name) => env[name];
const word = (w: string, escape?: '\\' | '`') => expandWord(w, lookup, escape);

test('expandWord: quoting and escapes', () => {
  assert.equal(word('hello'), 'hello');
  assert.equal(word('he\'ll\'o'), 'hello');
  assert.equal(word('"a b"c'), 'a bc');
  assert.equal(word("'$PWD \\n'"), '$PWD \\n');
  assert.equal(word('"$PWD"'), '/home');
  assert.equal(word('"he\'$PWD\'"'), "he'/home'");
  assert.equal(word('he\\$PWD'), 'he$PWD');
  assert.equal(word('he\\\\$PWD'), 'he\\/home');
  assert.equal(word('"a\\"b"'), 'a"b');
  assert.equal(word('"a\\tb"'), 'a\\tb');
  assert.equal(word('a\\tb'), 'atb');
  assert.equal(word('hello\\'), 'hello');
  assert.equal(word('$.'), '$.');
  assert.equal(word('$1x'), 'x');
  assert.equal(word('c:\\dir `$PWD', '`'), 'c:\\dir $PWD');
  assert.equal(word('안\'녕\'$PWD'), '안녕/home');
});

test('expandWord: $VAR and ${VAR} with defaults, alternatives and errors', () => {
  assert.equal(word('$PWD/x ${PWD}x $NOPE. ${NOPE}'), '/home/x /homex . ');
  assert.equal(word('${NOPE:-d} ${EMPTY:-d} ${EMPTY-d} ${NOPE-d} ${PWD:-d}'), 'd d  d /home');
  assert.equal(word('${NOPE:+a}|${EMPTY:+a}|${EMPTY+a}|${PWD:+a}'), '||a|a');
  assert.equal(word('${NOPE:-${ALSO:-${PWD}}}'), '/home');
  assert.equal(word('${PWD:+${PWD}:}'), '/home:');
  assert.equal(word('${NOPE:-\\$PWD}'), '$PWD');
  assert.equal(word('${NOPE:-"a b"}'), 'a b');
  assert.equal(word('${PWD?}${EMPTY?}'), '/home');
  assert.equal(word('${aaa:-bbb}}'), 'bbb}');
  const fails = (w: string, message: string) => assert.throws(() => word(w), (e: unknown) => e instanceof WordError && e.message === message, w);
  fails('${PWD', 'failed to process "${PWD": syntax error: missing \'}\'');
  fails('${NOPE:-x', 'failed to process "${NOPE:-x": syntax error: missing \'}\'');
  fails('${}', 'failed to process "${}": syntax error: bad substitution');
  fails('${:-x}', 'failed to process "${:-x}": syntax error: bad substitution');
  fails('${NOPE?}', 'failed to process "${NOPE?}": NOPE: is not allowed to be unset');
  fails('${NOPE:?must be set}', 'failed to process "${NOPE:?must be set}": NOPE: must be set');
  fails('${EMPTY:?}', 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty');
  fails('${PWD:=x}', 'failed to process "${PWD:=x}": unsupported modifier (:=) in substitution');
  fails('${PWD:#x}', 'failed to process "${PWD:#x}": unsupported modifier (:#) in substitution');
  fails('"abc', 'failed to process "\\"abc": unexpected end of statement while looking for matching double-quote');
  fails("'abc", 'failed to process "\'abc": unexpected end of statement while looking for matching single-quote');
});

test('expandWord: pattern removal and replacement', () => {
  assert.equal(word('${FILE#*.}'), 'tar.gz');
  assert.equal(word('${FILE##*.}'), 'gz');
  assert.equal(word('${FILE%.*}'), 'archive.tar');
  assert.equal(word('${FILE%%.*}'), 'archive');
  assert.equal(word('${FILE%.t?r.gz}'), 'archive');
  assert.equal(word('${FILE#nomatch}'), 'archive.tar.gz');
  assert.equal(word('${PATHV/bin/sbin}'), '/usr/sbin:/bin');
  assert.equal(word('${PATHV//bin/sbin}'), '/usr/sbin:/sbin');
  assert.equal(word('${PATHV//\\//|}'), '|usr|bin:|bin');
  assert.equal(word('${FILE//a*r/X}'), 'X.gz');
  assert.equal(word('${FILE/*/X}'), 'X');
  assert.equal(word('${NOPE/a/b}${NOPE#a}'), '');
  assert.equal(word('${FILE/\\*/X}'), 'archive.tar.gz');
});

test('expandWords: splits on unquoted whitespace, unquoted expansions split too (as docker)', () => {
  assert.deepEqual(expandWords('a  "b c"  d\\ e', lookup), ['a', 'b c', 'd e']);
  assert.deepEqual(expandWords('80/tcp $SPACED "$SPACED" x${SPACED}y', lookup), ['80/tcp', 'a', 'b', 'a  b', 'xa', 'by']);
  assert.deepEqual(expandWords('$NOPE "" $EMPTY x', lookup), ['x']);
  assert.deepEqual(expandWords('', lookup), []);
});

test('referencedNames', () => {
  assert.deepEqual(referencedNames('${A:-${B}} $C \'$D\' "$E" \\$F $1 $@ ${G:?x} ${H#*} x$I_2y'), ['A', 'B', 'C', 'E', 'G', 'H', 'I_2y']);
  assert.deepEqual(referencedNames('no vars'), []);
  assert.deepEqual(referencedNames('$A ${B'), ['A', 'B']);
  assert.deepEqual(referencedNames('`$A $B', '`'), ['B']);
});
