// End-to-end check of the newsroom admin in a real browser (Debian's Chromium
// via playwright-core, which never downloads a browser of its own), with
// axe-core on every admin page.
//
// Usage: node tests/browser/admin.mjs      (after `cargo build`)
//   BROADSHEET_BIN  the binary to test (default: target/debug/broadsheet)
//   SCREENSHOT_DIR  where the screenshots go (default: a fresh temp dir)
//
// Against a fresh demo site: an editor added with `broadsheet user add` signs
// in with the one-time password and chooses their own; uploads an image to the
// media library; writes an article with it (live preview as they type),
// previews it and publishes it; sees
// it on the front page. A reader's first comment is held; the editor approves
// it from the queue and the reader sees it published; another comment is
// marked spam. The editor signs out. Every admin page passes axe-core with no
// serious or critical violation; the sign-in form is reached, filled and
// sent with the keyboard alone. Desktop screenshots of the main admin pages
// are taken (kept when SCREENSHOT_DIR is set or the check fails). Console
// errors and failed requests fail the run. Exit code 0 means everything passed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, CHROMIUM, cancelledOnLeave, check, serve, stop } from './lib/harness.mjs';

const DATA = mkdtempSync(join(tmpdir(), 'broadsheet-admin-'));
const SHOTS = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'broadsheet-admin-shots-'));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const EDITOR = { email: 'eda@newsroom.example.org', name: 'Eda Editor', password: 'a harbour of one’s own 2026' };
const HEADLINE = 'Lighthouse keeper hands over the Alden Heads light';
const HELD = 'Thank you, Morag, for forty years of keeping us safe.';
const SPAM = 'Cheap watches!!! Visit http://spam.example.com/buy now';

const cli = (...args) => execFileSync(BIN, ['--data-dir', DATA, ...args], { encoding: 'utf8' });


const problems = [];
function watch(page) {
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The live preview is cancelled too when the page is left mid-request.
    const cancelled = cancelledOnLeave(req, ['/admin/preview']);
    if (!cancelled) problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return page;
}

