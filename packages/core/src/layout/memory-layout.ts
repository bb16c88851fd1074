import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/** Element types of KV tensors, with their size in bytes. */
export const DTYPE_BYTES = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float8_e4m3fn: 1,
  float8_e5m2: 1,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint32: 4,
  uint16: 2,
  uint8: 1,
} as const satisfies Record<string, number>;

export type DType = keyof typeof DTYPE_BYTES;

export interface MemoryLayoutJSON {
  shapes: number[][];
  dtypes: DType[];
}

/**
 * The shapes and dtypes of the tensors that make up one chunk (for example K and V of every layer).
 * Immutable; `byteSize` is the size of one object with this layout.
 */
export class MemoryLayout {
  readonly shapes: readonly (readonly number[])[];
  readonly dtypes: readonly DType[];
  readonly byteSize: number;
  readonly #id: string;

  constructor(shapes: readonly (readonly number[])[], dtypes: readonly DType[]) {
    if (!Array.isArray(shapes) || shapes.length === 0) {
      throw new InvalidArgumentError('layout.shapes', 'expected at least one tensor shape, e.g. [[2, 32, 256, 8, 128]]');
    }
    if (!Array.isArray(dtypes) || dtypes.length !== shapes.length) {
      throw new InvalidArgumentError('layout.dtypes', `expected one dtype per shape (${shapes.length}), got ${Array.isArray(dtypes) ? dtypes.length : typeof dtypes}`);
    }
    let total = 0;
    shapes.forEach((shape, i) => {
      const dtype = dtypes[i]!;
      const width = (DTYPE_BYTES as Record<string, number>)[dtype];
      if (width === undefined) {
        throw new InvalidArgumentError(`layout.dtypes[${i}]`, `unknown dtype ${JSON.stringify(dtype)}; allowed: ${Object.keys(DTYPE_BYTES).join(', ')}`);
      }
      if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new InvalidArgumentError(`layout.shapes[${i}]`, `expected a non-empty list of positive integers, got ${JSON.stringify(shape)}`);
      }
      total += shape.reduce((a, b) => a * b, 1) * width;
    });
    if (!Number.isSafeInteger(total)) throw new InvalidArgumentError('layout', 'byte size overflows');
    this.shapes = Object.freeze(shapes.map((s) => Object.freeze([...s])));
    this.dtypes = Object.freeze([...dtypes]);
    this.byteSize = total;
    this.#id = this.shapes.map((s, i) => `${this.dtypes[i]}[${s.join(',')}]`).join(';');
  }

  /** A layout of one flat byte tensor: handy for opaque chunks. */
  static bytes(byteSize: number): MemoryLayout {
    return new MemoryLayout([[byteSize]], ['uint8']);
  }

  static fromJSON(json: unknown): MemoryLayout {
    const j = json as Partial<MemoryLayoutJSON> | null;
    if (j === null || typeof j !== 'object') throw new InvalidArgumentError('layout', 'expected {shapes, dtypes}');
    return new MemoryLayout(j.shapes as number[][], j.dtypes as DType[]);
  }

  equals(other: MemoryLayout): boolean {
    return this === other || this.#id === other.#id;
  }

  /** A compact, canonical description such as `float16[2,32,256,8,128]`. */
  toString(): string {
    return this.#id;
  }

  toJSON(): MemoryLayoutJSON {
    return { shapes: this.shapes.map((s) => [...s]), dtypes: [...this.dtypes] };
  }
}
