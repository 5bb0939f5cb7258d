// Bundles the CLI and the daemon into single files so that they start fast. CommonJS, because node
// loads a CommonJS bundle ~15 ms sooner than an ES module (it matters for every `tug` command);
// dist/package.json tells node so, and import.meta.url is given its CommonJS equivalent.
// `tug` is a small launcher (dist/tug.js) that runs the CLI bundle (dist/tug-cli.js) from V8's code cache.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// commander loads child_process at start only for executable subcommands, which tug has none of; deferring it saves
// every command a few milliseconds.
const lazyChildProcessInCommander = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'tug-lazy' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'tug-lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['koffi'],
  define: { 'import.meta.url': '__tugImportMetaUrl' },
  banner: { js: "const __tugImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
// The CLI makes no TLS connection of its own, so it need not load NODE_EXTRA_CA_CERTS, which node otherwise
// parses at every start (tens of milliseconds for a full CA bundle).
const cliShebang = '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node';
mkdirSync('dist', { recursive: true });
// old bundles, maps and code caches go
for (const f of readdirSync('dist')) rmSync(`dist/${f}`, { recursive: true });
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
// the web dashboard's files, which tugd serves from dist/dashboard (src/dashboard/server.ts)
mkdirSync('dist/dashboard');
for (const f of ['index.html', 'style.css']) copyFileSync(`src/dashboard/ui/${f}`, `dist/dashboard/${f}`);
copyFileSync('node_modules/@xterm/xterm/css/xterm.css', 'dist/dashboard/xterm.css');
await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/tug-cli.js', plugins: [lazyChildProcessInCommander], minify: true }),
  build({ ...common, entryPoints: ['src/cli/launch.ts'], outfile: 'dist/tug.js', sourcemap: false, define: {}, banner: { js: cliShebang } }),
  build({ ...common, entryPoints: ['src/daemon/main.ts'], outfile: 'dist/tugd.js', banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } }),
  build({ entryPoints: ['src/dashboard/ui/app.ts'], outfile: 'dist/dashboard/app.js', bundle: true, platform: 'browser', format: 'iife', target: 'es2022', minify: true, logLevel: 'warning' }),
  // the daemon's layer-unpacking worker threads (src/services/snapshots/apply-pool.ts)
  build({ ...common, entryPoints: ['src/services/snapshots/apply-worker.ts'], outfile: 'dist/apply-worker.js' }),
]);
for (const name of ['tug', 'tugd']) chmodSync(`dist/${name}.js`, 0o755);
// The code cache, made now so that an install no user can write to has it too: from a `run` that goes as far as
// connecting (to no daemon), so that the path of the command most sensitive to start-up time is in it.
spawnSync(process.execPath, ['dist/tug.js', '-H', 'unix:///nonexistent/tug-build-warmup.sock', 'run', '--rm', 'busybox', 'true'], { stdio: 'ignore' });