// axe-core on the page as it is now; serious and critical violations fail.
async function accessible(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const detail = bad.map((v) => `\n  ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `axe-core: no serious or critical violations on ${name}${detail.join('')}`);
}

async function screenshot(page, name) {
  const path = join(SHOTS, `admin-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`# screenshot: ${path}`);
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
  const oneTime = cli('user', 'add', EDITOR.email, '--name', EDITOR.name, '--role', 'editor').trim();
  check(oneTime.length === 20, 'user add prints a one-time password');
  browser = await chromium.launch(CHROMIUM);
  // axe-core is evaluated into the page: the admin's Content-Security-Policy
  // (script-src 'self') would rightly refuse it otherwise.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const admin = watch(await desk.newPage());

  // 1. Signed out, the admin sends you to sign in; sign in with the keyboard alone.
  await admin.goto(base + '/admin/');
  check(new URL(admin.url()).pathname === '/admin/sign-in', 'signed out, /admin/ leads to the sign-in page');
  await accessible(admin, 'the sign-in page');
  await screenshot(admin, 'sign-in');
  await admin.keyboard.press('Tab');
  check(await admin.evaluate(() => document.activeElement?.id) === 'email', 'Tab reaches the email field first');
  await admin.keyboard.type(EDITOR.email);
  await admin.keyboard.press('Tab');
  await admin.keyboard.type(oneTime);
  await Promise.all([admin.waitForURL(/\/admin\/password$/), admin.keyboard.press('Enter')]);
  check(await admin.getByText('You signed in with a one-time password').isVisible(), 'a one-time password must be changed first');
  await accessible(admin, 'the password page');
  await admin.fill('#current', oneTime);
  await admin.fill('#new', EDITOR.password);
  await admin.fill('#repeat', EDITOR.password);
  await admin.click('button:has-text("Change password")');
  check(await admin.getByText('Your password has been changed').isVisible(), 'the new password is set');

  // 2. The dashboard.
  await admin.goto(base + '/admin/');
  check(await admin.locator('h1').innerText() === 'Dashboard', 'the dashboard opens');
  check(await admin.locator('svg[role="img"] rect').count() === 90, 'the chart has 30 days × 3 series');
  await accessible(admin, 'the dashboard');
  await screenshot(admin, 'dashboard');

  // 3. Upload an image to the media library (a PNG made by the browser itself).
  const picture = await admin.screenshot({ clip: { x: 0, y: 0, width: 1200, height: 800 } });
  await admin.goto(base + '/admin/media');
  await accessible(admin, 'the media library');
  await admin.setInputFiles('#file', { name: 'alden-heads.png', mimeType: 'image/png', buffer: picture });
  await admin.fill('#alt', 'The Alden Heads lighthouse at dusk');
  await admin.fill('#caption', 'The light was automated this week.');
  await admin.fill('#credit', 'Photo: Eda Editor');
  await Promise.all([admin.waitForURL(/\/admin\/media\?added=/), admin.click('button:has-text("Upload")')]);
  check(await admin.getByText('Added alden-heads.png to the library.').isVisible(), 'the image is uploaded');
  const imageUrl = await admin.locator('.media-url input').first().inputValue();
  check(/^\/media\/alden-heads-[0-9a-f]{12}\.png$/.test(imageUrl), `the library gives its address (${imageUrl})`);
  await screenshot(admin, 'media');

  // 4. Write the article, preview it, publish it.
  await admin.goto(base + '/admin/articles/new');
  await accessible(admin, 'the editor');
  await admin.focus('#headline');
  await admin.keyboard.type(HEADLINE);
  await admin.fill('#standfirst', 'Morag Dunn climbed 112 steps every night for forty years.');
  await admin.fill('#body', 'The light at Alden Heads was **automated** on Monday.\n\n> “It was never lonely,” she said.');
  await admin.fill('#byline', 'Kit Marr');
  await admin.check('label:has-text("News") >> xpath=preceding-sibling::input[1]');
  await admin.fill('#tags', 'lighthouse, people');
  await admin.fill('#image_src', imageUrl);
  await admin.locator('#live-preview strong').waitFor({ timeout: 5000 });
  check(await admin.locator('#live-preview strong').innerText() === 'automated', 'the live preview follows the typing');
  await admin.click('button[value="preview"]');
  check(await admin.locator('#server-preview strong').innerText() === 'automated', 'the preview renders the Markdown');
  check(await admin.inputValue('#headline') === HEADLINE, 'the preview keeps the form as typed');
  await screenshot(admin, 'editor-preview');
  await Promise.all([admin.waitForURL(/saved=published/), admin.click('button[value="publish"]')]);
  check(await admin.getByText('Published.').isVisible(), 'the article is published');
  await admin.goto(base + '/admin/categories');
  await accessible(admin, 'the categories and tags');
  await admin.goto(base + '/admin/articles');
  await accessible(admin, 'the article list');
  await screenshot(admin, 'articles');

  // 5. It is on the front page, with its image in every size.
  const reader = watch(await (await browser.newContext()).newPage());
  await reader.goto(base + '/');
  check(await reader.getByRole('link', { name: HEADLINE }).first().isVisible(), 'the new article is on the front page');
  await Promise.all([reader.waitForURL(/lighthouse-keeper-hands-over/), reader.getByRole('link', { name: HEADLINE }).first().click()]);
  const srcset = await reader.locator('figure img').first().getAttribute('srcset');
  check(srcset?.includes('-480w.png 480w') && srcset.includes('-960w.png 960w'), 'the image has a srcset');
  check(await reader.locator('figure img').first().evaluate((img) => img.complete && img.naturalWidth > 0), 'the image loads');

  // 6. A reader's first comment is held.
  await reader.fill('#comment', HELD);
  await reader.fill('#author', 'Ben Reader');
  await reader.fill('#email', 'ben@reader.example.org');
  await writingTime(reader);
  await Promise.all([reader.waitForURL(/#comment-\d+$/), reader.click('button:has-text("Post comment")')]);
  check(await reader.getByText('Your comment is awaiting moderation').isVisible(), 'the reader sees their comment held');
  const stranger = watch(await (await browser.newContext()).newPage());
  await stranger.goto(reader.url().split('?')[0]);
  check(!(await stranger.content()).includes(HELD), 'nobody else sees the held comment');
  const spammer = watch(await (await browser.newContext()).newPage());
  await spammer.goto(reader.url().split('?')[0]);
  await spammer.fill('#comment', SPAM);
  await spammer.fill('#author', 'Watch Seller');
  await spammer.fill('#email', 'seller@spam.example.com');
  await Promise.all([spammer.waitForURL(/\/$|#comment-\d+$/), spammer.click('button:has-text("Post comment")')]);

  // 7. The editor moderates from the queue.
  await admin.goto(base + '/admin/comments');
  check(await admin.locator('.admin-pending').isVisible(), 'the admin header counts the pending comments');
  await accessible(admin, 'the moderation queue');
  await screenshot(admin, 'comments');
  const held = admin.locator('li.queued', { hasText: HELD });
  check(await held.count() === 1, 'the held comment is in the queue');
  await Promise.all([admin.waitForURL(/done=1&action=approve/), held.locator('button[value^="approve:"]').click()]);
  check(await admin.getByText('1 comment approved.').isVisible(), 'approved from the queue');
  await stranger.reload();
  check((await stranger.content()).includes(HELD), 'the approved comment is published for everyone');
  // The other comment: wherever the filter put it, the editor marks it spam.
  for (const state of ['pending', 'approved']) {
    await admin.goto(`${base}/admin/comments?status=${state}`);
    const row = admin.locator('li.queued', { hasText: 'Cheap watches' });
    if (await row.count()) {
      await Promise.all([admin.waitForURL(/action=spam/), row.locator('button[value^="spam:"]').click()]);
    }
  }
  await admin.goto(base + '/admin/comments?status=spam');
  check(await admin.locator('li.queued', { hasText: 'Cheap watches' }).count() === 1, 'the other comment is in the spam folder');

  // 8. Sign out.
  await Promise.all([admin.waitForURL(/signed-out=1/), admin.click('button:has-text("Sign out")')]);
  check(await admin.getByText('You have signed out.').isVisible(), 'signed out');
  await admin.goto(base + '/admin/articles');
  check(new URL(admin.url()).pathname === '/admin/sign-in', 'signed out, the admin is closed again');

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
