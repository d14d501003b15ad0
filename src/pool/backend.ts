/** What each runtime provides to the pool core: run a named task, and shut down. */
export interface Backend {
  /** Runs a task; aborting `signal` stops it (a thread or process running it is replaced). */
  run(name: string, input: unknown, signal?: AbortSignal): Promise<unknown>;
  destroy(): Promise<void>;
}
