// Peak resident memory of a process, from the kernel's high-water mark (VmHWM), which catches
// spikes that sampling VmRSS would miss.
import { readFile } from 'node:fs/promises';

/** VmHWM of `pid` in MiB; must be read before the process exits. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}
