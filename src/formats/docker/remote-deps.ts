import type { UpstreamClient } from '../../upstream/client.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import type { ImageFilter } from './image-filter.ts';

/** What a Docker remote repo is built from (boot creates each piece once). */
export interface DockerRemoteDeps extends RemoteCacheDeps {
  upstream: UpstreamClient;
  manifestMaxBytes: number;
  /** No blob fill writes more than this (a chunked or lying upstream). */
  blobMaxBytes: number;
  /** Docker Hub's implicit `library/` for one-segment names. */
  libraryPrefix: boolean;
  /** The images this repo may serve (include/exclude patterns). */
  filter: ImageFilter;
}
