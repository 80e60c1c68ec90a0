/**
 * A fleet's own delay before it acts, the same on every cycle and every cold start (a hash of its name, not a random
 * draw), so many fleets, or many deployments, do not call the cloud APIs at the same instant.
 */
export function jitterOffsetMs(name: string, spreadMs: number): number {
  if (!(spreadMs > 0)) {
    return 0;
  }
  // FNV-1a over the name, then MurmurHash3's finalizer: names that differ in one character (fleet-1, fleet-2) must
  // land far apart, and FNV alone leaves its high bits, which pick the offset, too alike.
  let hash = 0x811c9dc5;
  for (const char of name) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return Math.floor(((hash >>> 0) / 0x1_0000_0000) * spreadMs);
}
