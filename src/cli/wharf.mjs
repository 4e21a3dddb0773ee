// The `wharf` entry point. Plain JavaScript on purpose: it turns on Node's compile cache, which
// also keeps the output of TypeScript type stripping, before the first .ts module loads. A warm
// cache spares every later start the stripping compiler (about 30 MB of memory) and its time.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('./main.ts');
