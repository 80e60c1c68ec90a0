/** The emulator checks and returns the same CRC32C the product's Secret Manager reader verifies. */
export { crc32c } from '../../shared/gcp/crc32c.ts';
