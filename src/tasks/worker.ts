/**
 * The pool's worker entry module: tinypool takes a default-exported plain object as the table
 * of named tasks. Each task loads its domain's code on first use.
 */
import { registry, type CrewTasks } from './registry.ts';

const runs = Object.fromEntries(
  Object.entries(registry).map(([name, task]) => [name, task.run]),
) as unknown as CrewTasks;

export default runs;
