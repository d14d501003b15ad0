/** What a `crew sum` run is told: the range, and whether to time every runtime (--bench). */
import type { CommonConfig } from '../config.ts';
import type { Range } from './plan.ts';

export interface SumConfig extends CommonConfig {
  readonly range: Range;
  /** `--bench`: time each runtime and worker count `repeat` times; undefined for one sum. */
  readonly bench: { readonly repeat: number } | undefined;
}
