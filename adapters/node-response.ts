import { ServerResponse } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

/**
 * curl (so cargo, over plain http) offers an `Upgrade: h2c` with every request and, while one is
 * in flight on a connection, holds its other transfers back to see whether the connection turns
 * into HTTP/2 (CURLOPT_PIPEWAIT). An answer written whole in one go ends that wait only when the
 * answer is complete, so the held transfers take the same connection one by one and cargo's second
 * connection never opens (a cold `cargo fetch` ran 1.5× slower than straight from nginx, whose
 * headers leave before the body). For such requests the headers are sent on their own at once: the
 * client knows at the first byte that the connection stays HTTP/1.1 and opens its next one.
 */
export class PromptHeadersResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  override writeHead(statusCode: number, message?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (typeof message === 'string') super.writeHead(statusCode, message, headers);
    else super.writeHead(statusCode, message);
    if (/\bh2c\b/i.test(this.req.headers.upgrade ?? '')) this.flushHeaders();
    return this;
  }
}
