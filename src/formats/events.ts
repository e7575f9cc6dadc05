import { clientOrigin } from '../http/forwarded.ts';
import type { RequestContext } from './format.ts';

/** What a webhook event names: an image, a file path, a module, a chart; its version or tag; its content. */
export interface EventTarget {
  repository: string;
  tag?: string;
  digest?: string;
  size?: number;
  mediaType?: string;
  /** The path under the repo the content is fetched at (the event's url). */
  path?: string;
}

/**
 * Tells the webhooks that content was published or deleted, in the envelope Docker's events use
 * (the CNCF registry's), with the repo's format: every format's writes reach the same endpoints.
 */
export function notifyChange(ctx: RequestContext, req: Request, action: 'push' | 'delete', format: string, target: EventTarget): void {
  const n = ctx.core.notifier;
  if (!n.enabled) return;
  const { path, size, ...rest } = target;
  const origin = clientOrigin(req, ctx.core.config.http.trustProxy);
  const ua = req.headers.get('user-agent');
  n.emit({
    action,
    repo: ctx.info.repo ?? '',
    format,
    target: { ...rest, ...(size !== undefined ? { size, length: size } : {}), ...(path !== undefined ? { url: `${origin.origin}/repo/${ctx.info.repo ?? ''}${path}` } : {}) },
    request: { method: req.method, host: origin.host, ...(ua ? { useragent: ua } : {}) },
    actor: ctx.info.user ? { name: ctx.info.user } : {},
  });
}
