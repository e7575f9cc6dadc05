import { parseYaml } from '../../util/yaml.ts';
import { checkNesting } from './index-chunks.ts';
import { RegistryError } from '../../errors.ts';
import { isSemver } from '../../util/semver.ts';
import { TgzInspector } from '../tgz-inspect.ts';
import type { InspectLimits } from '../tgz-inspect.ts';

export type { InspectLimits } from '../tgz-inspect.ts';

/** The Chart.yaml fields helm reads into an index entry (everything else in Chart.yaml is dropped). */
export type ChartMetadata = Record<string, unknown> & { name: string; version: string; apiVersion: string };

const MAX_CHART_YAML = 1 << 20;
const STRING_FIELDS = ['apiVersion', 'name', 'version', 'kubeVersion', 'description', 'type', 'home', 'icon', 'appVersion'] as const;
const LIST_FIELDS = ['keywords', 'sources', 'maintainers', 'dependencies'] as const;
/** Chart names as helm's lint wants them: no path separators, nothing a URL or file name would bend. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,249}$/;

export const badChart = (message: string): RegistryError => new RegistryError('invalid', message, { code: 'INVALID_CHART' });

/** The index fields of a parsed Chart.yaml, checked; throws with the reason a client can act on. */
export async function chartMetadata(text: string): Promise<ChartMetadata> {
  let doc: unknown;
  try {
    checkNesting(text, 'Chart.yaml');
  } catch (e) {
    throw badChart(e instanceof Error ? e.message : String(e));
  }
  try {
    doc = await parseYaml(text, { maxAliasCount: 50, uniqueKeys: true });
  } catch (e) {
    throw badChart(`Chart.yaml is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw badChart('Chart.yaml is not a mapping');
  const src = doc as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of STRING_FIELDS) {
    const v = src[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw badChart(`Chart.yaml: ${f} must be a string`);
    out[f] = String(v);
  }
  for (const f of LIST_FIELDS) {
    const v = src[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw badChart(`Chart.yaml: ${f} must be a list`);
    out[f] = v;
  }
  if (src['deprecated'] !== undefined) {
    if (typeof src['deprecated'] !== 'boolean') throw badChart('Chart.yaml: deprecated must be true or false');
    out['deprecated'] = src['deprecated'];
  }
  if (src['annotations'] !== undefined && src['annotations'] !== null) {
    const a = src['annotations'];
    if (typeof a !== 'object' || Array.isArray(a) || Object.values(a).some((x) => typeof x !== 'string')) throw badChart('Chart.yaml: annotations must map strings to strings');
    out['annotations'] = a;
  }
  const name = out['name'];
  const version = out['version'];
  if (typeof name !== 'string' || !NAME.test(name)) throw badChart('Chart.yaml: name is missing or invalid (letters, digits, ".", "_", "-"; no path separators)');
  if (typeof version !== 'string' || !isSemver(version)) throw badChart(`Chart.yaml: version "${String(version ?? '')}" is not a SemVer 2 version`);
  const api = out['apiVersion'];
  if (api !== 'v1' && api !== 'v2') throw badChart('Chart.yaml: apiVersion must be v1 or v2');
  return out as ChartMetadata;
}

/**
 * Reads a chart archive as it arrives (the kit's TgzInspector: one top folder, safe paths, bounded)
 * and returns its Chart.yaml's metadata; Chart.yaml must sit directly in the top folder.
 */
export class ChartInspector {
  private readonly tgz: TgzInspector;

  constructor(limits: InspectLimits) {
    this.tgz = new TgzInspector(limits, { file: 'Chart.yaml', maxBytes: MAX_CHART_YAML, what: 'chart' }, badChart);
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.tgz.write(chunk);
  }

  async finish(): Promise<ChartMetadata> {
    return chartMetadata((await this.tgz.finish()).text);
  }

  abort(): void {
    this.tgz.abort();
  }
}
