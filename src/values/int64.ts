/** int64 semantics on bigint: every arithmetic result is wrapped with BigInt.asIntN(64, …) as Go does. */

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export function wrapInt64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

export function isInt64(x: bigint): boolean {
  return x >= INT64_MIN && x <= INT64_MAX;
}

export function addInt64(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a + b);
}

export function subInt64(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a - b);
}

export function mulInt64(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a * b);
}

export function negInt64(a: bigint): bigint {
  return BigInt.asIntN(64, -a);
}

/**
 * Go integer division truncates toward zero; MinInt64 / -1 wraps to MinInt64. Returns undefined for a
 * zero divisor (the caller raises "integer divide by zero").
 */
export function divInt64(a: bigint, b: bigint): bigint | undefined {
  if (b === 0n) return undefined;
  return BigInt.asIntN(64, a / b);
}

/** Go `%`: the sign follows the dividend. Returns undefined for a zero divisor. */
export function remInt64(a: bigint, b: bigint): bigint | undefined {
  if (b === 0n) return undefined;
  return BigInt.asIntN(64, a % b);
}

const TWO63 = 9223372036854775808;

/**
 * Go's float64 → int64 conversion as compiled for amd64: truncation toward zero; NaN and values outside
 * the int64 range give MinInt64 (the CPU's "integer indefinite" value).
 */
export function floatToInt64(x: number): bigint {
  if (!Number.isFinite(x) || x >= TWO63 || x < -TWO63) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/** bigint → float64 rounded to nearest (Go's float64(int64)). */
export function int64ToFloat(x: bigint): number {
  return Number(x);
}
