/**
 * Runs every clean-up step in order even when one fails (a server whose close throws must not leave
 * its upstream listening and the test file hanging), then throws the first error.
 */
export async function closeAll(...steps: Array<() => unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}
