import * as v from 'valibot';
import { parseYaml } from '../util/yaml.ts';
import { ConfigSchema, crossCheck } from './schema.ts';
import type { Config } from './schema.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Used when no config file is given: Docker Hub through a remote repo, a local repo for your own
 * images, and a virtual repo over both as the root default, so `docker pull host/library/alpine`
 * and `docker push host/team/app` work on one name. No auth: meant for a laptop or a trusted network.
 */
export const DEFAULT_CONFIG = {
  listen: '0.0.0.0:8081',
  storage: { type: 'fs', path: './data' },
  defaultRepo: 'docker',
  gc: { intervalMinutes: 60 },
  repos: [
    {
      name: 'docker-remote',
      format: 'docker',
      type: 'remote',
      upstream: { url: 'https://registry-1.docker.io' },
      cache: { tagTtlSeconds: 300 },
    },
    { name: 'docker-local', format: 'docker', type: 'local' },
    { name: 'docker', format: 'docker', type: 'virtual', members: ['docker-local', 'docker-remote'], deployTo: 'docker-local' },
  ],
};

type PathPart = string | number;

function formatPath(path: PathPart[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s || '(root)';
}

/**
 * `${NAME}` in any string is replaced by the environment variable NAME, so secrets stay out of the
 * file. A missing variable is an error; `$${` writes a literal `${`.
 */
function expandEnv(node: unknown, env: Record<string, string | undefined>, path: PathPart[], problems: string[]): unknown {
  if (typeof node === 'string') {
    return node.replace(/\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      const val = env[name];
      if (val === undefined) {
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      return val;
    });
  }
  if (Array.isArray(node)) return node.map((x, i) => expandEnv(x, env, [...path, i], problems));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(node)) out[k] = expandEnv(x, env, [...path, k], problems);
    return out;
  }
  return node;
}

export function validateConfig(raw: unknown, env: Record<string, string | undefined> = {}): Config {
  const problems: string[] = [];
  const expanded = expandEnv(raw, env, [], problems);
  if (problems.length) throw new ConfigError(problems);
  const r = v.safeParse(ConfigSchema, expanded);
  if (r.success) {
    const problems = crossCheck(r.output);
    if (problems.length > 0) throw new ConfigError(problems);
    return r.output;
  }
  throw new ConfigError(r.issues.map((i) => `${formatPath((i.path ?? []).map((p) => p.key as PathPart))}: ${plainWords(i)}`));
}

/** valibot's wording in plain words; never the received value (it may be a password). */
function plainWords(i: v.BaseIssue<unknown>): string {
  if (i.kind === 'schema' && i.type === 'strict_object' && /^Invalid key/.test(i.message)) return 'unknown key (misspelt, or not a setting here)';
  return i.message.replace(/ but received .*$/, '').replace(/^Invalid type: Expected (\(.*\))$/, 'must be one of $1').replace(/^Invalid type: Expected /, 'must be ');
}

/** Parses a config document; YAML is a superset of JSON, but JSON files get JSON's error messages. */
export async function parseConfigText(text: string, fileName: string, env: Record<string, string | undefined> = {}): Promise<Config> {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(fileName) ? JSON.parse(text) : await parseYaml(text);
  } catch (e) {
    throw new ConfigError([`${fileName}: cannot parse: ${e instanceof Error ? e.message : String(e)}`]);
  }
  return validateConfig(raw, env);
}
