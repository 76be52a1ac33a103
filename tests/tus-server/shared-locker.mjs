// A tus Locker shared by every server process on one store (@tus/server ships only an
// in-process MemoryLocker, and its docs ask for a shared one when instances share storage).
//
// Each upload's lock is a lock directory beside the others in one lock folder, taken with
// proper-lockfile (mkdir is atomic, also on NFS); the holder refreshes its mtime every second
// and a lock left by a process that died (SIGKILL, a crash) counts as free after 3 s.
//
// tus asks a holder to let go when another request wants the upload (a client that
// reconnected leaves a half-open request behind): a waiter drops a `<id>.release` marker, and
// the holding process, which looks for markers every 100 ms, cancels its request. A marker
// older than the lock is ignored, so one left by a waiter that gave up cancels nobody.

import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { ERRORS } from '@tus/server';

const STALE_MS = 3000;
const UPDATE_MS = 1000;
const POLL_MS = 25;
const MARKER_POLL_MS = 100;

export class SharedLocker {
  constructor(directory, { timeoutMs = 30000, say = () => {} } = {}) {
    fs.mkdirSync(directory, { recursive: true });
    this.directory = directory;
    this.timeoutMs = timeoutMs;
    this.say = say;
  }

  newLock(id) {
    return new SharedLock(this, id);
  }
}

class SharedLock {
  constructor(locker, id) {
    this.locker = locker;
    this.id = id;
    // Upload ids are hex from @tus/server; anything else is kept inside the folder.
    const name = String(id).replace(/[^A-Za-z0-9_-]/g, '_');
    this.file = path.join(locker.directory, name);
    this.marker = `${this.file}.release`;
    this.release = null;
    this.watch = null;
  }

  async lock(signal, requestRelease) {
    const started = Date.now();
    const deadline = started + this.locker.timeoutMs;
    let asked = false;
    for (;;) {
      if (signal.aborted || Date.now() > deadline) {
        if (asked) fs.rm(this.marker, { force: true }, () => {});
        throw ERRORS.ERR_LOCK_TIMEOUT;
      }
      try {
        this.release = await lockfile.lock(this.file, {
          realpath: false,
          stale: STALE_MS,
          update: UPDATE_MS,
          retries: 0,
          onCompromised: (err) => this.locker.say(`lock-compromised ${this.id} ${err.code}`),
        });
      } catch (err) {
        if (err.code !== 'ELOCKED') throw err;
        if (!asked) {
          asked = true;
          fs.writeFileSync(this.marker, String(process.pid));
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      if (asked) {
        fs.rmSync(this.marker, { force: true });
        this.locker.say(`lock-waited ${this.id} ms=${Date.now() - started}`);
      }
      this.watchForWaiters(requestRelease);
      return;
    }
  }

  /** Cancels this holder's request once another request (in any process) asks for the lock. */
  watchForWaiters(requestRelease) {
    const since = Date.now();
    this.watch = setInterval(() => {
      fs.stat(this.marker, (err, stat) => {
        if (err || stat.mtimeMs < since || !this.watch) return;
        clearInterval(this.watch);
        this.watch = null;
        this.locker.say(`lock-release-requested ${this.id}`);
        requestRelease();
      });
    }, MARKER_POLL_MS);
    this.watch.unref();
  }

  async unlock() {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    const release = this.release;
    this.release = null;
    if (!release) throw new Error('Releasing an unlocked lock!');
    try {
      await release();
    } catch (err) {
      // A lock taken over after going stale is no longer ours to remove.
      if (err.code !== 'ERELEASED') throw err;
    }
  }
}
