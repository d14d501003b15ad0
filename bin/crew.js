#!/usr/bin/env node
// The shipped entry: everything lives in the bundle. Node 24+ is required (see README).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `crew: needs Node 24 or newer (this is ${process.version}); use "npm run crew --" or the single binary\n`,
  );
  process.exit(2);
}
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
