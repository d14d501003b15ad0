/**
 * What a pool's child process loads instead of the task module itself: it starts the orphan
 * guard, then serves the task module the pool named in the environment, each task's big
 * arrays passed back through the pool's folder (spill.ts). tinypool takes a module whose
 * default export is a plain object as the table of named tasks.
 */
import { CHILD_TASKS_ENV } from './child-env.ts';
import { taskTable } from './task-table.ts';
import { guardAgainstOrphaning } from './orphan-guard.ts';
import { SPILL_DIR_ENV, spill } from './spill.ts';

guardAgainstOrphaning();
const target = process.env[CHILD_TASKS_ENV];
if (!target) throw new Error(`the pool's child entry was loaded without ${CHILD_TASKS_ENV}`);
const spillDir = process.env[SPILL_DIR_ENV] || undefined;

const spilling = (task: unknown): unknown =>
  typeof task === 'function'
    ? async (input: unknown) => spill(await (task as (input: unknown) => unknown)(input), spillDir)
    : task;

const module = (await import(target)) as Record<string, unknown>;
const tasks = Object.fromEntries(
  Object.entries(taskTable(module)).map(([name, task]) => [name, spilling(task)]),
);
export default tasks;
