// dist/tug.js: runs the CLI bundle (dist/tug-cli.js) from V8's code cache, so that a command does not pay for
// compiling half a megabyte of JavaScript each time it starts. The cache is written beside the bundle by the first
// run that finds none (or finds it made by another node) whenever that directory is writable; without it the
// bundle is only compiled as usual.
import { readFileSync, writeFileSync, renameSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'tug-cli.js');
// V8 checks little more than the source's length: a cache is named after the bundle's size and time so that it is
// never used with another bundle (the build removes old ones)
const { size, mtimeMs } = statSync(bundle);
const cacheFile = join(__dirname, `tug-cli.${size}-${Math.floor(mtimeMs)}.cache`);

let cachedData: Buffer | undefined;
try { cachedData = readFileSync(cacheFile); } catch { /* first run */ }
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });

if (!cachedData || script.cachedDataRejected) {
  // at exit, the cache also holds every function this command compiled
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch { /* a read-only install: run uncached */ }
  });
}

const mod = new Module(bundle);
mod.filename = bundle;
const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, __dirname);
