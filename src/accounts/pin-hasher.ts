// PIN hashing with bcrypt on libuv's thread pool (off the event loop); hashes of the old system verify as is.
// (`bcrypt` ships its prebuilt binary inside the package; @node-rs/bcrypt's per-platform packages are not all
// on the registry mirror here, which breaks `npm ci`.)
import bcrypt from 'bcrypt';

export interface PinHasher {
  hash(pin: string): Promise<string>;
  verify(pin: string, encoded: string): Promise<boolean>;
  /** Work done: how many hashes and verifications ran (the same work for an unknown phone as for a wrong PIN). */
  readonly counts: { hash: number; verify: number };
  /** A real hash of nothing anyone knows, verified when the account does not exist so the work is the same. */
  readonly dummy: Promise<string>;
}

export function bcryptPinHasher(cost = 10): PinHasher {
  const counts = { hash: 0, verify: 0 };
  const doHash = (pin: string) => {
    counts.hash++;
    return bcrypt.hash(pin, cost);
  };
  return {
    counts,
    hash: doHash,
    async verify(pin, encoded) {
      counts.verify++;
      try {
        // $2y$ (PHP) is the same algorithm as $2b$; the bcrypt package only knows the latter spelling.
        return await bcrypt.compare(pin, encoded.startsWith('$2y$') ? `$2b$${encoded.slice(4)}` : encoded);
      } catch {
        return false; // a malformed stored hash never opens the account
      }
    },
    dummy: bcrypt.hash(`no account ${Math.random()}`, cost),
  };
}
