// Bundles the CLI and the daemon into single files so that they start fast.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  external: ['koffi'],
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
const entries = { tug: 'src/cli/main.ts', tugd: 'src/daemon/main.ts' };
await Promise.all(Object.entries(entries).map(([name, entry]) =>
  build({ ...common, entryPoints: [entry], outfile: `dist/${name}.js` })));
for (const name of Object.keys(entries)) chmodSync(`dist/${name}.js`, 0o755);
