/** What each runtime provides to the pool core: run a named task, and shut down. */
export interface Backend {
  run(name: string, input: unknown): Promise<unknown>;
  destroy(): Promise<void>;
}
