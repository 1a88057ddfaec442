/**
 * A minimal WebAssembly binary encoder: just the sections and instructions the
 * SIMD kernels (simd.ts) use, so their bytes are generated at load time from
 * TypeScript and the package stays free of native code, build steps and binary
 * files.
 *
 * Why hand-written rather than a library: the kernels need one memory, a few
 * functions, structured loops and about forty instructions (i32 arithmetic,
 * f32 and v128 loads and stores, f32x4 arithmetic). The binary format for that
 * is LEB128 integers plus one byte (or 0xFD + LEB128) per opcode, i.e. this
 * file; the npm assemblers that accept the text format (wabt's wat2wasm) are
 * multi-megabyte Emscripten builds that would have to be shipped and
 * instantiated at runtime for a few hundred bytes of output. Every module
 * produced here is checked by the engine itself (WebAssembly.Module validates
 * it), and the tests run every kernel against the pure-JS ones.
 *
 * Reference: WebAssembly Core Specification 2.0, chapter 5 (binary format),
 * and the fixed-width SIMD proposal's opcode table (all merged into 2.0).
 */

/** Value types. */
export const I32 = 0x7f,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
function uleb(out: number[], v: number): void {
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Signed LEB128 of an int32. */
function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

const f32Bytes = new Uint8Array(4);
const f32View = new DataView(f32Bytes.buffer);

/** SIMD opcodes (prefix 0xFD), from the SIMD proposal's table. */
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  f32x4Splat: 0x13,
  f32x4Eq: 0x41,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
} as const;

/**
 * The body of one function being written: instruction methods append their
 * encoding; locals are declared on demand. Memory accesses take a static byte
 * offset (the memarg offset, added to the address operand by the engine).
 */
