// A real tus 1.0 server on loopback for booth's upload tests and `booth bench`: the official
// Node server (@tus/server) storing into a directory (@tus/file-store), one upload as `<id>`
// plus its `<id>.json` info file, so tests can check what the server really stored.
//
// Everything comes from the environment, so a test can pick a free port and a temp directory:
//   TUS_HOST (127.0.0.1)  TUS_PORT (0 = any free port)  TUS_DIR (./files)
//   TUS_EXPIRE_MS (0 = uploads never expire)  TUS_MAX_SIZE (0 = unlimited)
//   TUS_HIDE_MAX_SIZE=1   enforce TUS_MAX_SIZE (413 on creation) without announcing it in OPTIONS
//   TUS_CHECKSUM=1        also announce and verify `Upload-Checksum: sha1` (the file store does
//                         not): a PATCH whose body does not match gets 460 and is not stored
//   TUS_MAX_PATCH         when > 0, a PATCH whose body is larger gets 413 before anything is
//                         stored, as behind a proxy limiting request bodies (nginx
//                         client_max_body_size)
//   TUS_TOKEN             when set, every request needs `Authorization: Bearer <token>` (401)
//   TUS_LOCATION_ORIGIN   when set, new uploads are announced on this origin (a hostile or
//                         misconfigured server), e.g. http://elsewhere.invalid:9
//   TUS_IGNORE_PATCHES    the first N PATCHes are answered 204 with the offset they were sent
//                         at, their body read and dropped: a server that says yes and keeps nothing
//   TUS_LOCK_DIR          when set, uploads are locked in this folder (shared-locker.mjs) instead
//                         of in memory, so that several server processes can share one TUS_DIR
//                         (a platform scaled out behind a load balancer)
//
// Only `/files` and what is under `/files/` is served; any other path answers 404, as a front
// server routing only the tus path would.
//
// stdout, one line each: `listening <url>` first, then `created <id> size=<n>`,
// `patch <id> offset=<n> length=<n>` (each PATCH as it arrives), `patch-too-large <id> length=<n>`,
// `patched <id> from=<n> status=<code> offset=<n|->` (each PATCH as it is answered, with the
// offset the answer reports: for a PATCH cut short, what the server kept),
// `head <id> status=<code> offset=<n|-> at=<ms>`, `patch-ignored <id> offset=<n> at=<ms>`,
// `finished <id> offset=<n>`, `terminated <id>`, `checksum-mismatch <id> offset=<n>`,
// `unauthorized <method>`, `not-found <method> <path>`, and with TUS_LOCK_DIR
// `lock-waited <id> ms=<n>` (the lock was held elsewhere first), `lock-release-requested <id>`,
// `lock-compromised <id> <code>`. `at` is milliseconds since the
// server started.

import crypto from 'node:crypto';
import http from 'node:http';
import { EVENTS, Server } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { SharedLocker } from './shared-locker.mjs';

const env = process.env;
const host = env.TUS_HOST || '127.0.0.1';
const port = Number(env.TUS_PORT || 0);
const directory = env.TUS_DIR || './files';
const expire = Number(env.TUS_EXPIRE_MS || 0);
const maxSize = Number(env.TUS_MAX_SIZE || 0);
const hideMaxSize = env.TUS_HIDE_MAX_SIZE === '1';
const checksum = env.TUS_CHECKSUM === '1';
const maxPatch = Number(env.TUS_MAX_PATCH || 0);
const token = env.TUS_TOKEN || '';
const locationOrigin = env.TUS_LOCATION_ORIGIN || '';
let ignorePatches = Number(env.TUS_IGNORE_PATCHES || 0);
const lockDir = env.TUS_LOCK_DIR || '';

const options = {
  path: '/files',
  datastore: new FileStore({ directory, expirationPeriodInMilliseconds: expire }),
};
if (lockDir) {
  options.locker = new SharedLocker(lockDir, { say: (line) => say(line) });
}
if (maxSize > 0) {
  options.maxSize = hideMaxSize ? (req) => (req.method === 'OPTIONS' ? 0 : maxSize) : maxSize;
}
if (locationOrigin) {
  options.generateUrl = (_req, { path, id }) => `${locationOrigin}${path}/${id}`;
}
const tus = new Server(options);

const say = (line) => process.stdout.write(`${line}\n`);
tus.on(EVENTS.POST_CREATE, (_req, upload) => say(`created ${upload.id} size=${upload.size}`));
tus.on(EVENTS.POST_FINISH, (_req, _res, upload) => say(`finished ${upload.id} offset=${upload.offset}`));
tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => say(`terminated ${id}`));

