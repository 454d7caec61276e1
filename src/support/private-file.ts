// Writes a file that holds a secret: to a temporary file created with mode 0600 beside it, then
// renamed over the target, so there is never a partial or world-readable copy, even on a crash.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writePrivateFile(file: string, content: string): void {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  // "wx": fail rather than follow a file or link that is already there.
  const fd = openSync(temporary, "wx", 0o600);
  let open = true;
  try {
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(temporary, file);
  } catch (error) {
    if (open) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}
