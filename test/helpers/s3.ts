import { readFileSync } from 'node:fs';
import { S3Client } from '../../src/storage/s3/client.ts';
import { S3Driver } from '../../src/storage/s3/driver.ts';
import type { S3DriverOptions } from '../../src/storage/s3/driver.ts';

/**
 * The Ceph RGW that test/run.sh starts (test/ceph/ceph.sh) before the tests: its settings file.
 * Missing settings fail the test that needs them (never a skip): the S3 suite must run in make test.
 */
export interface S3Env {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function s3Env(): S3Env {
  const file = `${process.env.CEPH_DIR ?? '/tmp/binaryrepo-ceph'}/env`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no Ceph RGW settings at ${file}: start it with sh test/ceph/ceph.sh start (test/run.sh does)`);
  }
  const kv = Object.fromEntries(text.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  const get = (k: string): string => {
    const v = kv[k];
    if (!v) throw new Error(`${file} has no ${k}`);
    return v;
  };
  return { endpoint: get('S3_ENDPOINT'), region: get('S3_REGION'), bucket: get('S3_BUCKET'), accessKeyId: get('S3_ACCESS_KEY_ID'), secretAccessKey: get('S3_SECRET_ACCESS_KEY') };
}

let bucketReady: Promise<void> | undefined;

/** Driver options for a fresh prefix of the test bucket (made once), so tests never see each other's keys. */
export async function s3Options(spoolDir: string, prefix = `t-${crypto.randomUUID()}`): Promise<S3DriverOptions> {
  const env = s3Env();
  const opts: S3DriverOptions = { ...env, forcePathStyle: true, prefix, spoolDir };
  bucketReady ??= new S3Client(opts).createBucket().then(() => {});
  await bucketReady;
  return opts;
}

export async function s3Driver(spoolDir: string, prefix?: string): Promise<S3Driver> {
  return new S3Driver(await s3Options(spoolDir, prefix));
}
