/**
 * The named tasks of a module, read as tinypool reads them: a default-exported plain object
 * is the table, else the module's own named exports are.
 */
export function taskTable(module: Record<string, unknown>): Record<string, unknown> {
  const table = module['default'];
  return typeof table === 'object' && table !== null ? (table as Record<string, unknown>) : module;
}
