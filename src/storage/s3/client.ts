import { AwsV4Signer } from 'aws4fetch';
import { parseListing, parseUploads, xmlText } from './xml.ts';
import type { Listing, PendingUpload } from './xml.ts';

export type S3Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface S3Options {
  /** http(s)://host[:port] of the S3 API (AWS: https://s3.<region>.amazonaws.com). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** https://host/bucket/key instead of https://bucket.host/key (Ceph RGW, MinIO: true). */
  forcePathStyle: boolean;
  /** Every key lives under this prefix (several stores in one bucket). */
  prefix: string;
  fetch?: S3Fetch;
}

/** An S3 error answer: the HTTP status and the XML `<Code>` (NoSuchKey, PreconditionFailed, ...). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly s3Code: string,
    message: string,
  ) {
    super(message);
  }
  /** The store is full or over quota: the callers' 507. */
  get code(): string | undefined {
    return this.s3Code === 'QuotaExceeded' || this.s3Code === 'EntityTooLarge' ? 'ENOSPC' : undefined;
  }
}

interface Req {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Statuses that are answers, not errors (404 for HEAD, 412 for conditional writes). */
  ok?: number[];
}

const RETRIES = 3;
const retryable = (status: number): boolean => status === 500 || status === 502 || status === 503 || status === 504;

/** Each key segment percent-encoded on its own (our keys are already a safe alphabet; this is belt and braces). */
const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

/**
 * The S3 API over fetch, signed with SigV4 (aws4fetch: Web Crypto, so Node, Bun and Deno alike).
 * Bodies are whole Uint8Arrays (a part, a document): S3 wants a Content-Length, and the driver bounds
 * every body by the part size, so no request holds more than one part in memory.
 */
export class S3Client {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly doFetch: S3Fetch;

