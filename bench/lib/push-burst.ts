// A burst of small image pushes from concurrent clients, each push being a config blob, one layer
// blob and a manifest over HTTP, as a CI fleet publishing many small images at once would do.
import { pushSmallImage } from '../../test/e2e/registry-http.ts';

export interface BurstResult {
  imagesPerSecond: number;
  seconds: number;
}

/** Pushes `images` images with `clients` concurrent workers, all into one repository. */
export async function pushBurst(baseUrl: string, repo: string, images: number, clients: number): Promise<BurstResult> {
  const runId = `${process.pid}-${Date.now()}`;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < images) {
      const index = next++;
      await pushSmallImage(baseUrl, repo, `burst-${index}`, `${runId}-${index}`);
    }
  };
  const startedAt = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, worker));
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { imagesPerSecond: images / seconds, seconds };
}
