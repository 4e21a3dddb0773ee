// Large benchmark blobs, generated and hashed before any clock starts. Each blob is built whole in
// memory, so sending it during a timed transfer costs the client no copies: on a machine with two
// cores, a client that spends CPU copying bytes takes it from the registry under test. Every MiB
// differs (a random base with the MiB number and a blob id stamped in), so no two blobs or pieces
// share content and nothing can be deduplicated.
import { createHash, randomBytes } from 'node:crypto';

export const MIB = 1024 * 1024;

export interface GeneratedBlob {
  /** Total length in bytes (a whole number of MiB). */
  size: number;
  digest: string;
  /** Views of the blob from the start, `pieceBytes` at a time (the last may be shorter); nothing is copied. */
  pieces(pieceBytes?: number): Generator<Buffer>;
}

const randomBase = randomBytes(MIB);

let nextBlobId = 1;

/** A new blob of `mibCount` MiB, built and hashed here (untimed setup work). */
export function generateBlob(mibCount: number): GeneratedBlob {
  const blobId = nextBlobId++;
  const bytes = Buffer.allocUnsafeSlow(mibCount * MIB);
  for (let index = 0; index < mibCount; index++) {
    const offset = index * MIB;
    randomBase.copy(bytes, offset);
    bytes.writeUInt32BE(blobId, offset);
    bytes.writeUInt32BE(index, offset + 4);
  }
  return {
    size: bytes.byteLength,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    *pieces(pieceBytes = MIB) {
      if (!Number.isSafeInteger(pieceBytes) || pieceBytes <= 0) throw new Error(`invalid piece size ${pieceBytes}`);
      for (let offset = 0; offset < bytes.byteLength; offset += pieceBytes) yield bytes.subarray(offset, offset + pieceBytes);
    },
  };
}
