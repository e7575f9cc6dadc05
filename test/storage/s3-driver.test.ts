import { describe } from 'node:test';
import { nodeFetch } from '../../adapters/node-fetch.ts';
import { S3Driver } from '../../src/storage/s3/driver.ts';
import { s3Driver, s3Options } from '../helpers/s3.ts';
import { tempDir } from '../helpers/tmp.ts';
import { driverSuite } from './driver-suite.ts';

describe('S3 driver conformance (Ceph RGW)', () => {
  driverSuite(async () => {
    const t = await tempDir('s3spool-');
    return { driver: await s3Driver(t.path), cleanup: t.cleanup };
  });
});

// On Node the server hands the driver its adapter's fetch: node:http for requests without a body,
// native bodies for reads. The same suite over that path.
describe('S3 driver conformance (Ceph RGW), with the Node adapter fetch', () => {
  driverSuite(async () => {
    const t = await tempDir('s3spool-');
    return { driver: new S3Driver({ ...(await s3Options(t.path)), fetch: nodeFetch }), cleanup: t.cleanup };
  });
});
