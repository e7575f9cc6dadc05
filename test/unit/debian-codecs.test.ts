import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { clearSigned, parseRelease, parseStanzas, renderStanza } from '../../src/formats/debian/control.ts';
import { compareVersions } from '../../src/formats/debian/version.ts';
import { XzError, unxz } from '../../src/formats/debian/xz.ts';
import { ZstdError, unzstd } from '../../src/formats/debian/zstd.ts';

const xz = (data: Uint8Array, args: string[]): Uint8Array => new Uint8Array(execFileSync('xz', [...args, '-c'], { input: data, maxBuffer: 1 << 28 }));
const zstd = (data: Uint8Array, args: string[]): Uint8Array => new Uint8Array(execFileSync('zstd', [...args, '-c', '-q'], { input: data, maxBuffer: 1 << 28 }));

// Issue 29: the pieces of the Debian format that are our own code, against Debian's own tools.
describe('Debian codecs: xz, dpkg versions, control syntax', () => {
  it('unxz decodes what xz(1) writes: presets, checks, text and random data, multi-chunk sizes', () => {
    const text = new TextEncoder().encode('Package: a\nVersion: 1\n'.repeat(50_000));
    const inputs = [new Uint8Array(0), new Uint8Array([7]), new Uint8Array(randomBytes(300_000)), text, new Uint8Array(3 << 20).fill(65)];
    for (const data of inputs) {
      for (const args of [['-0'], ['-6'], ['-9e'], ['-6', '-C', 'crc32'], ['-6', '-C', 'sha256'], ['-6', '-C', 'none']]) {
        assert.deepEqual(unxz(xz(data, args), 16 << 20), data, `${data.byteLength} bytes, xz ${args.join(' ')}`);
      }
    }
  });

  it('unxz refuses damaged data, other filters and bombs with an XzError', () => {
    const good = xz(new TextEncoder().encode('hello world '.repeat(1000)), ['-6']);
    // Every single flipped byte past the stream header is caught (by the decoder, a checksum, or the index and footer).
    for (let i = 12; i < good.byteLength; i++) {
      const flipped = good.slice();
      flipped[i] = (flipped[i] ?? 0) ^ 0xff;
      assert.throws(() => unxz(flipped, 1 << 20), XzError, `byte ${i} of ${good.byteLength}`);
    }
    assert.throws(() => unxz(good.subarray(0, good.byteLength - 20), 1 << 20), XzError);
    assert.throws(() => unxz(new TextEncoder().encode('not xz at all, not at all'.repeat(2)), 1 << 20), XzError);
    assert.throws(() => unxz(xz(new Uint8Array(1000), ['--x86', '--lzma2']), 1 << 20), /only the LZMA2 filter/);
    assert.throws(() => unxz(xz(new Uint8Array(1 << 20), ['-6']), 1000), /more than 1000 bytes/);
  });

  it('unzstd decodes what zstd(1) writes: levels from --fast to --ultra -22, long mode, with and without checksums, text and random data', () => {
    const text = new TextEncoder().encode('Package: a\nVersion: 1\nDepends: libc6 (>= 2.34)\n'.repeat(40_000));
    const inputs = [new Uint8Array(0), new Uint8Array([7]), new Uint8Array(randomBytes(300_000)), text, new Uint8Array(3 << 20).fill(65)];
    for (const data of inputs) {
      for (const args of [['--fast=3'], ['-1'], ['-3'], ['-19'], ['--ultra', '-22'], ['--long=24', '-5'], ['-3', '--no-check']]) {
        assert.deepEqual(unzstd(zstd(data, args), 16 << 20), data, `${data.byteLength} bytes, zstd ${args.join(' ')}`);
      }
    }
  });

  it('unzstd refuses damaged data (every flipped byte past the frame header), dictionaries and bombs with a ZstdError', () => {
    const good = zstd(new TextEncoder().encode('hello world, hello zstd '.repeat(2000)), ['-19']);
    for (let i = 6; i < good.byteLength; i++) {
      const flipped = good.slice();
      flipped[i] = (flipped[i] ?? 0) ^ 0xff;
      assert.throws(() => unzstd(flipped, 1 << 20), ZstdError, `byte ${i} of ${good.byteLength}`);
    }
    assert.throws(() => unzstd(good.subarray(0, good.byteLength - 10), 1 << 20), ZstdError);
    assert.throws(() => unzstd(new TextEncoder().encode('not zstd at all'), 1 << 20), /not a zstd file/);
    assert.throws(() => unzstd(zstd(new Uint8Array(1 << 20), ['-3']), 1000), /more than 1000 bytes/);
  });

  it('compareVersions orders as dpkg --compare-versions does', () => {
    const vs = ['1.0', '1.0-1', '1.0~rc1', '1:0.9', '1.0+b1', '1.0a', '1.00', '2', '1.0-1~bpo1', '1.10', '1.9', '0.0', '1.0.0', '1.0-10', '1.0-9', '1.0~~', '1.0~', '2:1', '1.0-0'];
    for (const a of vs) {
      for (const b of vs) {
        let lt = true;
        try {
          execFileSync('dpkg', ['--compare-versions', a, 'lt', b]);
        } catch {
          lt = false;
        }
        assert.equal(compareVersions(a, b) < 0, lt, `${a} < ${b}`);
      }
    }
  });

  it('renderStanza writes what parseStanzas reads back, and refuses what would start a stanza or a field', () => {
    const s = parseStanzas('Package: x\nDescription: one\n two\n .\n three\n')[0] ?? [];
    assert.equal(renderStanza(s), 'Package: x\nDescription: one\n two\n .\n three');
    assert.throws(() => renderStanza([['Description', 'a\n\nPackage: evil']]), /does not start with a space/);
    assert.throws(() => renderStanza([['Description', 'a\nPackage: evil']]), /does not start with a space/);
    assert.equal(renderStanza([['Description', 'a\n \n b']]), 'Description: a\n .\n b');
    assert.throws(() => renderStanza([['Bad Name', 'x']]), /not a control field name/);
    assert.throws(() => renderStanza([['X', 'a\rb']]), /carriage return/);
  });

  it('a clear-signed InRelease gives its Release text back, dash-escaping undone, with the SHA256 and SHA512 sections', () => {
    const sha = 'a'.repeat(64);
    const long = 'b'.repeat(128);
    const signed = `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSuite: stable\nAcquire-By-Hash: yes\nValid-Until: Sat, 01 Jan 2000 00:00:00 UTC\nSHA256:\n ${sha} 12 main/binary-amd64/Packages\nSHA512:\n ${long} 12 main/binary-amd64/Packages\n- -x: y\n-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n`;
    const text = clearSigned(signed);
    assert.match(text ?? '', /\n-x: y$/);
    const info = parseRelease(text ?? '');
    assert.deepEqual(info.files.get('main/binary-amd64/Packages'), { size: 12, sha256: sha });
    assert.equal(info.sha512.get(long), 'main/binary-amd64/Packages');
    assert.equal(info.byHash, true);
    assert.equal(info.validUntil, Date.UTC(2000, 0, 1));
    assert.equal(clearSigned('Suite: stable\n'), null);
  });
});
