/**
 * crew's task registry: every task a pool can run, by name. Adding a task is one module in
 * this folder (its run, input check, portability and description: see task.ts) and one line
 * here; the pool's worker entry, queue workers and the coordinator all read this table.
 */
import { isObject } from './check.ts';
import { downloadUrl } from './download-url.ts';
import { logstatsFiles } from './logstats-files.ts';
import { logstatsRange } from './logstats-range.ts';
import { sumRange } from './sum-range.ts';
import { printable } from '../ui/printable.ts';
import type { WorkerScope } from './scope.ts';
import type { TaskDef } from './task.ts';

export const registry = { sumRange, logstatsRange, logstatsFiles, downloadUrl } as const;

export type TaskName = keyof typeof registry;

/** The tasks as a pool sees them: a function per name, typed end to end. */
export type CrewTasks = { readonly [N in TaskName]: (typeof registry)[N]['run'] };

/** The task of that name, if crew has one (never one of Object's own properties). */
export function taskNamed(name: string): TaskDef<unknown, unknown> | undefined {
  return Object.hasOwn(registry, name)
    ? (registry[name as TaskName] as unknown as TaskDef<unknown, unknown>)
    : undefined;
}

/** Why a task from the queue must not run where `scope` allows, or undefined when it may. */
export function acceptTask(name: string, input: unknown, scope: WorkerScope): string | undefined {
  const task = taskNamed(name);
  if (!task) return `no crew task is named "${printable(name.slice(0, 40))}"`;
  if (!isObject(input)) return 'the input must be an object';
  return task.accept(input, scope);
}

/**
 * Why the coordinator must not use a queue worker's answer `value` to task `name` with
 * `input` (the portable input it sent), or undefined when it may.
 */
export function acceptAnswer(name: string, input: unknown, value: unknown): string | undefined {
  const task = taskNamed(name);
  if (!task) return `no crew task is named "${printable(name.slice(0, 40))}"`;
  return task.acceptResult(value, input);
}
