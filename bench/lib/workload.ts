// The benchmark workload, run identically against each registry: manifest GETs by tag under wrk,
// blob uploads (monolithic and chunked), a blob download, and a burst of small image pushes.
import { pushSmallImage } from '../../test/e2e/registry-http.ts';
import type { RunningRegistry } from '../../test/e2e/child-lifecycle.ts';
import { downloadBlob, uploadChunked, uploadMonolithic } from './blob-transfer.ts';
import { generateBlob, MIB } from './generated-blob.ts';
import { peakRssMiB } from './process-memory.ts';
import { pushBurst } from './push-burst.ts';
import { runWrk } from './wrk.ts';

export interface WorkloadSettings {
  wrkSeconds: number;
  wrkConnections: number;
  blobMiB: number;
  chunkMiB: number;
  burstImages: number;
  burstClients: number;
}

/** One registry's figures for one round. */
export interface WorkloadResult {
  manifestRequestsPerSecond: number;
  manifestP99Milliseconds: number;
  uploadMonolithicMBps: number;
  uploadChunkedMBps: number;
  downloadMBps: number;
  burstImagesPerSecond: number;
  peakRssMiB: number;
}

// Clients send both families, as docker and containerd do, so content negotiation is exercised.
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

export async function runWorkload(registry: RunningRegistry, settings: WorkloadSettings): Promise<WorkloadResult> {
  await pushSmallImage(registry.url, 'bench/manifest', 'latest', 'manifest-get');
  const wrk = await runWrk(`${registry.url}/v2/bench/manifest/manifests/latest`, {
    connections: settings.wrkConnections,
    threads: 2,
    seconds: settings.wrkSeconds,
    headers: { Accept: MANIFEST_ACCEPT },
  });
  log(`manifest GET: ${wrk.requestsPerSecond.toFixed(0)} req/s, p99 ${wrk.p99Milliseconds.toFixed(2)} ms`);

  // Blobs are generated (and hashed) before the clock starts; only the transfer is timed.
  const monolithicBlob = generateBlob(settings.blobMiB);
  const monolithic = await uploadMonolithic(registry.url, 'bench/blobs', monolithicBlob);
  log(`upload monolithic: ${monolithic.megabytesPerSecond.toFixed(0)} MB/s`);
  const chunkedBlob = generateBlob(settings.blobMiB);
  const chunked = await uploadChunked(registry.url, 'bench/blobs', chunkedBlob, settings.chunkMiB * MIB);
  log(`upload chunked: ${chunked.megabytesPerSecond.toFixed(0)} MB/s`);
  const download = await downloadBlob(registry.url, 'bench/blobs', monolithicBlob);
  log(`download: ${download.megabytesPerSecond.toFixed(0)} MB/s`);

  const burst = await pushBurst(registry.url, 'bench/burst', settings.burstImages, settings.burstClients);
  log(`push burst: ${burst.imagesPerSecond.toFixed(1)} images/s`);

  const peak = await peakRssMiB(registry.pid);
  log(`peak RSS: ${peak.toFixed(0)} MiB`);
  return {
    manifestRequestsPerSecond: wrk.requestsPerSecond,
    manifestP99Milliseconds: wrk.p99Milliseconds,
    uploadMonolithicMBps: monolithic.megabytesPerSecond,
    uploadChunkedMBps: chunked.megabytesPerSecond,
    downloadMBps: download.megabytesPerSecond,
    burstImagesPerSecond: burst.imagesPerSecond,
    peakRssMiB: peak,
  };
}
