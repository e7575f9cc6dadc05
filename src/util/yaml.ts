import type { DocumentOptions, ParseOptions, SchemaOptions, ToJSOptions } from 'yaml';

type Options = ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions;
let loading: Promise<typeof import('yaml')> | undefined;

/**
 * YAML's parse, with the library loaded on first use: on Node it is ~30 ms of CommonJS module
 * loading at every start (the server's and every CLI command's), and most starts never read YAML
 * (a JSON or the embedded config, no Helm repo in use).
 */
export async function parseYaml(text: string, options?: Options): Promise<unknown> {
  loading ??= import('yaml');
  return (await loading).parse(text, options);
}
