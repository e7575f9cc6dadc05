import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What an outgoing upstream request must carry from the incoming request that caused it: the Via
 * chain, so a loop through several binaryrepo instances is seen by the first one it comes back to.
 * AsyncLocalStorage is in Node, Bun and Deno alike; fills started by a request inherit its context.
 */
export interface RequestContext {
  via?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Our Via entry appended to the incoming chain. */
export function viaChain(own: string): string {
  const incoming = requestContext.getStore()?.via;
  return incoming ? `${incoming}, ${own}` : own;
}
