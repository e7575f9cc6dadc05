import { repoBase } from '../../http/forwarded.ts';
import type { ErrorShape } from '../errors.ts';
import type { RequestContext } from '../format.ts';
import type { PypiLocal } from './local.ts';
import type { PypiReader } from './reader.ts';

export interface PypiView {
  name: string;
  reader: PypiReader;
  /** Where uploads go: the local repo itself, or a virtual repo's deployTo. */
  writer: PypiLocal | undefined;
}

/** Errors as PyPI answers them to pip and twine: the reason as plain text (twine matches "already exist"). */
export const textShape: ErrorShape = (err) => ({ type: 'text/plain; charset=utf-8', body: `${err.message}\n` });

/** The JSON API's errors, as PyPI's: `{"message": …}`. */
export const jsonShape: ErrorShape = (err) => ({ type: 'application/json', body: JSON.stringify({ message: err.message }) });

/** This repo as the client reached it (`http.publicUrl` first), for the JSON API's absolute URLs. */
export const baseOf = (req: Request, ctx: RequestContext, repo: string): string => repoBase(req, ctx.core.config.http, repo);
