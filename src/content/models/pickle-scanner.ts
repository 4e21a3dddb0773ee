/**
 * Lists what a pickle stream would import and call when loaded, without loading it: the opcodes
 * of protocols 0–5 are walked with a light model of the stack and memo, so that STACK_GLOBAL's
 * module and name (pushed as strings, maybe fetched from the memo) are known. Any global outside
 * the allowlist of plain tensor reconstruction is dangerous: loading the file would call it.
 * Like picklescan and modelscan, this is an allowlist check on imports, not an emulation.
 */

export interface PickleLimits {
  readonly maxStackDepth: number;
  readonly maxMemo: number;
  readonly maxOpcodes: number;
  /** Pickles concatenated in one file (PyTorch's legacy format writes several). */
  readonly maxPickles: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxStackDepth: 100_000, maxMemo: 1_000_000, maxOpcodes: 50_000_000, maxPickles: 8 };

export interface PickleImport {
  readonly module: string;
  readonly name: string;
  readonly safe: boolean;
}

export interface PickleScan {
  /** Distinct globals the stream refers to, in order of first appearance. */
  readonly imports: readonly PickleImport[];
  /** `module.name` of every import outside the allowlist, plus references that cannot be resolved. */
  readonly dangerous: readonly string[];
  readonly pickles: number;
  /** False when the bytes ended before the last STOP (a prefix was scanned). */
  readonly complete: boolean;
  /** Why the scan stopped early, when it did: malformed or hostile input. */
  readonly problem?: string;
}

/** Globals plain weight files need: tensor and storage reconstruction, dtypes, containers. */
const SAFE_GLOBALS: Readonly<Record<string, ReadonlySet<string> | '*'>> = {
  'collections': new Set(['OrderedDict']),
  'torch._utils': new Set(['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter', '_rebuild_parameter_with_state',
    '_rebuild_qtensor', '_rebuild_sparse_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_nested_tensor', '_rebuild_device_tensor_from_numpy']),
  'torch._tensor': new Set(['_rebuild_from_type_v2']),
  'torch.nn.parameter': new Set(['Parameter']),
  'torch': new Set(['Size', 'device', 'FloatStorage', 'DoubleStorage', 'HalfStorage', 'BFloat16Storage', 'LongStorage', 'IntStorage', 'ShortStorage',
    'CharStorage', 'ByteStorage', 'BoolStorage', 'ComplexFloatStorage', 'ComplexDoubleStorage', 'QInt8Storage', 'QUInt8Storage', 'QInt32Storage',
    'UntypedStorage', 'float16', 'float32', 'float64', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool', 'complex64', 'complex128',
    'float8_e4m3fn', 'float8_e5m2', 'per_tensor_affine', 'per_channel_affine', 'strided', 'sparse_coo']),
  'torch.storage': new Set(['UntypedStorage', 'TypedStorage']),
  'numpy': new Set(['ndarray', 'dtype']),
  'numpy.core.multiarray': new Set(['_reconstruct', 'scalar']),
  'numpy._core.multiarray': new Set(['_reconstruct', 'scalar']),
  'numpy.dtypes': '*',
  '_codecs': new Set(['encode']),
  'builtins': new Set(['set', 'frozenset', 'list', 'dict', 'tuple', 'int', 'float', 'complex', 'bytes', 'bytearray', 'str', 'slice', 'range', 'bool']),
  '__builtin__': new Set(['set', 'frozenset', 'list', 'dict', 'tuple', 'int', 'float', 'complex', 'bytes', 'bytearray', 'str', 'slice', 'range', 'bool']),
};

export function isSafeGlobal(module: string, name: string): boolean {
  const names = SAFE_GLOBALS[module];
  return names === '*' || (names !== undefined && names.has(name));
}

/** A stack entry: a string's value (module and name operands), a mark, or anything else. */
type Item = string | typeof MARK | typeof OTHER;
const MARK = Symbol('mark');
const OTHER = Symbol('other');

class Stop extends Error {}

