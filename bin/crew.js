#!/usr/bin/env node
// The shipped entry: everything lives in the bundle. Node 24+ is required (see README).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `crew: needs Node 24 or newer (this is ${process.version}); use "npm run crew --" or the single binary\n`,
  );
  process.exit(2);
}
// Reuse V8's compiled code between runs (kept in the OS temp dir): faster start-up.
(await import('node:module')).enableCompileCache?.();
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
