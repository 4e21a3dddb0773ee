// Large benchmark blobs generated on the fly in 1 MiB pieces, so a 256 MiB upload never holds more
// than a few MiB in memory. Every piece differs (a random base with the piece number and a blob
// id stamped in), so no two blobs or pieces share content and nothing can be deduplicated.
import { createHash, randomBytes } from 'node:crypto';

export const MIB = 1024 * 1024;

export interface GeneratedBlob {
  /** Total length in bytes (a whole number of MiB). */
  size: number;
  digest: string;
  /** Yields the blob from the start, `pieceBytes` at a time (a divisor of 1 MiB or a multiple of it). */
  pieces(pieceBytes?: number): Generator<Buffer>;
}

const randomBase = randomBytes(MIB);

function mibPiece(blobId: number, index: number): Buffer {
  const piece = Buffer.from(randomBase);
  piece.writeUInt32BE(blobId, 0);
  piece.writeUInt32BE(index, 4);
  return piece;
}

function* slices(blobId: number, mibCount: number, pieceBytes: number): Generator<Buffer> {
  if (pieceBytes <= MIB) {
    if (MIB % pieceBytes !== 0) throw new Error('piece size must divide 1 MiB');
    for (let index = 0; index < mibCount; index++) {
      const whole = mibPiece(blobId, index);
      for (let offset = 0; offset < MIB; offset += pieceBytes) yield whole.subarray(offset, offset + pieceBytes);
    }
    return;
  }
  if (pieceBytes % MIB !== 0) throw new Error('piece size must be a multiple of 1 MiB');
  const perPiece = pieceBytes / MIB;
  for (let first = 0; first < mibCount; first += perPiece) {
    const parts: Buffer[] = [];
    for (let index = first; index < Math.min(first + perPiece, mibCount); index++) parts.push(mibPiece(blobId, index));
    yield Buffer.concat(parts);
  }
}

let nextBlobId = 1;

/** Describes a new blob of `mibCount` MiB; hashing it here is untimed setup work. */
export function generateBlob(mibCount: number): GeneratedBlob {
  const blobId = nextBlobId++;
  const hash = createHash('sha256');
  for (const piece of slices(blobId, mibCount, MIB)) hash.update(piece);
  return {
    size: mibCount * MIB,
    digest: `sha256:${hash.digest('hex')}`,
    pieces: (pieceBytes = MIB) => slices(blobId, mibCount, pieceBytes),
  };
}
