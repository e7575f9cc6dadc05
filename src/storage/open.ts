import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { S3Fetch } from './s3/client.ts';
import type { StorageDriver } from './driver.ts';
import { FsDriver } from './fs.ts';
import { S3Driver } from './s3/driver.ts';

/** The configured storage driver. */
export function openDriver(storage: Config['storage'], fetchFn?: S3Fetch): StorageDriver {
  if (storage.type === 'fs') return new FsDriver(storage.path);
  return new S3Driver({
    endpoint: storage.endpoint,
    bucket: storage.bucket,
    region: storage.region,
    accessKeyId: storage.accessKeyId,
    secretAccessKey: storage.secretAccessKey,
    ...(storage.sessionToken ? { sessionToken: storage.sessionToken } : {}),
    forcePathStyle: storage.forcePathStyle,
    prefix: storage.prefix,
    spoolDir: storage.spoolDir ?? join(tmpdir(), 'binaryrepo-spool'),
    partSize: storage.partSizeMiB * 1024 * 1024,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
}
