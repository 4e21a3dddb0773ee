/**
 * Reading the entries of a ZIP archive (OSV publishes its databases as all.zip) through yauzl,
 * a maintained pure-JS reader (central directory, ZIP64, data descriptors, file-name checks; node:zlib
 * inflates). Wharf's bounds around it: an entry whose declared size is over `maxEntryBytes` is
 * refused without inflating it, and an entry that inflates to more than it declared (a zip bomb
 * lying about its size) is cut off by yauzl's size validation and by the byte count here.
 * Entries are read one at a time, so memory holds the archive and one entry, never all of them.
 */
import type * as Yauzl from 'yauzl';
import { lazyModule } from '../shared/lazy-module.ts';

const yauzl = lazyModule<typeof Yauzl>('yauzl');

export type ZipEntryRead = { readonly name: string; readonly data: Buffer } | { readonly name: string; readonly problem: string };

const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

function open(zip: Buffer): Promise<Yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl().fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false }, (error, zipfile) => {
      if (error) reject(new Error(`not a readable ZIP archive: ${error.message}`)); else resolve(zipfile);
    });
  });
}

/** The next entry of the central directory, or undefined at its end. */
function nextEntry(zipfile: Yauzl.ZipFile): Promise<Yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const settle = () => { zipfile.off('entry', onEntry); zipfile.off('end', onEnd); zipfile.off('error', onError); };
    const onEntry = (entry: Yauzl.Entry) => { settle(); resolve(entry); };
    const onEnd = () => { settle(); resolve(undefined); };
    const onError = (error: Error) => { settle(); reject(new Error(`ZIP central directory is damaged: ${error.message}`)); };
    zipfile.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zipfile.readEntry();
  });
}

function readEntry(zipfile: Yauzl.ZipFile, entry: Yauzl.Entry, maxEntryBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zipfile.openReadStream(entry, (error, stream) => {
      if (error) { reject(error); return; }
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxEntryBytes) { stream.destroy(new Error(`inflates to more than the limit of ${maxEntryBytes} bytes`)); return; }
        chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks, total)));
    });
  });
}

/**
 * The entries whose names `wanted` accepts, in archive order, each with its bytes or the reason it
 * could not be read. A damaged archive or central directory rejects.
 */
export async function* readZipEntries(zip: Buffer, wanted: (name: string) => boolean, maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES): AsyncGenerator<ZipEntryRead> {
  const zipfile = await open(zip);
  try {
    for (let entry = await nextEntry(zipfile); entry; entry = await nextEntry(zipfile)) {
      const name = entry.fileName;
      if (name.endsWith('/') || !wanted(name)) continue;
      if (entry.uncompressedSize > maxEntryBytes) {
        yield { name, problem: `ZIP entry ${name} is ${entry.uncompressedSize} bytes, over the limit of ${maxEntryBytes}` };
        continue;
      }
      try {
        yield { name, data: await readEntry(zipfile, entry, maxEntryBytes) };
      } catch (error) {
        yield { name, problem: `ZIP entry ${name}: ${(error as Error).message}` };
      }
    }
  } finally {
    zipfile.close();
  }
}
