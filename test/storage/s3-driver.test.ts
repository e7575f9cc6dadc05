import { describe } from 'node:test';
import { s3Driver } from '../helpers/s3.ts';
import { tempDir } from '../helpers/tmp.ts';
import { driverSuite } from './driver-suite.ts';

describe('S3 driver conformance (Ceph RGW)', () => {
  driverSuite(async () => {
    const t = await tempDir('s3spool-');
    return { driver: await s3Driver(t.path), cleanup: t.cleanup };
  });
});
