// End-to-end check of reader comments in a real browser (Debian's Chromium via
// playwright-core, which never downloads a browser of its own).
//
// Usage: node tests/browser/comments.mjs      (after `cargo build`)
//   BROADSHEET_BIN  the binary to test (default: target/debug/broadsheet)
//   SCREENSHOT_DIR  where the screenshots go (default: a fresh temp dir)
//
// It serves a fresh demo site and checks that: a first-time commenter's comment
// is held, shown only to its author with the moderation note, and appears for
// everyone once approved from the command line; "Reply" pre-fills the remembered
// name and email and the (now trusted) reply is threaded under its parent; an
// invalid form shows field errors and keeps what was typed. Then it takes
// full-page phone and desktop screenshots of the discussion. Console errors and
// failed requests anywhere fail the run. Exit code 0 means everything passed.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, CHROMIUM, cancelledOnLeave, check, serve, stop } from './lib/harness.mjs';

const DATA = mkdtempSync(join(tmpdir(), 'broadsheet-comments-'));
const SHOTS = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'broadsheet-shots-'));
const READER = { name: 'Ada Reader', email: 'ada@reader.example.org', url: 'https://reader.example.org' };
const COMMENT = 'A clear and careful piece. The timeline in the third paragraph helped me a lot.';
const REPLY = 'Thanks to everyone who read this far, and to the editors for approving it.';

const cli = (...args) => execFileSync(BIN, ['--data-dir', DATA, ...args], { encoding: 'utf8' });


