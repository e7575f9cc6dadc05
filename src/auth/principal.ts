import type { AccessTokenDoc } from './access-tokens.ts';
import type { AccessEntry } from './token.ts';

export type Action = 'pull' | 'push' | 'delete';
type Permission = 'read' | 'write' | 'delete';
/** The config's permission each action needs (and an access token's action that covers it). */
export const PERMISSION: Record<Action, Permission> = { pull: 'read', push: 'write', delete: 'delete' };

/** What a request asks for beyond the repo: a Docker image (what registry tokens name), or a listing of the repo. */
export type Resource = { kind: 'image'; name: string } | { kind: 'listing' };

/**
 * Who is asking, and with which credential: nothing, a password (Basic), a registry token (Bearer
 * JWT from /token: good only for the Docker scopes it names), an access token (Bearer, or the
 * password of Basic: good only within its scope), or a UI session (a password login).
 */
export interface Principal {
  user: string | null;
  via: 'none' | 'basic' | 'bearer' | 'token' | 'session';
  /** Registry tokens: the scopes they name. */
  grants?: AccessEntry[];
  /** Access tokens, and registry tokens minted with one: the access token's scope. */
  token?: Pick<AccessTokenDoc, 'id' | 'name' | 'repos' | 'actions'>;
}

/** Why a request may not go on; a format renders it (401 with the challenge, or 403). */
export interface Denial {
  /** 404: a known user who may not read the repo is told what an unknown repo's name gets (issue 24, 25). */
  status: 401 | 403 | 404;
  message: string;
  /** `insufficient_scope` etc. for the challenge's error parameter. */
  error?: string;
}

/** A scope of a token request, with its name already resolved to one of our repos. */
export interface ResolvedScope {
  repo: string;
  image: string;
  actions: string[];
}
