/**
 * CRC32C (Castagnoli), the checksum Secret Manager returns as `payload.dataCrc32c`. `node:zlib`'s `crc32` uses the
 * IEEE polynomial, a different checksum, so it cannot stand in. The Secret Manager emulator uses this one too.
 */

const POLYNOMIAL = 0x82f63b78; // Castagnoli, bit-reversed

const TABLE = Uint32Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit += 1) {
    crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
  }
  return crc >>> 0;
});

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
