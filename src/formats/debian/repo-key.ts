import type { MetaStore } from '../../storage/meta-store.ts';
import { armor, generateKey, SigningKey } from './openpgp.ts';
import type { StoredKey } from './openpgp.ts';
import { debLayout } from './layout.ts';

/**
 * A local or virtual repo's signing key: made on first use and kept in the store (one
 * compare-and-swap, so replicas that start together agree on one key), served as the public key
 * clients name in `signed-by`. The private key is in the store as PKCS#8: whoever can read the
 * store can sign for the repo (docs/configuration.md says so).
 */
export class RepoKey {
  private loaded: Promise<{ key: SigningKey; created: number }> | undefined;

  constructor(
    private readonly repo: string,
    private readonly meta: MetaStore,
    private readonly now: () => number,
  ) {}

  signer(): Promise<{ key: SigningKey; created: number }> {
    this.loaded ??= this.load().catch((e: unknown) => {
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async load(): Promise<{ key: SigningKey; created: number }> {
    const k = debLayout.key(this.repo);
    let stored = await this.meta.get<StoredKey>(k);
    if (!stored) {
      const made = await generateKey(`binaryrepo ${this.repo} <${this.repo}@binaryrepo.invalid>`, Math.floor(this.now() / 1000) - 60);
      stored = (await this.meta.update<StoredKey>(k, (cur) => (cur ? undefined : made))) ?? (await this.meta.get<StoredKey>(k));
      if (!stored) throw new Error(`the signing key of ${this.repo} could not be stored`);
    }
    return { key: await SigningKey.load(stored), created: stored.created };
  }

  async publicBinary(): Promise<Uint8Array> {
    return (await this.signer()).key.publicKey();
  }

  async publicArmored(): Promise<string> {
    return armor('PUBLIC KEY BLOCK', await this.publicBinary());
  }
}