const problems = [];
let expect422 = false; // the invalid form is answered with 422 Unprocessable Entity, on purpose
function watch(page) {
  page.on('console', (msg) => {
    const intended = expect422 && msg.text().includes('status of 422');
    if (msg.type() === 'error' && !intended) problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (!cancelledOnLeave(req)) problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    const intended = expect422 && res.status() === 422 && res.request().method() === 'POST';
    if (res.status() >= 400 && !intended) problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return page;
}

/** A person takes more than three seconds to write a comment; the spam filter
 *  counts a form sent faster as a bot's, so the reader here takes that long too. */
async function writingTime(page) {
  await page.waitForTimeout(3500);
}

const { server, addr } = serve(DATA);
let browser;
try {
  const base = `http://${await addr}`;
  console.log(`# serving ${base} from ${DATA}`);
  cli('settings', 'set', 'min_seconds_to_submit', '0');
  cli('settings', 'set', 'flood_seconds', '0');
  browser = await chromium.launch(CHROMIUM);

  // 1. Front page -> lead story.
  const first = await browser.newContext();
  const page = watch(await first.newPage());
  await page.goto(base + '/');
  await Promise.all([page.waitForURL((u) => u.pathname !== '/'), page.click('.lead-headline a')]);
  await page.waitForSelector('article h1.headline');
  const article = new URL(page.url()).pathname;
  check(true, `opened the lead story ${article}`);
  // The demo's own discussion is there already.
  const title = page.locator('#comments-title');
  const earlier = (await title.count()) ? parseInt(await title.innerText(), 10) : 0;

  // 2-3. A first-time comment is held and shown only to its author.
  await page.getByRole('heading', { name: 'Leave a comment' }).scrollIntoViewIfNeeded();
  await page.fill('#comment', COMMENT);
  await page.fill('#author', READER.name);
  await page.fill('#email', READER.email);
  await page.fill('#url', READER.url);
  await page.check('#remember');
  await writingTime(page);
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('button:has-text("Post comment")')]);
  const id = new URL(page.url()).hash.match(/^#comment-(\d+)$/)?.[1];
  check(id, `redirected to the new comment (#comment-${id})`);
  const mine = page.locator(`li#comment-${id}`);
  check((await mine.locator('.comment-text').innerText()).includes(COMMENT), 'the author sees the comment text');
  check(await mine.getByText('Your comment is awaiting moderation').isVisible(), 'with the moderation note');

  // 4. Another reader does not see it.
  const second = await browser.newContext();
  const other = watch(await second.newPage());
  await other.goto(base + article);
  check(await other.locator(`#comment-${id}`).count() === 0 && !(await other.content()).includes(COMMENT),
    'another reader does not see the held comment');

  // 5. Approved from the command line, it is public.
  const pending = cli('comments', 'list', '--status', 'pending').split('\n').map((l) => l.trim().split(/\s+/)[0]);
  check(pending.includes(id), `\`comments list --status pending\` lists ${id}`);
  cli('comments', 'approve', id);
  await other.reload();
  check((await other.locator(`#comment-${id} .comment-text`).innerText()).includes(COMMENT),
    'after approval another reader sees the comment');
  const heading = `${earlier + 1} comment${earlier + 1 === 1 ? '' : 's'}`;
  check((await other.locator('#comments-title').innerText()).trim() === heading, `and the heading says "${heading}"`);
  await second.close();

  // 6. Reply: the remembered reader is pre-filled, and the reply is threaded.
  await page.goto(base + article);
  await Promise.all([page.waitForURL(/replytocom=/), page.click(`#comment-${id} .reply a`)]);
  check((await page.locator('#reply-title').innerText()).startsWith(`Reply to ${READER.name}`),
    `the form heading says "Reply to ${READER.name}"`);
  check(await page.inputValue('#author') === READER.name && await page.inputValue('#email') === READER.email,
    'name and email are pre-filled from the remember-me cookie');
  await page.fill('#comment', REPLY);
  await writingTime(page);
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('button:has-text("Post comment")')]);
  const replyId = new URL(page.url()).hash.slice('#comment-'.length);
  const reply = page.locator(`li#comment-${id} > ol.children > li#comment-${replyId}`);
  check(await reply.count() === 1, `the reply #comment-${replyId} sits in ol.children under #comment-${id}`);
  check((await reply.locator('.comment-text').innerText()).includes(REPLY), 'and is published at once');
  check(await reply.locator('.moderation-note').count() === 0, 'without a moderation note');

  // 7. An invalid form keeps what was typed and says what is wrong.
  await page.goto(base + article); // no fragment: a real load, not a same-document jump
  await page.fill('#comment', '');
  await page.fill('#author', 'Bea Typist');
  await page.fill('#email', 'not-an-email');
  expect422 = true;
  const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('button:has-text("Post comment")')]);
  await page.waitForLoadState('load');
  expect422 = false;
  check(answer.status() === 422, `the invalid form is answered with HTTP ${answer.status()} (422 expected)`);
  const errors = await page.locator('.field-error').allInnerTexts();
  check(await page.locator('#comment-error').isVisible() && await page.locator('#email-error').isVisible(),
    `field errors are shown: ${errors.map((e) => JSON.stringify(e)).join(', ')}`);
  check(await page.inputValue('#author') === 'Bea Typist', 'the name typed is kept');
  await first.close();

  // 8. Screenshots of the threaded discussion.
  mkdirSync(SHOTS, { recursive: true });
  const viewports = {
    phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    desktop: { viewport: { width: 1366, height: 900 } },
  };
  for (const [name, options] of Object.entries(viewports)) {
    const context = await browser.newContext(options);
    const shot = watch(await context.newPage());
    await shot.goto(base + article + '#comments');
    await shot.evaluate(() => Promise.all([...document.images].map((img) => {
      img.loading = 'eager';
      return img.complete || new Promise((done) => { img.onload = img.onerror = done; });
    })));
    const path = join(SHOTS, `comments-${name}.png`);
    await shot.screenshot({ path, fullPage: true });
    console.log(`# screenshot: ${path}`);
    await context.close();
  }

  // 9. Nothing went wrong along the way.
  check(problems.length === 0, `no console errors or failed requests${problems.map((p) => `\n  ${p}`).join('')}`);
  console.log('PASS');
} catch (err) {
  console.error(`not ok - ${err.message}`);
  if (problems.length) console.error(`problems seen:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await stop(server, DATA);
  // Screenshots in a folder of our own making are kept only to look into a failure.
  if (!process.env.SCREENSHOT_DIR) {
    if (process.exitCode) console.error(`# screenshots kept in ${SHOTS}`);
    else rmSync(SHOTS, { recursive: true, force: true });
  }
}
