// Stands in for `escalade/sync` in the bundle (see scripts/build.ts). yargs uses it only to
// find the nearest package.json above the program (in a bundle: above the current directory)
// and read it, for a version string and parser settings crew sets itself. A file crew did not
// write must not change how it parses its command line, so the search finds nothing.
export default function escalade(): undefined {
  return undefined;
}
