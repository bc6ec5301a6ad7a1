// WordPress's own Akismet plugin, unchanged, talking to Broadsheet through
// the bridge plugin: run by scripts/wordpress-check.sh, which starts
// WordPress (nginx, PHP-FPM, MariaDB) and Broadsheet and passes their
// addresses. As the site's owner in Chromium: set the server in the bridge's
// settings, enter the key in Akismet's, see it active and its statistics.
// As readers: comments posted to wp-comments-post.php are approved, caught
// or discarded. As a moderator: the Spam / Not Spam links teach Broadsheet.
import { chromium } from 'playwright-core';
import { CHROMIUM, check } from '../browser/lib/harness.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/wordpress-check.sh`);
  return value;
};
const WP = env('WP_URL');
const BROADSHEET = env('BROADSHEET_URL');
const KEY = env('AKISMET_KEY');
const USER = env('WP_USER');
const PASSWORD = env('WP_PASSWORD');

const LEGIT = 'The council\'s ferry timetable should be out before the trial starts, so that families on the islands can plan their "long" weekends.';
// How WordPress shows it (it curls the quotes).
const LEGIT_SHOWN = 'ferry timetable should be out before the trial starts';
const SPAM = 'Buy cheap viagra and cialis online without prescription at http://cheap-pills.example.com best prices guaranteed';
const BLATANT = 'Check out my new video on my channel, please subscribe and like it!';

// A reader's comment, as the theme's form sends it (no cookies: not signed in).
async function comment(author, email, url, text) {
  const body = new URLSearchParams({ comment_post_ID: '1', comment_parent: '0', author, email, url, comment: text });
  const response = await fetch(`${WP}/wp-comments-post.php`, {
    method: 'POST',
    redirect: 'manual',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      referer: `${WP}/?p=1`,
    },
  });
  return { status: response.status, location: response.headers.get('location') ?? '' };
}

// Broadsheet's figures for the key, as the plugin reads them.
async function stats() {
  const body = new URLSearchParams({ key: KEY, blog: WP, from: 'all' });
  const response = await fetch(`${BROADSHEET}/1.1/get-stats`, { method: 'POST', body });
  return response.json();
}

