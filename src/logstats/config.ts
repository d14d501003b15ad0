/** What a logstats run is told, validated from the command line (commands/logstats). */
import type { CommonConfig } from '../config.ts';
import type { LineRules } from './formats/index.ts';

export interface LogstatsConfig extends CommonConfig {
  /** A Buffer for a name typed in bytes that are not UTF-8 (argsAsTyped). */
  readonly paths: readonly (string | Buffer)[];
  readonly recursive: boolean;
  /** 0: no top list. */
  readonly top: number;
  /** Cut files into ranges of this many bytes; undefined: decided from sizes and workers. */
  readonly splitBytes: number | undefined;
  /** How many rows a panel's list shows (--panel-rows); the panels are in `rules`. */
  readonly panelRows: number;
  /**
   * How lines are read, grouped, filtered and counted: --by, --utc, --format, --ip-field,
   * --time-field, the filters, --panels.
   */
  readonly rules: LineRules;
  /** --html: where to write the report page (checked before the scan, written after it). */
  readonly html?: string;
}
