/** An async action that runs at most once: later calls resolve at once (closing a handle twice). */
export function once(action: () => Promise<void>): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    await action();
  };
}
