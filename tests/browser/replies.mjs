// End-to-end check of reply notifications in a real browser (Debian's
// Chromium via playwright-core) and a real SMTP server (Python's aiosmtpd,
// saving what it receives in a maildir).
//
// Usage: node tests/browser/replies.mjs      (after `cargo build`)
//   BROADSHEET_BIN  the binary to test (default: target/debug/broadsheet)
//
// A reader comments on the lead story with "Notify me of replies" ticked; the
// confirmation request arrives by mail; the reader opens its link and
// confirms; another reader replies in the browser; the reply notice arrives
// with one-click unsubscribe headers; the reader opens its unsubscribe link
// and unsubscribes; a later reply sends nothing. Console errors and failed
// requests fail the run. Exit code 0 means everything passed.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, CHROMIUM, check, serve, stop, watch } from './lib/harness.mjs';

const DATA = mkdtempSync(join(tmpdir(), 'broadsheet-replies-'));
const MAILDIR = join(mkdtempSync(join(tmpdir(), 'broadsheet-mail-')), 'maildir');
const ANA = { name: 'Ana Subscriber', email: 'ana@reader.example.org' };
const BEN = { name: 'Ben Replier', email: 'ben@reader.example.org' };
const QUESTION = 'Will the night ferry keep its usual pier while the harbour works go on?';
const ANSWER = 'The port authority says pier 4 until March, then back to pier 1.';
const LATE = 'Update: pier 1 reopens a week early, according to the port.';

const cli = (...args) => execFileSync(BIN, ['--data-dir', DATA, ...args], { encoding: 'utf8' });

