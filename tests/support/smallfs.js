// A real, small file system for tests of a full disk: a tmpfs of a few MiB mounted on a fresh
// directory (needs root, as on the test machines and in CI), which a test fills with one file
// until the kernel answers ENOSPC, then empties again. Unmounted by unmount(), and also when the
// process exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, writeSync, closeSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mounted = new Set(); // directories still mounted

function umount(dir) {
  if (!mounted.has(dir)) return;
  mounted.delete(dir);
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); } catch {}
  }
  try { rmdirSync(dir); } catch {}
}

process.on('exit', () => {
  for (const dir of [...mounted]) umount(dir);
});

/**
 * Mounts a tmpfs of sizeMiB on a new directory. Resolves with
 * {dir, fill(), unfill(), unmount()}, or with {error} when this machine cannot mount (not root,
 * no mount permission in a container): the caller skips with that reason.
 * fill() writes <dir>/filler until the file system is full and returns the bytes written;
 * unfill() removes it. Stop every process whose working directory is inside dir before
 * unmount().
 */
export function mountSmallFilesystem(sizeMiB = 8) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    try { rmdirSync(dir); } catch {}
    const why = (err.stderr && String(err.stderr).trim()) || err.message;
    return { error: `cannot mount a tmpfs here (${why})` };
  }
  mounted.add(dir);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Big pieces first, then smaller ones, so that not even one page is left.
        for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x61);
          for (;;) {
            try {
              const n = writeSync(fd, chunk);
              written += n;
              if (n < size) break;
            } catch (err) {
              if (err.code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    unfill() {
      rmSync(filler, { force: true });
    },
    unmount() {
      umount(dir);
    },
  };
}