export function scanPickle(bytes: Uint8Array, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): PickleScan {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const imports = new Map<string, PickleImport>();
  const dangerous = new Set<string>();
  let offset = 0, pickles = 0, opcodes = 0;
  const addImport = (module: string, name: string) => {
    const key = `${module}.${name}`;
    if (imports.has(key)) return;
    const safe = isSafeGlobal(module, name);
    imports.set(key, { module, name, safe });
    if (!safe) dangerous.add(key);
  };
  const result = (complete: boolean, problem?: string): PickleScan => ({ imports: [...imports.values()], dangerous: [...dangerous], pickles, complete, ...(problem ? { problem } : {}) });

  while (offset < buffer.length && pickles < limits.maxPickles) {
    const stack: Item[] = [];
    const memo = new Map<number, Item>();
    const need = (count: number) => { if (offset + count > buffer.length) throw new Stop('truncated'); };
    const pop = (): Item => {
      if (stack.length === 0) throw new Stop(`stack underflow at byte ${offset}`);
      return stack.pop()!;
    };
    const push = (item: Item) => {
      if (stack.length >= limits.maxStackDepth) throw new Stop(`stack deeper than ${limits.maxStackDepth} (nesting too deep)`);
      stack.push(item);
    };
    const popMark = (): Item[] => {
      const items: Item[] = [];
      for (;;) {
        const item = pop();
        if (item === MARK) return items.reverse();
        items.push(item);
      }
    };
    const line = (): string => {
      const end = buffer.indexOf(0x0a, offset);
      if (end < 0) throw new Stop('truncated');
      if (end - offset > 65_536) throw new Stop(`text argument longer than 65536 bytes at byte ${offset}`);
      const text = buffer.toString('latin1', offset, end);
      offset = end + 1;
      return text;
    };
    const sized = (width: 1 | 2 | 4 | 8): number => {
      need(width);
      const value = width === 1 ? buffer.readUInt8(offset) : width === 2 ? buffer.readUInt16LE(offset) : width === 4 ? buffer.readUInt32LE(offset) : Number(buffer.readBigUInt64LE(offset));
      offset += width;
      return value;
    };
    const data = (length: number): Buffer => {
      if (!Number.isSafeInteger(length) || offset + length > buffer.length) throw new Stop('truncated');
      const slice = buffer.subarray(offset, offset + length);
      offset += length;
      return slice;
    };
    const memoPut = (index: number) => {
      if (memo.size >= limits.maxMemo && !memo.has(index)) throw new Stop(`memo larger than ${limits.maxMemo} entries`);
      memo.set(index, stack.length ? stack[stack.length - 1]! : OTHER);
    };
    const memoGet = (index: number) => {
      const item = memo.get(index);
      if (item === undefined) throw new Stop(`memo entry ${index} read before it was written`);
      push(item);
    };
    try {
      for (;;) {
        if (++opcodes > limits.maxOpcodes) throw new Stop(`more than ${limits.maxOpcodes} opcodes`);
        need(1);
        const code = buffer[offset++]!;
        switch (code) {
          case 0x80: sized(1); break; // PROTO
          case 0x95: sized(8); break; // FRAME: a length hint, the opcodes follow inline
          case 0x2e: throw new Stop(''); // STOP
          case 0x28: push(MARK); break;
          case 0x30: pop(); break; // POP
          case 0x31: popMark(); break; // POP_MARK
          case 0x32: { const top = pop(); push(top); push(top); break; } // DUP
          case 0x46: case 0x49: case 0x4c: line(); push(OTHER); break; // FLOAT, INT, LONG
          case 0x4a: sized(4); push(OTHER); break; // BININT
          case 0x4b: sized(1); push(OTHER); break; // BININT1
          case 0x4d: sized(2); push(OTHER); break; // BININT2
          case 0x47: data(8); push(OTHER); break; // BINFLOAT
          case 0x8a: data(sized(1)); push(OTHER); break; // LONG1
          case 0x8b: data(sized(4)); push(OTHER); break; // LONG4
          case 0x4e: case 0x88: case 0x89: push(OTHER); break; // NONE, NEWTRUE, NEWFALSE
          case 0x53: push(unquote(line())); break; // STRING (protocol 0, quoted)
          case 0x56: push(line()); break; // UNICODE (raw-unicode-escape; module names are ASCII)
          case 0x54: push(data(sized(4)).toString('latin1')); break; // BINSTRING
          case 0x55: push(data(sized(1)).toString('latin1')); break; // SHORT_BINSTRING
          case 0x58: push(data(sized(4)).toString('utf8')); break; // BINUNICODE
          case 0x8c: push(data(sized(1)).toString('utf8')); break; // SHORT_BINUNICODE
          case 0x8d: push(data(sized(8)).toString('utf8')); break; // BINUNICODE8
          case 0x42: data(sized(4)); push(OTHER); break; // BINBYTES
          case 0x43: data(sized(1)); push(OTHER); break; // SHORT_BINBYTES
          case 0x8e: case 0x96: data(sized(8)); push(OTHER); break; // BINBYTES8, BYTEARRAY8
          case 0x97: push(OTHER); break; // NEXT_BUFFER
          case 0x98: break; // READONLY_BUFFER
          case 0x29: case 0x5d: case 0x7d: case 0x8f: push(OTHER); break; // EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, EMPTY_SET
          case 0x74: case 0x6c: case 0x64: case 0x91: popMark(); push(OTHER); break; // TUPLE, LIST, DICT, FROZENSET
          case 0x65: case 0x75: case 0x90: popMark(); break; // APPENDS, SETITEMS, ADDITEMS
          case 0x85: pop(); push(OTHER); break; // TUPLE1
          case 0x86: pop(); pop(); push(OTHER); break; // TUPLE2
          case 0x87: pop(); pop(); pop(); push(OTHER); break; // TUPLE3
          case 0x61: pop(); break; // APPEND
          case 0x73: pop(); pop(); break; // SETITEM
          case 0x62: pop(); break; // BUILD (may call __setstate__ of the object below: its class is an import already)
          case 0x52: pop(); pop(); push(OTHER); break; // REDUCE: calls the callable below its arguments
          case 0x81: pop(); pop(); push(OTHER); break; // NEWOBJ
          case 0x92: pop(); pop(); pop(); push(OTHER); break; // NEWOBJ_EX
          case 0x63: { const module = line(); const name = line(); addImport(module, name); push(OTHER); break; } // GLOBAL
          case 0x69: { const module = line(); const name = line(); addImport(module, name); popMark(); push(OTHER); break; } // INST
          case 0x6f: popMark(); push(OTHER); break; // OBJ: its class is on the stack, imported by a GLOBAL already
          case 0x93: { // STACK_GLOBAL
            const name = pop(), module = pop();
            if (typeof module === 'string' && typeof name === 'string') addImport(module, name);
            else dangerous.add('<STACK_GLOBAL with operands that are not strings>');
            push(OTHER);
            break;
          }
          case 0x82: sized(1); dangerous.add('<copyreg extension code>'); push(OTHER); break; // EXT1
          case 0x83: sized(2); dangerous.add('<copyreg extension code>'); push(OTHER); break; // EXT2
          case 0x84: sized(4); dangerous.add('<copyreg extension code>'); push(OTHER); break; // EXT4
          case 0x50: line(); push(OTHER); break; // PERSID: resolved by the loader (PyTorch: storages)
          case 0x51: pop(); push(OTHER); break; // BINPERSID
          case 0x70: memoPut(Number.parseInt(line(), 10)); break; // PUT
          case 0x71: memoPut(sized(1)); break; // BINPUT
          case 0x72: memoPut(sized(4)); break; // LONG_BINPUT
          case 0x94: memoPut(memo.size); break; // MEMOIZE
          case 0x67: memoGet(Number.parseInt(line(), 10)); break; // GET
          case 0x68: memoGet(sized(1)); break; // BINGET
          case 0x6a: memoGet(sized(4)); break; // LONG_BINGET
          default: throw new Stop(`unknown opcode 0x${code.toString(16).padStart(2, '0')} at byte ${offset - 1}`);
        }
      }
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      // Bytes ended before STOP: what was read is reported, the scan is incomplete.
      if (error.message === 'truncated') return result(false);
      if (error.message !== '') return result(false, `pickle: ${error.message}`);
    }
    pickles++;
    // Another pickle may follow (PyTorch's legacy format); raw tensor bytes follow the last one.
    if (buffer[offset] !== 0x80) break;
  }
  if (pickles === 0) return result(false, 'pickle: empty stream');
  return result(true);
}

/** A protocol-0 STRING argument: a quoted Python literal; module names never need escapes. */
function unquote(text: string): string {
  const quote = text[0];
  return (quote === "'" || quote === '"') && text.endsWith(quote) && text.length >= 2 ? text.slice(1, -1) : text;
}

/** Whether the bytes start like a pickle: a PROTO opcode (protocol 2+) or a protocol-0/1 opener. */
export function looksLikePickle(prefix: Uint8Array): boolean {
  if (prefix.byteLength < 2) return false;
  if (prefix[0] === 0x80 && prefix[1]! >= 2 && prefix[1]! <= 5) return true;
  return prefix[0] === 0x28 || prefix[0] === 0x7d || prefix[0] === 0x5d || prefix[0] === 0x63; // MARK, EMPTY_DICT, EMPTY_LIST, GLOBAL
}