/** A free loopback port. */
const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** The messages in the maildir, decoded enough to read: headers and the plain-text part. */
function received() {
  let files = [];
  try { files = readdirSync(join(MAILDIR, 'new')); } catch { return []; }
  return files.sort().map((name) => {
    const raw = readFileSync(join(MAILDIR, 'new', name), 'utf8').replace(/\r\n/g, '\n');
    const [head] = raw.split('\n\n');
    const unfolded = head.replace(/\n[ \t]+/g, ' ');
    const header = (n) => unfolded.split('\n').find((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`))
      ?.slice(n.length + 1).trim();
    // The text part, quoted-printable or not.
    const text = raw.split(/Content-Type: text\/plain[^\n]*\n/i)[1]?.split(/\n--[0-9A-Za-z'()+_,./:=?-]{20,}/)[0] ?? '';
    const decoded = text.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return { to: header('To'), subject: header('Subject'), header, text: decoded, raw };
  });
}

async function waitForMail(what, wanted) {
  for (let i = 0; i < 300; i++) {
    const found = received().find(wanted);
    if (found) return found;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no ${what} arrived; received: ${received().map((m) => `${m.to}: ${m.subject}`).join('; ')}`);
}

const problems = [];
const watched = (page) => watch(page, problems);

const smtpPort = await freePort();
const smtp = spawn('python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`,
  '-c', 'aiosmtpd.handlers.Mailbox', MAILDIR], { stdio: 'inherit' });
process.env.BROADSHEET_SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
const { server, addr } = serve(DATA);
let browser;
try {
  const base = `http://${await addr}`;
  console.log(`# serving ${base} from ${DATA}, mail to 127.0.0.1:${smtpPort}`);
  for (const [name, value] of [['min_seconds_to_submit', '0'], ['flood_seconds', '0'], ['hold_first_time', 'false']]) {
    cli('settings', 'set', name, value);
  }
  browser = await chromium.launch(CHROMIUM);

  // 1. Ana comments on the lead story and ticks "Notify me of replies".
  const anaContext = await browser.newContext();
  const ana = watched(await anaContext.newPage());
  await ana.goto(base + '/');
  await Promise.all([ana.waitForURL((u) => u.pathname !== '/'), ana.click('.lead-headline a')]);
  const article = new URL(ana.url()).pathname;
  await ana.fill('#comment', QUESTION);
  await ana.fill('#author', ANA.name);
  await ana.fill('#email', ANA.email);
  await ana.check('#subscribe');
  check(await ana.getByLabel('Notify me of replies by email').isChecked(), 'the form offers "Notify me of replies"');
  await Promise.all([ana.waitForURL(/#comment-\d+$/), ana.click('button:has-text("Post comment")')]);
  const anaId = new URL(ana.url()).hash.slice('#comment-'.length);
  check(true, `Ana's comment #comment-${anaId} is published`);

  // 2. Only a confirmation request is sent; its link opens a page with a button.
  const request = await waitForMail('confirmation request', (m) => m.to?.includes(ANA.email));
  check(request.subject.includes('Confirm: replies to your comment'), `the request arrives: "${request.subject}"`);
  check(!request.raw.includes('usual pier'), 'it does not quote the comment');
  const confirmUrl = request.text.match(/https?:\/\/\S+\/subscriptions\/[0-9a-f]+\/confirm/)?.[0];
  check(confirmUrl?.startsWith(base), `it links to ${confirmUrl}`);
  await ana.goto(confirmUrl);
  check(await ana.getByRole('heading', { name: 'Confirm your subscription' }).isVisible(), 'the link asks first');
  await ana.click('button:has-text("Yes, email me replies")');
  await ana.getByRole('heading', { name: 'Subscription confirmed' }).waitFor();
  check(true, 'the subscription is confirmed');

  // 3. Ben replies to Ana in his own browser; Ana is told, with one-click unsubscribe.
  const benContext = await browser.newContext();
  const ben = watched(await benContext.newPage());
  await ben.goto(base + article);
  await Promise.all([ben.waitForURL(/replytocom=/), ben.click(`#comment-${anaId} .reply a`)]);
  await ben.fill('#comment', ANSWER);
  await ben.fill('#author', BEN.name);
  await ben.fill('#email', BEN.email);
  await Promise.all([ben.waitForURL(/#comment-\d+$/), ben.click('button:has-text("Post comment")')]);
  const reply = await waitForMail('reply notice', (m) => m.to?.includes(ANA.email) && m.subject.includes('New reply'));
  check(reply.text.includes(ANSWER) && reply.text.includes(`${BEN.name} wrote:`), 'the reply notice quotes the reply');
  check(!reply.raw.includes(BEN.email), "it does not show Ben's address");
  check(reply.header('List-Unsubscribe-Post') === 'List-Unsubscribe=One-Click', 'it has List-Unsubscribe-Post');
  const unsubscribeUrl = reply.header('List-Unsubscribe')?.replace(/^<|>$/g, '');
  check(unsubscribeUrl?.endsWith('/unsubscribe') && reply.text.includes(unsubscribeUrl),
    `List-Unsubscribe and the text link to ${unsubscribeUrl}`);

  // 4. Ana follows the unsubscribe link and clicks once.
  await ana.goto(unsubscribeUrl);
  await ana.click('button:has-text("Unsubscribe")');
  await ana.getByRole('heading', { name: 'You have unsubscribed' }).waitFor();
  check(true, 'Ana has unsubscribed');

  // 5. A later reply sends her nothing.
  await ben.goto(`${base}${article}?replytocom=${anaId}#respond`);
  await ben.fill('#comment', LATE);
  await ben.fill('#author', BEN.name);
  await ben.fill('#email', BEN.email);
  await Promise.all([ben.waitForURL(/#comment-\d+$/), ben.click('button:has-text("Post comment")')]);
  await new Promise((done) => setTimeout(done, 3000));
  const notices = received().filter((m) => m.to?.includes(ANA.email) && m.subject.includes('New reply'));
  check(notices.length === 1, 'no notice after unsubscribing');
  check(problems.length === 0, `no console errors or failed requests${problems.length ? `: ${problems.join('; ')}` : ''}`);
} finally {
  if (browser) await browser.close();
  await stop(server, DATA);
  smtp.kill();
  rmSync(join(MAILDIR, '..'), { recursive: true, force: true });
}