const browser = await chromium.launch(CHROMIUM);
try {
  const page = await (await browser.newContext()).newPage();
  const elsewhere = [];
  page.on('request', (req) => {
    const host = new URL(req.url()).hostname;
    if (host.endsWith('akismet.com')) elsewhere.push(req.url());
  });

  await page.goto(`${WP}/wp-login.php`);
  await page.fill('#user_login', USER);
  await page.fill('#user_pass', PASSWORD);
  await Promise.all([page.waitForURL(/\/wp-admin\//), page.click('#wp-submit')]);
  check(true, 'the site owner signs in to WordPress');

  // 1. The bridge's settings: a bad address is refused, Broadsheet's is connected.
  const bridge = `${WP}/wp-admin/options-general.php?page=broadsheet-akismet-bridge`;
  await page.goto(bridge);
  await page.fill('#broadsheet-akismet-url', 'ftp://news.example.org');
  await Promise.all([page.waitForURL(/settings-updated=true/), page.click('#submit')]);
  const refusal = await page.locator('.wrap').innerText();
  const refused = refusal.includes('starts with https://');
  check(refused, `the bridge refuses an address that is not http(s)${refused ? '' : ` (${refusal.slice(0, 300)})`}`);
  await page.fill('#broadsheet-akismet-url', BROADSHEET);
  await Promise.all([page.waitForURL(/settings-updated=true/), page.click('#submit')]);
  const status = await page.locator('#broadsheet-akismet-status').innerText();
  check(status.includes('Connected'), `the bridge's settings page says it is connected ("${status}")`);

  // 2. Akismet's settings: the key, entered by hand, kept whole and active.
  const akismet = `${WP}/wp-admin/options-general.php?page=akismet-key-config`;
  await page.goto(akismet);
  await page.getByText('Manually enter an API key').click();
  await page.fill('.enter-api-key #key', KEY);
  await Promise.all([page.waitForLoadState('load'), page.click('.enter-api-key #submit')]);
  await page.goto(akismet);
  const settings = await page.locator('#akismet-plugin-container').innerText();
  check(await page.inputValue('#key') === KEY, 'Akismet keeps the key as entered (12 hex digits survive its cleaning)');
  check(/Status\s+Active/.test(settings), 'the Akismet settings page shows the key as active');
  check(settings.includes('Broadsheet (self-hosted)'), 'it names the subscription as Broadsheet\'s');
  check(!settings.includes("can't connect") && !settings.includes('can’t connect'), 'no "can\'t connect to the Akismet servers" notice');
  // Entering a key resets Akismet's strictness; the owner chooses to discard the worst spam.
  await page.check('#akismet_strictness_1');
  await Promise.all([page.waitForLoadState('load'), page.click('#akismet-plugin-container input#submit')]);
  await page.goto(akismet);
  check(await page.isChecked('#akismet_strictness_1'), 'Akismet is set to discard the worst spam');

  // 3. Readers' comments through wp-comments-post.php.
  const legit = await comment('Ana Reader', 'ana@example.org', '', LEGIT);
  check(legit.status === 302 && /#comment-\d+$/.test(legit.location) && !legit.location.includes('unapproved'),
    `a legitimate comment is approved (${legit.location})`);
  const spam = await comment('Pills', 'pills@example.com', 'http://cheap-pills.example.com', SPAM);
  check(spam.status === 302, 'the spam comment is taken');
  const blatant = await comment('Vlogger', 'vlogger@example.com', 'http://channel.example.com', BLATANT);
  check(blatant.status === 302 && !blatant.location.includes('#comment-'), `the blatant spam is discarded (sent back to ${blatant.location})`);

  const list = async (status) => {
    await page.goto(`${WP}/wp-admin/edit-comments.php?comment_status=${status}`);
    return page.locator('#the-comment-list').innerText();
  };
  check((await list('approved')).includes(LEGIT_SHOWN), 'the legitimate comment is among the approved');
  const spamList = await list('spam');
  check(spamList.includes(SPAM), 'the spam comment is in WordPress\'s spam folder');
  check(!spamList.includes(BLATANT) && !(await list('all')).includes(BLATANT), 'the blatant spam was not kept anywhere');

  let figures = await stats();
  check(figures.spam === 2 && figures.ham === 1, `Broadsheet counted the checks (spam ${figures.spam}, ham ${figures.ham})`);

  // 4. The moderator corrects the filter with WordPress's own links.
  await page.goto(`${WP}/wp-admin/edit-comments.php?comment_status=approved`);
  const legitRow = page.locator('#the-comment-list tr', { hasText: LEGIT_SHOWN });
  await legitRow.hover();
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('admin-ajax.php') && r.request().method() === 'POST'),
    legitRow.locator('.row-actions .spam a').click(),
  ]);
  await page.goto(`${WP}/wp-admin/edit-comments.php?comment_status=spam`);
  const spamRow = page.locator('#the-comment-list tr', { hasText: SPAM });
  await spamRow.hover();
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('admin-ajax.php') && r.request().method() === 'POST'),
    spamRow.locator('.row-actions .unspam a').click(),
  ]);
  figures = await stats();
  check(figures.missed_spam === 1 && figures.false_positives === 1,
    `the Spam and Not Spam links reached Broadsheet (missed spam ${figures.missed_spam}, false positives ${figures.false_positives})`);
  // 5. The statistics on Akismet's settings page come from Broadsheet.
  await page.goto(akismet);
  const withStats = await page.locator('#akismet-plugin-container').innerText();
  const shown = /spam blocked/i.test(withStats) && /1 missed spam \| 1 false positive/i.test(withStats);
  check(shown, `the Akismet settings page shows the statistics${shown ? '' : ` (${withStats.slice(0, 600)})`}`);
  check(withStats.includes(`${figures.accuracy}%`), `… with Broadsheet's accuracy (${figures.accuracy}%)`);
  check(elsewhere.length === 0, `nothing was asked of akismet.com (${elsewhere.join(', ') || 'no requests'})`);
} finally {
  await browser.close();
}
