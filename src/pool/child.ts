/**
 * What a pool's child process loads instead of the task module itself: it starts the orphan
 * guard, then serves the task module the pool named in the environment. tinypool takes a
 * module whose default export is a plain object as the table of named tasks.
 */
import { CHILD_TASKS_ENV } from './child-env.ts';
import { taskTable } from './task-table.ts';
import { guardAgainstOrphaning } from './orphan-guard.ts';

guardAgainstOrphaning();
const target = process.env[CHILD_TASKS_ENV];
if (!target) throw new Error(`the pool's child entry was loaded without ${CHILD_TASKS_ENV}`);
const tasks = taskTable((await import(target)) as Record<string, unknown>);
export default tasks;
