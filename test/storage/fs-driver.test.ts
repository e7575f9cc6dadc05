import { describe } from 'node:test';
import { FsDriver } from '../../src/storage/fs.ts';
import { tempDir } from '../helpers/tmp.ts';
import { driverSuite } from './driver-suite.ts';

describe('fs driver conformance', () => {
  driverSuite(async () => {
    const t = await tempDir('fsdriver-');
    return { driver: new FsDriver(t.path), cleanup: t.cleanup };
  });
});
