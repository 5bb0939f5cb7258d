// .dockerignore: reading the file as docker's CLI does, and matching paths as moby/patternmatcher does (the
// examples of docker's documentation, the library's own cases), plus the walk's question "could an exception
// re-include something under this excluded directory?".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadPatternError, cleanPath, IgnoreMatcher, parseDockerignore } from '../../src/util/dockerignore.ts';

const matcher = (...lines: string[]) => new IgnoreMatcher(parseDockerignore(lines.join('\n')));
const raw = (...patterns: string[]) => new IgnoreMatcher(patterns.map((p) => (p.startsWith('!') ? { pattern: p.slice(1), exception: true } : { pattern: p, exception: false })));
const excluded = (m: IgnoreMatcher, paths: string[]) => paths.filter((p) => m.matches(p));

test('reading .dockerignore: comments, blank lines, trimming, cleaning, leading slashes, exceptions', () => {
  assert.deepEqual(parseDockerignore('test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n'), [
    { pattern: 'test1', exception: false },
    { pattern: 'test2', exception: false },
    { pattern: 'a/file/here', exception: false },
    { pattern: 'lastfile', exception: false },
    { pattern: 'inverted/abs/path', exception: true },
    { pattern: '', exception: true },
    { pattern: '', exception: true },
  ]);
  assert.deepEqual(parseDockerignore('\uFEFFfirst\r\n  spaced  \r\n\t./dir//sub/../x/\n'), [
    { pattern: 'first', exception: false }, { pattern: 'spaced', exception: false }, { pattern: 'dir/x', exception: false },
  ], 'a BOM, CRLF line ends and surrounding whitespace go; paths are cleaned');
  assert.deepEqual(parseDockerignore('  # not a comment\n#comment'), [{ pattern: '# not a comment', exception: false }],
    'only a "#" in the first column starts a comment');
  assert.deepEqual(parseDockerignore('/\n../up\n!/abs'), [
    { pattern: '/', exception: false }, { pattern: '../up', exception: false }, { pattern: 'abs', exception: true },
  ]);
});

