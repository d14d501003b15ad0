#!/usr/bin/env node
// The shipped entry: everything lives in the bundle. Node 24+ is required (see README).
// First of all: Node opens its inspector on 127.0.0.1:9229 when it gets SIGUSR1 (which
// log-rotation scripts send), and then any local user could run code in this process. A
// listener of ours replaces Node's handler, so from here on USR1 does nothing. It is never
// removed: without a listener the signal's default action would end the process.
process.on('SIGUSR1', () => undefined);
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `crew: needs Node 24 or newer (this is ${process.version}); use "npm run crew --" or the single binary\n`,
  );
  process.exit(2);
}
// Reuse V8's compiled code between runs: faster start-up, from a folder of this user's that
// no one else can change (src/compile-cache.ts).
const { privateCompileCache } = await import('../dist/compile-cache.js');
const compileCache = privateCompileCache();
if (compileCache !== undefined) (await import('node:module')).enableCompileCache?.(compileCache);
// A Ctrl-C (or SIGTERM, SIGHUP) while the bundle loads is kept, and main() acts on it at once (exit 130), instead
// of Node's default ending the process mid-start.
const early = [];
const hold = (signal) => early.push(signal);
process.on('SIGINT', hold).on('SIGTERM', hold).on('SIGHUP', hold);
const { main } = await import('../dist/cli.js');
// main() puts its own listeners in place before it first awaits; only then is hold taken
// off. The other way round, the signals had no listener for a moment, Node stopped watching
// them, and one that came in that moment was lost (a Ctrl-C that did nothing).
const code = main(process.argv.slice(2), early);
process.off('SIGINT', hold).off('SIGTERM', hold).off('SIGHUP', hold);
process.exitCode = await code;
