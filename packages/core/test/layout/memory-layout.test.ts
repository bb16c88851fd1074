import { expect } from 'chai';
import { InvalidArgumentError, MemoryLayout } from '@tierkv/core';

describe('MemoryLayout', () => {
  it('computes the byte size of all tensors', () => {
    const layout = new MemoryLayout([[2, 4, 256, 8, 128], [16]], ['bfloat16', 'float32']);
    expect(layout.byteSize).to.equal(2 * 4 * 256 * 8 * 128 * 2 + 16 * 4);
    expect(layout.toString()).to.equal('bfloat16[2,4,256,8,128];float32[16]');
  });

  it('round-trips through JSON and compares by value', () => {
    const a = new MemoryLayout([[3, 5]], ['float16']);
    const b = MemoryLayout.fromJSON(JSON.parse(JSON.stringify(a)));
    expect(a.equals(b)).to.equal(true);
    expect(a.equals(MemoryLayout.bytes(30))).to.equal(false);
    expect(MemoryLayout.bytes(30).byteSize).to.equal(30);
  });

  it('rejects bad shapes and dtypes with the field and the allowed values', () => {
    expect(() => new MemoryLayout([], [])).to.throw(InvalidArgumentError, /layout.shapes/);
    expect(() => new MemoryLayout([[1]], ['float128' as never])).to.throw(InvalidArgumentError, /allowed: float64/);
    expect(() => new MemoryLayout([[1, 0]], ['uint8'])).to.throw(InvalidArgumentError, /positive integers/);
    expect(() => new MemoryLayout([[1]], [])).to.throw(InvalidArgumentError, /one dtype per shape/);
    expect(() => MemoryLayout.fromJSON(null)).to.throw(InvalidArgumentError);
  });
});
