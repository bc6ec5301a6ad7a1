// End-to-end check of reader search in a real browser (Debian's Chromium via
// playwright-core, which never downloads a browser of its own).
//
// Usage: node tests/browser/search.mjs      (after `cargo build`)
//   BROADSHEET_BIN  the binary to test (default: target/debug/broadsheet)
//   SCREENSHOT_DIR  where a screenshot of a failure goes (default: a fresh temp dir)
//
// It serves a fresh demo site and, as a reader would: types a word found only
// in the body of one demo article (not its headline or standfirst) into the
// masthead search box and presses Enter; lands on /search/{word}/ (where `/?s=`
// redirects), with the heading and title naming the word and the article among
// the top three results, the word in <mark> in its snippet; follows the result
// to the article's permalink, whose body has the word. Then, from the search
// form on the results page, searches for a nonsense word with markup in it:
// "No articles match" and recent stories are shown, and the query is shown as
// text, never as markup. Console errors and failed requests anywhere fail the
// run. Exit code 0 means everything passed.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, check, serve, stop, watch } from './lib/harness.mjs';

const DATA = mkdtempSync(join(tmpdir(), 'broadsheet-search-'));
// demo/articles/09-alden-heads-meteor-record.md: the observatory secretary's
// surname, twice in the body and in no headline, standfirst, tag, byline,
// caption or other demo article.
const WORD = 'Lindqvist';
const HEADLINE = 'Volunteer stargazers log record meteor count above the Alden Heads';
const SLUG = 'alden-heads-meteor-record';
const NONSENSE = 'zqxvortlump';
const MARKUP_QUERY = `${NONSENSE} <b>x</b>`;



const problems = [];
const watched = (page) => watch(page, problems);

const { server, addr } = serve(DATA);
let browser;
let page;
try {
  const base = `http://${await addr}`;
  console.log(`# serving ${base} from ${DATA}`);
  browser = await chromium.launch(CHROMIUM);
  const context = await browser.newContext();
  page = watched(await context.newPage());
  const resultsPath = `/search/${WORD.toLowerCase()}/`;

  // 1. The front page's masthead search box: type the word, press Enter.
  await page.goto(base + '/');
  const form = page.locator('form.masthead-search[role="search"]');
  check(await form.count() === 1 && await form.getAttribute('action') === '/'
    && (await form.getAttribute('method'))?.toLowerCase() === 'get',
  'the front page has the masthead search form (GET /)');
  const box = form.locator('input[name="s"]');
  check(await box.isVisible(), 'with a visible search box named "s"');
  await box.click();
  await page.keyboard.type(WORD);
  const [arrived] = await Promise.all([
    page.waitForNavigation({ url: (u) => u.pathname === resultsPath }),
    page.keyboard.press('Enter'),
  ]);
  const sent = arrived?.request().redirectedFrom()?.url();
  check(sent && new URL(sent).pathname === '/' && new URL(sent).searchParams.get('s') === WORD,
    `typed "${WORD}" + Enter sent /?s=${WORD} (${sent ? new URL(sent).pathname + new URL(sent).search : 'no redirect'})`);

  // 2. Redirected to /search/{word}/, with the article in the top three results.
  check(new URL(page.url()).pathname === resultsPath, `the browser ends on ${resultsPath}`);
  const title = await page.title();
  check(title.startsWith(`Search: ${WORD.toLowerCase()}`), `the page title names the word ("${title}")`);
  const h1 = (await page.locator('main h1').innerText()).trim();
  check(h1 === `Results for “${WORD.toLowerCase()}”`, `the heading says "${h1}"`);
  const results = page.locator('ol.search-results').first().locator('.search-result');
  const headlines = (await results.locator('.card-headline a').allInnerTexts()).map((t) => t.trim());
  const rank = headlines.indexOf(HEADLINE);
  check(rank >= 0 && rank < 3, `"${HEADLINE}" is result ${rank + 1} of ${headlines.length} (top 3 expected)`);
  const hit = results.nth(rank);
  const marks = (await hit.locator('.search-snippet mark').allInnerTexts()).map((t) => t.trim());
  check(marks.some((m) => m.toLowerCase() === WORD.toLowerCase()),
    `its snippet has <mark>${marks.find((m) => m.toLowerCase() === WORD.toLowerCase()) ?? WORD}</mark>`);

  // 3. The result's headline leads to the article's permalink.
  const link = hit.locator('.card-headline a');
  const href = await link.getAttribute('href');
  const permalink = new RegExp(`^/\\d{4}/\\d{2}/\\d{2}/${SLUG}/$`);
  await Promise.all([page.waitForURL((u) => permalink.test(u.pathname)), link.click()]);
  const articlePath = new URL(page.url()).pathname;
  check(articlePath === href, `clicking the headline lands on its permalink ${articlePath}`);
  const articleH1 = (await page.locator('article h1.headline').innerText()).trim();
  check(articleH1 === HEADLINE, `the article page's <h1> is the headline`);
  const body = await page.locator('article .article-body').innerText();
  check(body.includes(WORD), `the article body has "${WORD}" (${body.split(WORD).length - 1} times)`);

  // 4. Back on the results page, the search form there: a nonsense word with markup.
  await page.goBack();
  check(new URL(page.url()).pathname === resultsPath, `back on ${resultsPath}`);
  const again = page.locator('form.search-form #search-again');
  check(await again.inputValue() === WORD.toLowerCase(), 'the search form there holds the query');
  await again.fill(MARKUP_QUERY);
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith(`/search/${NONSENSE}`)), again.press('Enter')]);
  const nothingPath = new URL(page.url()).pathname;
  check(true, `searching "${MARKUP_QUERY}" from the results page leads to ${nothingPath}`);
  const empty = (await page.locator('main p.empty').innerText()).trim();
  check(empty.startsWith('No articles match') && empty.includes(NONSENSE), `it says "${empty}"`);
  const recent = page.locator('main section[aria-label="Recent stories"]');
  // textContent: the section title is shown in capitals by the style sheet.
  check(await recent.isVisible() && (await recent.locator('h2').textContent()).trim() === 'Recent stories',
    'the "Recent stories" section is shown');
  const cards = await recent.locator('article').count();
  check(cards > 0 && await recent.locator('article a').count() >= cards, `with ${cards} recent stories, linked`);
  check(await page.evaluate(() => document.querySelector('main b') === null), 'no <b> element was injected into the page');
  const shown = (await page.locator('main h1').innerText()).trim();
  check(shown.includes(NONSENSE) && !shown.includes('<') && await page.locator('main h1 *').count() === 0,
    `the query is shown as plain text ("${shown}")`);
  const kept = await page.locator('#search-again').inputValue();
  check(kept.includes(NONSENSE) && !kept.includes('<b>'), `the search box holds it as text ("${kept}")`);

  // 5. Nothing went wrong along the way.
  check(problems.length === 0, `no console errors or failed requests${problems.map((p) => `\n  ${p}`).join('')}`);
  console.log('PASS');
} catch (err) {
  console.error(`not ok - ${err.message}`);
  if (problems.length) console.error(`problems seen:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
  // The page as it was when the check failed, to look into.
  if (page && !page.isClosed()) {
    try {
      const dir = process.env.SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'broadsheet-search-shots-'));
      mkdirSync(dir, { recursive: true });
      const path = join(dir, 'search-failure.png');
      await page.screenshot({ path, fullPage: true });
      console.error(`# screenshot kept in ${path} (at ${page.url()})`);
    } catch { /* the browser may be gone */ }
  }
} finally {
  await browser?.close();
  await stop(server, DATA);
}
