/** Names, for the pool's child entry, the task module it serves (a file URL). */
export const CHILD_TASKS_ENV = 'CREW_POOL_TASKS';