export class Func {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly params: ValType[],
    readonly results: ValType[] = [],
  ) {}

  /** Declares a local of the given type and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  // ---- variables and constants
  get(i: number): this {
    this.code.push(0x20);
    uleb(this.code, i);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(this.code, i);
    return this;
  }
  tee(i: number): this {
    this.code.push(0x22);
    uleb(this.code, i);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }
  f32(v: number): this {
    f32View.setFloat32(0, v, true);
    this.code.push(0x43, ...f32Bytes);
    return this;
  }

  // ---- i32 arithmetic and comparisons
  add(): this {
    this.code.push(0x6a);
    return this;
  }
  sub(): this {
    this.code.push(0x6b);
    return this;
  }
  mul(): this {
    this.code.push(0x6c);
    return this;
  }
  divS(): this {
    this.code.push(0x6d);
    return this;
  }
  remS(): this {
    this.code.push(0x6f);
    return this;
  }
  shl(): this {
    this.code.push(0x74);
    return this;
  }
  shr(): this {
    this.code.push(0x75);
    return this;
  }
  ltS(): this {
    this.code.push(0x48);
    return this;
  }
  ltU(): this {
    this.code.push(0x49);
    return this;
  }
  geS(): this {
    this.code.push(0x4e);
    return this;
  }
  eqz(): this {
    this.code.push(0x45);
    return this;
  }
  eq(): this {
    this.code.push(0x46);
    return this;
  }
  ne(): this {
    this.code.push(0x47);
    return this;
  }
  leS(): this {
    this.code.push(0x4c);
    return this;
  }
  gtS(): this {
    this.code.push(0x4a);
    return this;
  }
  and(): this {
    this.code.push(0x71);
    return this;
  }
  or32(): this {
    this.code.push(0x72);
    return this;
  }
  /** (a, b, cond) → cond ? a : b (any one value type). */
  select(): this {
    this.code.push(0x1b);
    return this;
  }
  /** Pops and discards a value. */
  drop(): this {
    this.code.push(0x1a);
    return this;
  }
  /** Calls function `index` (its position in the object given to assemble). */
  call(index: number): this {
    this.code.push(0x10);
    uleb(this.code, index);
    return this;
  }
  return(): this {
    this.code.push(0x0f);
    return this;
  }

  // ---- scalar f32 memory and arithmetic
  f32Load(offset = 0): this {
    return this.mem(0x2a, 2, offset);
  }
  f32Store(offset = 0): this {
    return this.mem(0x38, 2, offset);
  }
  f32Add(): this {
    this.code.push(0x92);
    return this;
  }
  f32Ne(): this {
    this.code.push(0x5c);
    return this;
  }
  f32Gt(): this {
    this.code.push(0x5e);
    return this;
  }
  f32Le(): this {
    this.code.push(0x5f);
    return this;
  }

  // ---- f64 (the float64 sums)
  f64Load(offset = 0): this {
    return this.mem(0x2b, 3, offset);
  }
  f64Store(offset = 0): this {
    return this.mem(0x39, 3, offset);
  }
  f64Add(): this {
    this.code.push(0xa0);
    return this;
  }
  /** f32 → f64. */
  f64Promote(): this {
    this.code.push(0xbb);
    return this;
  }
  i32Load(offset = 0): this {
    return this.mem(0x28, 2, offset);
  }
  f32Mul(): this {
    this.code.push(0x94);
    return this;
  }

  // ---- SIMD
  v128Load(offset = 0): this {
    return this.simdMem(SIMD.load, 4, offset);
  }
  v128Store(offset = 0): this {
    return this.simdMem(SIMD.store, 4, offset);
  }
  /** Loads one f32 and splats it to the four lanes. */
  load32Splat(offset = 0): this {
    return this.simdMem(SIMD.load32Splat, 2, offset);
  }
  f32x4Splat(): this {
    return this.simd(SIMD.f32x4Splat);
  }
  f32x4Add(): this {
    return this.simd(SIMD.f32x4Add);
  }
  f32x4Sub(): this {
    return this.simd(SIMD.f32x4Sub);
  }
  f32x4Mul(): this {
    return this.simd(SIMD.f32x4Mul);
  }
  f32x4Div(): this {
    return this.simd(SIMD.f32x4Div);
  }
  f32x4Min(): this {
    return this.simd(SIMD.f32x4Min);
  }
  f32x4Max(): this {
    return this.simd(SIMD.f32x4Max);
  }
  f32x4Abs(): this {
    return this.simd(SIMD.f32x4Abs);
  }
  f32x4Neg(): this {
    return this.simd(SIMD.f32x4Neg);
  }
  f32x4Lt(): this {
    return this.simd(SIMD.f32x4Lt);
  }
  f32x4Gt(): this {
    return this.simd(SIMD.f32x4Gt);
  }
  f32x4Le(): this {
    return this.simd(SIMD.f32x4Le);
  }
  f32x4Ge(): this {
    return this.simd(SIMD.f32x4Ge);
  }
  f32x4Eq(): this {
    return this.simd(SIMD.f32x4Eq);
  }
  v128And(): this {
    return this.simd(SIMD.and);
  }
  v128Not(): this {
    return this.simd(0x4d);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  /** Lanes 0 and 1 of an f32x4 as an f64x2. */
  f64x2PromoteLow(): this {
    return this.simd(0x5f);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Sub(): this {
    return this.simd(0xf1);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  f64x2Div(): this {
    return this.simd(0xf3);
  }
  f64x2Sqrt(): this {
    return this.simd(0xef);
  }
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  /** f64x2 → f32x4 with lanes 2 and 3 zero. */
  f32x4DemoteZero(): this {
    return this.simd(0x5e);
  }
  /** The i32x4 constant [0, 1, 2, 3]. */
  i32x4Iota(): this {
    this.code.push(0xfd);
    uleb(this.code, 0x0c);
    for (let i = 0; i < 4; i++) this.code.push(i, 0, 0, 0);
    return this;
  }
  v128Or(): this {
    return this.simd(SIMD.or);
  }
  /** (a, b, mask) → lanes of a where mask bits are 1, of b elsewhere. */
  bitselect(): this {
    return this.simd(SIMD.bitselect);
  }
  /** (a, b) → the lanes of a and b (0-3 a, 4-7 b) picked by `lanes` (four 32-bit lane indices). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0d);
    for (const l of lanes) for (let i = 0; i < 4; i++) this.code.push(4 * l + i);
    return this;
  }
  /** A v128 constant with four equal f32 lanes. */
  f32x4Const(v: number): this {
    f32View.setFloat32(0, v, true);
    this.code.push(0xfd);
    uleb(this.code, 0x0c);
    for (let i = 0; i < 4; i++) this.code.push(...f32Bytes);
    return this;
  }

  // ---- control
  /** `for (i = from; i < to; i += step) body()`: i an i32 local, from and to emitters, step a constant or a local; skips the body when from >= to. */
  forRange(i: number, from: () => void, to: () => void, step: number | { local: number }, body: () => void): this {
    from();
    this.set(i);
    this.block(() => {
      this.get(i);
      to();
      this.geS();
      this.brIf(0);
      this.loop(() => {
        body();
        this.get(i);
        if (typeof step === 'number') this.i32(step);
        else this.get(step.local);
        this.add().tee(i);
        to();
        this.ltS();
        this.brIf(0);
      });
    });
    return this;
  }
  block(body: () => void): this {
    this.code.push(0x02, 0x40);
    body();
    this.code.push(0x0b);
    return this;
  }
  loop(body: () => void): this {
    this.code.push(0x03, 0x40);
    body();
    this.code.push(0x0b);
    return this;
  }
  /** Runs body when the i32 on the stack is non-zero. */
  if(body: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    body();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.code.push(0x0b);
    return this;
  }
  /** Like if, with both arms leaving one value of type `type`. */
  ifValue(type: ValType, body: () => void, otherwise: () => void): this {
    this.code.push(0x04, type);
    body();
    this.code.push(0x05);
    otherwise();
    this.code.push(0x0b);
    return this;
  }
  br(depth: number): this {
    this.code.push(0x0c);
    uleb(this.code, depth);
    return this;
  }
  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(this.code, depth);
    return this;
  }

  /** The function body as the code section wants it: locals (run-length by type), code, end. */
  body(): number[] {
    const out: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [count, t] of runs) {
      uleb(out, count);
      out.push(t);
    }
    out.push(...this.code, 0x0b);
    return out;
  }

  private mem(op: number, align: number, offset: number): this {
    this.code.push(op);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  private simd(op: number): this {
    this.code.push(0xfd);
    uleb(this.code, op);
    return this;
  }

  private simdMem(op: number, align: number, offset: number): this {
    this.simd(op);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  out.push(...content);
}

/**
 * A module with one exported memory named 'memory' of `pages` 64 KiB pages
 * (growable up to `maxPages`) and the given functions, exported by name.
 */
export function assemble(pages: number, maxPages: number, functions: Record<string, Func>): Uint8Array {
  const entries = Object.entries(functions);
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

  const types: number[] = [];
  uleb(types, entries.length);
  for (const [, f] of entries) {
    types.push(0x60);
    uleb(types, f.params.length);
    types.push(...f.params);
    uleb(types, f.results.length);
    types.push(...f.results);
  }
  section(out, 1, types);

  const funcs: number[] = [];
  uleb(funcs, entries.length);
  entries.forEach((_, i) => uleb(funcs, i));
  section(out, 3, funcs);

  const memory: number[] = [1, 0x01];
  uleb(memory, pages);
  uleb(memory, maxPages);
  section(out, 5, memory);

  const exports: number[] = [];
  uleb(exports, entries.length + 1);
  name(exports, 'memory');
  exports.push(0x02, 0);
  entries.forEach(([n], i) => {
    name(exports, n);
    exports.push(0x00);
    uleb(exports, i);
  });
  section(out, 7, exports);

  const code: number[] = [];
  uleb(code, entries.length);
  for (const [, f] of entries) {
    const body = f.body();
    uleb(code, body.length);
    code.push(...body);
  }
  section(out, 10, code);
  return Uint8Array.from(out);
}
