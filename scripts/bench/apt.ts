/**
 * The Debian tools a bench section compares crew with, installed with apt when missing (as
 * root, after `apt-get update`): what cannot be had is skipped, and the output says so.
 */
import { execFileSync } from 'node:child_process';

/** A command a section runs, how to ask it whether it runs, and its Debian package. */
export interface AptTool {
  readonly command: string;
  readonly package: string;
  /** The arguments that make it print its version and exit 0. */
  readonly check: readonly string[];
}

/** Whether `tool` runs now. */
export function runs(tool: AptTool): boolean {
  try {
    execFileSync(tool.command, [...tool.check], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the packages of the tools that do not run (one apt-get for all); returns a note
 * for each tool that still does not, for the section's output.
 */
export function ensureTools(
  tools: readonly AptTool[],
  section: string,
  log: (line: string) => void,
): string[] {
  const missing = tools.filter((tool) => !runs(tool));
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((tool) => tool.package))];
  if (process.getuid?.() === 0) {
    log(`${section}: installing ${packages.join(' ')} with apt-get`);
    try {
      execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-q', ...packages], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (error) {
      log(`${section}: apt-get failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return missing
    .filter((tool) => !runs(tool))
    .map(
      (tool) =>
        `${tool.command} could not be had (\`apt-get install -y ${tool.package}\` as root): skipped.`,
    );
}