test("Go's path cleaning", () => {
  const cases: Array<[string, string]> = [
    ['', '.'], ['.', '.'], ['a/b/', 'a/b'], ['a//b', 'a/b'], ['./a', 'a'], ['a/./b', 'a/b'], ['a/../b', 'b'], ['a/..', '.'],
    ['../a', '../a'], ['../../a/../b', '../../b'], ['/../a', '/a'], ['/', '/'], ['//a//', '/a'],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
});

test("docker's documented examples", () => {
  const files = ['somedir/temporary.txt', 'somedir/temp', 'somedir/subdir/temporary.txt', 'tempa', 'tempb', 'temp', 'tempab', 'temporary.txt', 'a/b/temp.x/y', 'a/b/c/temp.x'];
  assert.deepEqual(excluded(matcher('# comment', '*/temp*'), files), ['somedir/temporary.txt', 'somedir/temp'],
    '*/temp*: names starting with temp in a subdirectory of the root (and what is below them)');
  assert.deepEqual(excluded(matcher('*/*/temp*'), files), ['somedir/subdir/temporary.txt', 'a/b/temp.x/y'],
    '*/*/temp*: two levels below the root (and what is below that)');
  assert.deepEqual(excluded(matcher('temp?'), files), ['tempa', 'tempb'], 'temp?: one more character, in the root only');

  const go = ['main.go', 'pkg/a/b.go', 'pkg/a/b.go.txt', 'README.md'];
  assert.deepEqual(excluded(matcher('**/*.go'), go), ['main.go', 'pkg/a/b.go'], '**/*.go: anywhere in the context');

  const md = ['README.md', 'README-secret.md', 'README-other.md', 'CHANGES.md', 'docs/x.md', 'main.go'];
  assert.deepEqual(excluded(matcher('*.md', '!README.md'), md), ['README-secret.md', 'README-other.md', 'CHANGES.md']);
  assert.deepEqual(excluded(matcher('*.md', '!README*.md', 'README-secret.md'), md), ['README-secret.md', 'CHANGES.md'],
    'the last matching pattern wins: README-secret.md is excluded again');
  assert.deepEqual(excluded(matcher('*.md', 'README-secret.md', '!README*.md'), md), ['CHANGES.md'],
    'here !README*.md comes last and re-includes README-secret.md');
});

test('a pattern matching a directory excludes what is below it; an exception below re-includes', () => {
  const m = matcher('foo', 'docs', '!docs/README.md');
  assert.ok(m.matches('foo'));
  assert.ok(m.matches('foo/bar'));
  assert.ok(m.matches('foo/bar/baz.txt'));
  assert.ok(!m.matches('foobar'));
  assert.ok(!m.matches('x/foo'), 'patterns are relative to the context root');
  assert.ok(m.matches('docs/other.md'));
  assert.ok(!m.matches('docs/README.md'));
  assert.ok(!m.matches('.'), 'the context root is never excluded');
  assert.ok(matcher('a/b', '!a').matches('a/b') === false, 'an exception matching a parent re-includes when it comes last');
  assert.ok(matcher('!a', 'a/b').matches('a/b/c'), 'an exception before the exclusion does not');
  assert.ok(!matcher('docs/', '!docs/README.md').matches('docs/README.md'), 'a trailing slash is cleaned away');
  assert.ok(!matcher('docs/*', '!docs/README.md').matches('docs/README.md'));
});

// moby/patternmatcher's table: [pattern, path, matches the path itself, matches it or a parent]
const cases: Array<[string, string, boolean, boolean]> = [
  ['**', 'file', true, true], ['**', 'file/', true, true], ['**/', 'file', true, true], ['**/', 'file/', true, true],
  ['**', 'dir/file', true, true], ['**/', 'dir/file', true, true], ['**', 'dir/file/', true, true], ['**/**', 'dir/file', true, true],
  ['**/**', 'dir/file/', true, true], ['dir/**', 'dir/file', true, true], ['dir/**', 'dir/file/', true, true],
  ['dir/**', 'dir/dir2/file', true, true], ['dir/**', 'dir/dir2/file/', true, true], ['**/dir', 'dir', true, true],
  ['**/dir', 'dir/file', false, true], ['**/dir2/*', 'dir/dir2/file', true, true], ['**/dir2/*', 'dir/dir2/file/', false, true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true, true], ['**/dir2/**', 'dir/dir2/dir3/file/', true, true], ['**file', 'file', true, true],
  ['**file', 'dir/file', true, true], ['**/file', 'dir/file', true, true], ['**file', 'dir/dir/file', true, true],
  ['**/file', 'dir/dir/file', true, true], ['**/file*', 'dir/dir/file', true, true], ['**/file*', 'dir/dir/file.txt', true, true],
  ['**/file*txt', 'dir/dir/file.txt', true, true], ['**/file*.txt', 'dir/dir/file.txt', true, true],
  ['**/file*.txt*', 'dir/dir/file.txt', true, true], ['**/**/*.txt', 'dir/dir/file.txt', true, true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false, false], ['**/*.txt', 'file.txt', true, true], ['**/**/*.txt', 'file.txt', true, true],
  ['a**/*.txt', 'a/file.txt', true, true], ['a**/*.txt', 'a/dir/file.txt', true, true], ['a**/*.txt', 'a/dir/dir/file.txt', true, true],
  ['a/*.txt', 'a/dir/file.txt', false, false], ['a/*.txt', 'a/file.txt', true, true], ['a/*.txt**', 'a/file.txt', true, true],
  ['a[b-d]e', 'ae', false, false], ['a[b-d]e', 'ace', true, true], ['a[b-d]e', 'aae', false, false], ['a[^b-d]e', 'aze', true, true],
  ['.*', '.foo', true, true], ['.*', 'foo', false, false], ['abc.def', 'abcdef', false, false], ['abc.def', 'abc.def', true, true],
  ['abc.def', 'abcZdef', false, false], ['abc?def', 'abcZdef', true, true], ['abc?def', 'abcdef', false, false],
  ['**/foo/bar', 'foo/bar', true, true], ['**/foo/bar', 'dir/foo/bar', true, true], ['**/foo/bar', 'dir/dir2/foo/bar', true, true],
  ['abc/**', 'abc', false, false], ['abc/**', 'abc/def', true, true], ['abc/**', 'abc/def/ghi', true, true],
  ['**/.foo', '.foo', true, true], ['**/.foo', 'bar.foo', false, false], ['a(b)c/def', 'a(b)c/def', true, true],
  ['a(b)c/def', 'a(b)c/xyz', false, false], ['a.|)$(}+{bc', 'a.|)$(}+{bc', true, true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true, true],
  ['a\\\\', 'a\\', true, true], ['a\\*b', 'a*b', true, true],
];

test("patternmatcher's cases: the path itself, and the path or a parent", () => {
  for (const [pattern, path, itself, orParent] of cases) {
    const m = raw(pattern);
    assert.equal(m.excluded(m.state(path)), itself, `${pattern} ~ ${path} (itself)`);
    assert.equal(m.matches(path), orParent, `${pattern} ~ ${path} (or a parent)`);
  }
  assert.ok(!raw('**', '!util/docker/web').matches('util/docker/web/foo'));
  assert.ok(raw('**', '!util/docker/web', 'util/docker/web/foo').matches('util/docker/web/foo'));
  assert.ok(!raw('**', '!dist/*.whl').matches('dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'));
});

test("Go's filepath.Match semantics for * ? and classes", () => {
  const go: Array<[string, string, boolean]> = [
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false], ['*x', 'xxx', true],
  ];
  for (const [pattern, path, want] of go) assert.equal(raw(pattern).matches(path), want, `${pattern} ~ ${path}`);
});

