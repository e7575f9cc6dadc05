import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { makeCerts, startBalancer } from './nginx.ts';
import type { RunningNginx } from './nginx.ts';
import { startProcessServer } from './process-server.ts';
import type { ProcessServer, RuntimeName } from './process-server.ts';
import { s3Options } from './s3.ts';
import { tempDir } from './tmp.ts';

/**
 * N binaryrepo processes (Node, as `npm start` runs) over one prefix of the test bucket on Ceph
 * RGW, each with its own spool folder, and nginx balancing over them. Replicas can be killed and
 * started again on the same config (their ports change: nginx is not involved in those tests).
 */
export interface Cluster {
  dir: string;
  replicas: Array<ProcessServer | undefined>;
  config: Record<string, unknown>;
  start(i: number): Promise<ProcessServer>;
  balancer(): Promise<{ lb: RunningNginx; ca: string }>;
  url(i: number): string;
  close(): Promise<void>;
}

export async function startCluster(
  n: number,
  config: (storage: Record<string, unknown>) => Record<string, unknown>,
  storageExtra: Record<string, unknown> = {},
  /** The runtime of each replica (default Node for all). */
  runtimes: RuntimeName[] = [],
): Promise<Cluster> {
  const t = await tempDir('replicas-');
  const s3 = await s3Options(join(t.path, 'unused'));
  const replicas: Array<ProcessServer | undefined> = [];
  let lb: RunningNginx | undefined;
  const cluster: Cluster = {
    dir: t.path,
    replicas,
    config: {},
    async start(i) {
      const dir = join(t.path, `r${i}`);
      await mkdir(dir, { recursive: true });
      const storage = { type: 's3', endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, prefix: s3.prefix, spoolDir: join(dir, 'spool'), ...storageExtra };
      const srv = await startProcessServer(runtimes[i] ?? 'node', { serverId: `replica-${i}`, log: { level: 'info', requests: false }, ...config(storage) }, dir);
      replicas[i] = srv;
      return srv;
    },
    async balancer() {
      const certs = await makeCerts(join(t.path, 'certs'));
      lb = await startBalancer({ backends: replicas.filter((r): r is ProcessServer => r !== undefined).map((r) => r.url), dir: t.path, cert: certs.cert, key: certs.key });
      return { lb, ca: certs.ca };
    },
    url(i) {
      const r = replicas[i];
      if (!r) throw new Error(`replica ${i} is not running`);
      return r.url;
    },
    async close() {
      await lb?.stop().catch(() => {});
      await Promise.all(replicas.map((r) => r?.stop().catch(() => {})));
      await t.cleanup();
    },
  };
  for (let i = 0; i < n; i++) await cluster.start(i);
  return cluster;
}