/** Answers with a bare status (tus errors carry Tus-Resumable). */
function plain(res, status, body) {
  res.writeHead(status, { 'Tus-Resumable': '1.0.0', 'Content-Type': 'text/plain' });
  res.end(body);
}

/** Runs a request whose body is already in memory through the tus server's Web API. */
async function viaWeb(req, res, body, patch) {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(key, value);
  }
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers,
    body: body && body.length > 0 ? body : undefined,
    duplex: 'half',
  });
  const response = await tus.handleWeb(request);
  const out = Object.fromEntries(response.headers);
  if (patch) patch(out);
  res.writeHead(response.status, out);
  res.end(Buffer.from(await response.arrayBuffer()));
}

async function readAll(req) {
  const parts = [];
  for await (const part of req) parts.push(part);
  return Buffer.concat(parts);
}

const now = () => Math.round(performance.now());

/** Logs how a HEAD or PATCH was answered, with the Upload-Offset of the answer. */
function logAnswer(req, res, line) {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (status, ...rest) => {
    const headers = rest[rest.length - 1];
    let offset = '-';
    if (Array.isArray(headers)) {
      const i = headers.findIndex((h, k) => k % 2 === 0 && String(h).toLowerCase() === 'upload-offset');
      if (i >= 0) offset = headers[i + 1];
    } else if (headers && typeof headers === 'object') {
      for (const [k, v] of Object.entries(headers)) {
        if (k.toLowerCase() === 'upload-offset') offset = v;
      }
    }
    say(line(status, offset));
    return writeHead(status, ...rest);
  };
}

async function handle(req, res) {
  const path = req.url.split('?')[0];
  if (path !== '/files' && !path.startsWith('/files/')) {
    say(`not-found ${req.method} ${path}`);
    req.resume();
    return plain(res, 404, 'Not Found');
  }
  if (token && req.method !== 'OPTIONS' && req.headers.authorization !== `Bearer ${token}`) {
    say(`unauthorized ${req.method}`);
    return plain(res, 401, 'Unauthorized');
  }
  const id = path.split('/').pop();
  if (req.method === 'HEAD') {
    logAnswer(req, res, (status, offset) => `head ${id} status=${status} offset=${offset} at=${now()}`);
  }
  if (checksum && req.method === 'OPTIONS') {
    return viaWeb(req, res, null, (h) => {
      h['tus-extension'] = `${h['tus-extension'] || 'creation'},checksum`;
      h['tus-checksum-algorithm'] = 'sha1';
    });
  }
  if (req.method === 'PATCH') {
    const from = req.headers['upload-offset'];
    const length = Number(req.headers['content-length'] || 0);
    say(`patch ${id} offset=${from} length=${length}`);
    logAnswer(req, res, (status, offset) => `patched ${id} from=${from} status=${status} offset=${offset}`);
    if (maxPatch > 0 && length > maxPatch) {
      say(`patch-too-large ${id} length=${length}`);
      // Like nginx: answer at once, read and drop the rest of the body, then close.
      req.resume();
      res.setHeader('Connection', 'close');
      return plain(res, 413, 'Request Entity Too Large');
    }
    if (ignorePatches > 0) {
      ignorePatches -= 1;
      say(`patch-ignored ${id} offset=${from} at=${now()}`);
      // "204, nothing moved": the body is read and dropped, the offset is the one it came at.
      req.resume();
      res.writeHead(204, { 'Tus-Resumable': '1.0.0', 'Upload-Offset': from });
      return res.end();
    }
  }
  const claimed = req.headers['upload-checksum'];
  if (checksum && req.method === 'PATCH' && claimed) {
    // tus checksum extension: verified once the whole body is in; a mismatch keeps nothing.
    const body = await readAll(req);
    const [algorithm, digest] = claimed.split(' ');
    if (algorithm !== 'sha1') return plain(res, 400, 'Unsupported checksum algorithm');
    if (crypto.createHash('sha1').update(body).digest('base64') !== digest) {
      say(`checksum-mismatch ${id} offset=${req.headers['upload-offset']}`);
      return plain(res, 460, 'Checksum Mismatch');
    }
    return viaWeb(req, res, body);
  }
  return tus.handle(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    say(`error ${err && err.message}`);
    if (!res.headersSent) plain(res, 500, 'Internal error');
    else res.destroy();
  });
});
server.listen({ host, port }, () => {
  const address = server.address();
  say(`listening http://${host}:${address.port}/files`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
