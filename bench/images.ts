import { makeImage, pushImage } from '../test/helpers/images.ts';

/** The synthetic image set: incompressible random layers, pushed into the upstream registry. */
export interface BenchImage {
  name: string;
  tag: string;
  bytes: number;
}

export async function seedImages(upstream: string, quick: boolean): Promise<BenchImage[]> {
  const specs: Array<{ name: string; sizes: number[] }> = quick
    ? [
        { name: 'bench/small', sizes: [2_000_000] },
        { name: 'bench/medium', sizes: Array(5).fill(6_000_000) as number[] },
        { name: 'bench/many', sizes: Array(20).fill(100_000) as number[] },
      ]
    : [
        { name: 'bench/small', sizes: [2_000_000] },
        { name: 'bench/medium', sizes: Array(5).fill(20_000_000) as number[] },
        { name: 'bench/many', sizes: Array(50).fill(100_000) as number[] },
      ];
  const out: BenchImage[] = [];
  for (const s of specs) {
    const img = await makeImage({ layerSizes: s.sizes });
    await pushImage(upstream, s.name, '1', img);
    out.push({ name: s.name, tag: '1', bytes: [img.config, ...img.layers].reduce((a, b) => a + b.bytes.byteLength, 0) });
  }
  return out;
}
