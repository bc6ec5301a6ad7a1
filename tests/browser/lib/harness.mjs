// What every browser test shares: the server binary, Chromium's flags, the
// "ok - …" checks, and starting `broadsheet serve` on a free loopback port.
// (In lib/: scripts/test.sh runs tests/browser/*.mjs, not this file.)
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const BIN = process.env.BROADSHEET_BIN || 'target/debug/broadsheet';

// Debian's chromium, never a downloaded browser.
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

export const check = (ok, what) => { if (!ok) throw new Error(what); console.log(`ok - ${what}`); };

// Starts `serve` on `dataDir`; `addr` resolves once the "serving" log line shows up.
export function serve(dataDir) {
  const server = spawn(BIN, ['--data-dir', dataDir, '--addr', '127.0.0.1:0', '--log-format', 'json', 'serve'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "serving" log line within 30 s')), 30_000);
    server.on('error', (err) => reject(new Error(`cannot start ${BIN}: ${err.message}`)));
    server.on('exit', (code) => reject(new Error(`server exited early (code ${code})`)));
    createInterface({ input: server.stdout }).on('line', (line) => {
      let log;
      try { log = JSON.parse(line); } catch { return; } // the first-start banner is plain text
      if (log.fields?.message === 'serving') { clearTimeout(timer); resolve(log.fields.addr); }
    });
  });
  return { server, addr };
}

// Stops the server started by `serve` (waiting until it has exited) and
// removes its data directory.
export async function stop(server, dataDir) {
  if (server.exitCode === null) {
    const exited = new Promise((done) => server.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}

// Whether a failed request is a load the browser cancelled because the page
// was left while it was in flight (on a busy machine, a page's images often
// are): not a failure. A missing file still shows as a response of 404.
// `paths` adds paths (exact) whose requests may be cancelled the same way.
export function cancelledOnLeave(req, paths = []) {
  const path = new URL(req.url()).pathname;
  return req.failure()?.errorText === 'net::ERR_ABORTED'
    && (path.startsWith('/media/') || /^\/static\/favicon\.[0-9a-f]+\.svg$/.test(path) || paths.includes(path));
}

// Records on `page` what fails a run into `problems`: console errors,
// uncaught errors, failed requests (but loads cancelled by leaving the page)
// and answers of 400 or more.
export function watch(page, problems) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (!cancelledOnLeave(req)) problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return page;
}
