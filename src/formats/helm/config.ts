import * as v from 'valibot';
import { Permissions, Seconds, Upstream, budgetFields, virtualRepoSchema, watermarksInOrder, repoFields } from '../../config/parts.ts';

/** `yaml`: block YAML (what most chart repos serve); `json`: JSON, which is valid YAML and parses many times faster in helm. */
const IndexFormat = v.optional(v.picklist(['yaml', 'json']), 'yaml');

const HelmLocal = v.strictObject({
  ...repoFields('helm', 'local'),
  /** Re-upload of an existing chart version replaces it (ChartMuseum's ALLOW_OVERWRITE); default 409. */
  allowOverwrite: v.optional(v.boolean(), false),
  /** DELETE /api/charts/<name>/<version> (the archive goes with the next gc). */
  delete: v.optional(v.boolean(), true),
  /** Largest chart archive accepted (ChartMuseum's default is 20 MiB). */
  maxChartBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 20 << 20),
  indexFormat: IndexFormat,
  permissions: v.optional(Permissions),
});

const HelmRemote = v.strictObject({
  ...repoFields('helm', 'remote'),
  /** The chart repository's base URL (where index.yaml lives). */
  upstream: Upstream,
  cache: v.optional(
    v.pipe(
      v.strictObject({
        /** index.yaml is revalidated (If-None-Match / If-Modified-Since) after this; chart archives never change. */
        indexTtlSeconds: Seconds(300),
        maxStaleSeconds: Seconds(0),
        negativeTtlSeconds: Seconds(30),
        ...budgetFields,
      }),
      v.check((c) => watermarksInOrder(c), 'lowWatermark must be below highWatermark'),
    ),
    {},
  ),
  /** The largest upstream index.yaml read (public aggregators publish tens of MB). */
  maxIndexBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 256 << 20),
  maxChartBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 1 << 30),
  indexFormat: IndexFormat,
  offline: v.optional(v.boolean(), false),
  permissions: v.optional(Permissions),
});

const HelmVirtual = v.strictObject({ ...virtualRepoSchema('helm').entries, indexFormat: IndexFormat });

export const HelmRepoSchema = v.variant('type', [HelmLocal, HelmRemote, HelmVirtual]);
export type HelmRepoConfig = v.InferOutput<typeof HelmRepoSchema>;
