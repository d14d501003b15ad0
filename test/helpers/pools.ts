/** Pools of crew's own tasks on this machine, as the command runner hands them to a domain. */
import type { PoolFactory } from '../../src/pool/pool.ts';
import { createTaskPool, type CrewTasks } from '../../src/tasks/pool.ts';

export const localPools: PoolFactory<CrewTasks> = (options) => createTaskPool(options);