test('malformed patterns are refused with docker\'s errors', () => {
  for (const bad of ['[]a]', '[-]', '[x-]', '[-x]', '\\', '[a-b-c]', '[', '[^', '[^bc', 'a[']) {
    assert.throws(() => raw(bad), (e: unknown) => e instanceof BadPatternError && e.message === 'syntax error in pattern', bad);
  }
  assert.throws(() => matcher('!'), (e: unknown) => e instanceof BadPatternError && e.message === 'illegal exclusion pattern: "!"');
  assert.throws(() => matcher('! '), /illegal exclusion pattern/);
});

test('mayIncludeUnder: whether a walk must enter an excluded directory', () => {
  const m = matcher('node_modules', '!node_modules/keep/this', 'cache', '!cach?/x', 'tmp*', '!tmpx/y*');
  assert.ok(m.mayIncludeUnder('node_modules'), 'an exception names something below it');
  assert.ok(m.mayIncludeUnder('node_modules/keep'));
  assert.ok(!m.mayIncludeUnder('node_modules/other'), 'not below a sibling');
  assert.ok(m.mayIncludeUnder('cache'), 'wildcards in the exception are matched segment by segment');
  assert.ok(m.mayIncludeUnder('tmpx'));
  assert.ok(!m.mayIncludeUnder('tmpz'));
  const anywhere = matcher('build', 'logs', '!**/important.log');
  assert.ok(anywhere.mayIncludeUnder('build'), '**/important.log could be anywhere');
  assert.ok(anywhere.mayIncludeUnder('logs/deep/er'));

  const plain = matcher('node_modules', '.git', '*.log');
  assert.ok(!plain.mayIncludeUnder('node_modules'), 'no exceptions: skip the whole directory');
  assert.ok(!plain.mayIncludeUnder('.git'));

  assert.ok(!matcher('!vendor/keep', 'vendor').mayIncludeUnder('vendor'), 'an exception before the exclusion re-includes nothing');
  assert.ok(!matcher('vendor', '!vendor').matches('vendor'), 'an exception of the directory itself re-includes it (and all below)');
  assert.ok(!matcher('a', '!b/c').mayIncludeUnder('a'));
  assert.ok(matcher('a', '!a/x**').mayIncludeUnder('a'), 'a prefix pattern');
  assert.ok(matcher('ab', '!a**/x').mayIncludeUnder('ab'));
  assert.ok(!matcher('a', '!b**').mayIncludeUnder('a'));
  assert.ok(matcher('a', '!**/x').mayIncludeUnder('a'));
});

test('a walk that asks mayIncludeUnder finds exactly what matches() keeps', () => {
  // every path of a small tree, under several pattern sets: skipping directories must never lose an included file
  const tree = ['a', 'a/b', 'a/b/c.txt', 'a/b/d.log', 'a/e', 'a/e/f.txt', 'g', 'g/h.log', 'g/i', 'g/i/j.txt', 'k.txt', 'tmp1', 'tmp1/z'];
  const dirs = new Set(['a', 'a/b', 'a/e', 'g', 'g/i', 'tmp1']);
  const sets = [
    ['a', '!a/b/c.txt'], ['*', '!g/i'], ['**/*.txt', '!a/**/f.txt'], ['a', 'g', '!*/*/j.txt'], ['tmp?', '!tmp1/z'], ['**', '!**/*.log'],
    ['a/b', '!a'], ['g', '!g/i/j.txt', 'g/i'],
  ];
  for (const lines of sets) {
    const m = matcher(...lines);
    const kept: string[] = [];
    const walk = (prefix: string) => {
      for (const p of tree.filter((t) => t.startsWith(prefix) && !t.slice(prefix.length).includes('/'))) {
        if (m.matches(p)) { if (dirs.has(p) && m.mayIncludeUnder(p)) walk(`${p}/`); continue; }
        kept.push(p);
        if (dirs.has(p)) walk(`${p}/`);
      }
    };
    walk('');
    assert.deepEqual(kept, tree.filter((p) => !m.matches(p)), lines.join(' '));
  }
});
