/**
 * A repeatable stream of random numbers for tests that try many generated inputs: the same
 * seed gives the same inputs on every run, so a failure can be run again.
 */
export function seededRandom(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % below;
  };
}
