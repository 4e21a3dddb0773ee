// Timed blob uploads (one monolithic PUT, or a session of fixed-size PATCHes) and downloads,
// measured end to end from the first request to the final response, in MB/s (10^6 bytes/s).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expectStatus, httpRequest, resolveLocation } from './http-client.ts';
import type { GeneratedBlob } from './generated-blob.ts';

const TRANSFER_TIMEOUT_MS = 300_000;
const execFileAsync = promisify(execFile);

export interface TransferResult {
  megabytesPerSecond: number;
  seconds: number;
}

function rate(bytes: number, startedAt: bigint): TransferResult {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { megabytesPerSecond: bytes / 1e6 / seconds, seconds };
}

async function openUploadSession(baseUrl: string, repo: string): Promise<URL> {
  const started = await httpRequest(`${baseUrl}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: { 'Content-Length': '0' },
  });
  expectStatus(started, 202, `open upload session in ${repo}`);
  return resolveLocation(baseUrl, started);
}

function withDigest(location: URL, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** POST a session, then one PUT carrying the whole blob and its digest. */
export async function uploadMonolithic(baseUrl: string, repo: string, blob: GeneratedBlob): Promise<TransferResult> {
  const startedAt = process.hrtime.bigint();
  const location = await openUploadSession(baseUrl, repo);
  const finished = await httpRequest(withDigest(location, blob.digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
    body: blob.pieces(),
    timeoutMs: TRANSFER_TIMEOUT_MS,
  });
  expectStatus(finished, 201, 'monolithic PUT');
  return rate(blob.size, startedAt);
}

/** POST a session, PATCH `chunkBytes` at a time with Content-Range, then PUT the digest. */
export async function uploadChunked(
  baseUrl: string,
  repo: string,
  blob: GeneratedBlob,
  chunkBytes: number,
): Promise<TransferResult> {
  const startedAt = process.hrtime.bigint();
  let location = await openUploadSession(baseUrl, repo);
  let offset = 0;
  for (const chunk of blob.pieces(chunkBytes)) {
    const patched = await httpRequest(location.toString(), {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(chunk.length),
        'Content-Range': `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk,
      timeoutMs: TRANSFER_TIMEOUT_MS,
    });
    expectStatus(patched, 202, `PATCH at offset ${offset}`);
    location = resolveLocation(baseUrl, patched);
    offset += chunk.length;
  }
  const finished = await httpRequest(withDigest(location, blob.digest), {
    method: 'PUT',
    headers: { 'Content-Length': '0' },
  });
  expectStatus(finished, 201, 'chunked upload final PUT');
  return rate(blob.size, startedAt);
}

/**
 * GET the blob with curl, which reads into one fixed buffer and discards it. A Node client copies
 * every 64 KiB socket read into a fresh Buffer and collects them as garbage, which caps it near
 * 1.3 GB/s on this machine: below what a registry serving from the page cache delivers (about
 * 3 GB/s), so it would hide the difference between the registries. curl's own transfer time is
 * used, without its process start. The status and the byte count must match.
 */
export async function downloadBlob(baseUrl: string, repo: string, blob: GeneratedBlob): Promise<TransferResult> {
  const { stdout } = await execFileAsync(
    'curl',
    ['--silent', '--show-error', '--output', '/dev/null', '--max-time', String(TRANSFER_TIMEOUT_MS / 1000), '--write-out', '%{http_code} %{size_download} %{time_total}', `${baseUrl}/v2/${repo}/blobs/${blob.digest}`],
  );
  return parseCurlTransfer(stdout, blob.size);
}

/** Reads curl's `%{http_code} %{size_download} %{time_total}`; a failed or short download throws. */
export function parseCurlTransfer(report: string, expectedBytes: number): TransferResult {
  const [status, bytes, seconds] = report.trim().split(' ').map(Number);
  if (status !== 200) throw new Error(`blob GET returned HTTP ${status}`);
  if (bytes !== expectedBytes) throw new Error(`blob GET returned ${bytes} of ${expectedBytes} bytes`);
  if (!(seconds! > 0)) throw new Error(`curl reported no transfer time in "${report}"`);
  return { megabytesPerSecond: bytes / 1e6 / seconds!, seconds: seconds! };
}