  constructor(readonly opts: S3Options) {
    this.base = new URL(opts.endpoint);
    this.prefix = opts.prefix === '' || opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`;
    this.doFetch = opts.fetch ?? ((i, init) => fetch(i, init));
  }

  /** The object name of a driver key (with the store's prefix). */
  objectName(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** A driver key back from an object name (listings return full names). */
  keyOf(name: string): string {
    return name.slice(this.prefix.length);
  }

  url(key: string | null, query: Record<string, string> = {}): URL {
    const path = key === null ? '' : encodeKey(this.objectName(key));
    const u = new URL(this.base.href);
    if (this.opts.forcePathStyle) u.pathname = key === null ? `/${this.opts.bucket}` : `/${this.opts.bucket}/${path}`;
    else {
      u.hostname = `${this.opts.bucket}.${u.hostname}`;
      u.pathname = `/${path}`;
    }
    const params = new URLSearchParams(query);
    u.search = params.toString();
    return u;
  }

  private async sign(method: string, url: URL, headers: Record<string, string>, signQuery = false): Promise<{ url: URL; headers: Headers }> {
    const signer = new AwsV4Signer({
      method,
      url: url.href,
      headers,
      accessKeyId: this.opts.accessKeyId,
      secretAccessKey: this.opts.secretAccessKey,
      ...(this.opts.sessionToken ? { sessionToken: this.opts.sessionToken } : {}),
      service: 's3',
      region: this.opts.region,
      signQuery,
    });
    const signed = await signer.sign();
    return { url: signed.url, headers: signed.headers };
  }

  /** A presigned GET (redirects of cached blobs): anyone holding it may read that object until it expires. */
  async presignGet(key: string, expiresSeconds: number): Promise<string> {
    const u = this.url(key, { 'X-Amz-Expires': String(expiresSeconds) });
    return (await this.sign('GET', u, {}, true)).url.href;
  }

  /** One signed request; 5xx and network failures are retried (every call we make is idempotent). */
  async send(method: string, key: string | null, r: Req = {}): Promise<Response> {
    const u = this.url(key, r.query);
    let last: unknown;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      if (attempt > 0) await new Promise((res) => setTimeout(res, 50 * 4 ** attempt));
      const signed = await this.sign(method, u, r.headers ?? {});
      let res: Response;
      try {
        // redirect: 'manual' (S3 answers its own redirects as errors, which is what we want) also lets
        // the Node adapter's fetch serve these requests over node:http (adapters/node-fetch.ts).
        res = await this.doFetch(signed.url, { method, headers: signed.headers, redirect: 'manual', ...(r.body !== undefined ? { body: r.body } : {}) });
      } catch (e) {
        last = e;
        continue;
      }
      if (res.ok || r.ok?.includes(res.status)) return res;
      const text = await res.text().catch(() => '');
      last = new S3Error(res.status, xmlText(text, 'Code') ?? `HTTP${res.status}`, `S3 ${method} ${key ?? '/'}: ${res.status} ${xmlText(text, 'Message') ?? text.slice(0, 200)}`);
      if (!retryable(res.status)) throw last;
    }
    throw last instanceof Error ? last : new Error(`S3 ${method} ${key ?? '/'} failed`);
  }

  async head(key: string): Promise<{ size: number; mtimeMs: number; etag: string } | null> {
    const res = await this.send('HEAD', key, { ok: [404] });
    if (res.status === 404) return null;
    return {
      size: Number(res.headers.get('content-length') ?? '0'),
      mtimeMs: Date.parse(res.headers.get('last-modified') ?? '') || 0,
      etag: res.headers.get('etag') ?? '',
    };
  }

  /** GET, optionally bytes [start, end) only. */
  async get(key: string, start?: number, end?: number): Promise<Response | null> {
    const headers: Record<string, string> = {};
    if (start !== undefined) headers.range = `bytes=${start}-${end !== undefined ? end - 1 : ''}`;
    const res = await this.send('GET', key, { headers, ok: [404] });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    return res;
  }

  async put(key: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    return this.send('PUT', key, { body, headers: { 'content-type': 'application/octet-stream', ...headers }, ok: [412] });
  }

  async del(key: string): Promise<void> {
    await this.send('DELETE', key, { ok: [404] }).then((r) => r.body?.cancel());
  }

  /** Server-side copy (up to 5 GiB; larger objects go through copyPart). */
  async copy(from: string, to: string): Promise<void> {
    const res = await this.send('PUT', to, { headers: { 'x-amz-copy-source': `/${this.opts.bucket}/${encodeKey(this.objectName(from))}` } });
    // A copy can fail after its 200 was sent: the error is then in the body.
    const text = await res.text();
    if (text.includes('<Error>')) throw new S3Error(500, xmlText(text, 'Code') ?? 'CopyFailed', `S3 copy ${from} → ${to}: ${text.slice(0, 200)}`);
  }

  async list(prefix: string, delimiter: string | undefined, token?: string): Promise<Listing> {
    const q: Record<string, string> = { 'list-type': '2', prefix: this.objectName(prefix), 'max-keys': '1000' };
    if (delimiter) q.delimiter = delimiter;
    if (token) q['continuation-token'] = token;
    const res = await this.send('GET', null, { query: q });
    return parseListing(await res.text());
  }

  /** Creates the bucket; true when it was made, false when it existed already (ours). */
  async createBucket(): Promise<boolean> {
    const res = await this.send('PUT', null, { ok: [409] });
    await res.body?.cancel();
    return res.status !== 409;
  }

  async createMultipart(key: string): Promise<string> {
    const res = await this.send('POST', key, { query: { uploads: '' } });
    const id = xmlText(await res.text(), 'UploadId');
    if (!id) throw new S3Error(500, 'NoUploadId', `S3 multipart upload of ${key}: no UploadId`);
    return id;
  }

  async uploadPart(key: string, uploadId: string, n: number, body: Uint8Array): Promise<string> {
    const res = await this.send('PUT', key, { query: { partNumber: String(n), uploadId }, body });
    await res.body?.cancel();
    return res.headers.get('etag') ?? '';
  }

  /** Part `n` as a server-side copy of bytes [start, end] (inclusive) of another object. */
  async copyPart(key: string, uploadId: string, n: number, from: string, start: number, end: number): Promise<string> {
    const res = await this.send('PUT', key, {
      query: { partNumber: String(n), uploadId },
      headers: { 'x-amz-copy-source': `/${this.opts.bucket}/${encodeKey(this.objectName(from))}`, 'x-amz-copy-source-range': `bytes=${start}-${end}` },
    });
    return xmlText(await res.text(), 'ETag') ?? '';
  }

  async completeMultipart(key: string, uploadId: string, etags: string[]): Promise<void> {
    const parts = etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('');
    const res = await this.send('POST', key, { query: { uploadId }, body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`, headers: { 'content-type': 'application/xml' } });
    const text = await res.text();
    if (text.includes('<Error>')) throw new S3Error(500, xmlText(text, 'Code') ?? 'CompleteFailed', `S3 complete ${key}: ${text.slice(0, 200)}`);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.send('DELETE', key, { query: { uploadId }, ok: [404] }).then((r) => r.body?.cancel());
  }

  /** Multipart uploads never completed under a prefix (a replica killed mid-write leaves them). */
  async pendingUploads(prefix: string): Promise<PendingUpload[]> {
    const res = await this.send('GET', null, { query: { uploads: '', prefix: this.objectName(prefix) } });
    return parseUploads(await res.text()).map((u) => ({ ...u, key: this.keyOf(u.key) }));
  }
}
