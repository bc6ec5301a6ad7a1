// Screenshots of Broadsheet's public pages, for looking at them as a reader would.
//
// Usage: node scripts/screenshots.mjs BASE_URL OUT_DIR [path ...]
//   e.g. node scripts/screenshots.mjs http://127.0.0.1:8097 /tmp/shots
//
// Drives Debian's Chromium (/usr/bin/chromium) with playwright-core, which never
// downloads a browser of its own. Each path is shot full-page on a phone
// (390x844 @2x, touch) and a desktop (1366x900), as OUT_DIR/<page>-<viewport>.png.
// Default paths: "/", the front page's lead article, "/category/news/",
// "/privacy/" and "/no-such-page/" (whose 404 is intended).
//
// For every page and viewport it records console errors, failed requests, HTTP
// responses >= 400 and horizontal overflow, prints a summary, and exits 1 if
// any of those turned up.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1366, height: 900 } },
};
const INTENDED_404 = '/no-such-page/';

const [base, outDir, ...givenPaths] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node scripts/screenshots.mjs BASE_URL OUT_DIR [path ...]');
  process.exit(2);
}

// A page's file-name stem: "/" is "front", "/category/news/" is "category-news".
const stem = (path) => new URL(path, base).pathname.replace(/^\/+|\/+$/g, '').replace(/[^\w.-]+/g, '-') || 'front';

async function defaultPages() {
  const html = await (await fetch(new URL('/', base))).text();
  const lead = html.match(/<h2 class="lead-headline"><a href="([^"]+)"/);
  if (!lead) throw new Error(`no <h2 class="lead-headline"><a href=...> on ${base}/`);
  return [['front', '/'], ['article', lead[1].replaceAll('&amp;', '&')], ['category-news', '/category/news/'],
    ['privacy', '/privacy/'], ['no-such-page', INTENDED_404]];
}

// Visits one page, saves its screenshot, and returns what went wrong there.
async function shoot(context, name, path, viewport) {
  const url = new URL(path, base).href;
  const intended = (u) => path === INTENDED_404 && u === url; // the 404 page's own document
  const problems = [];
  const page = await context.newPage();
  page.on('console', (msg) => {
    const quiet404 = intended(msg.location().url) && msg.text().startsWith('Failed to load resource');
    if (msg.type() === 'error' && !quiet404) problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`console error (uncaught): ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    if (res.status() >= 400 && !intended(res.url())) problems.push(`failed request: HTTP ${res.status()} ${res.url()}`);
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  // Load lazy images now, so the full-page shot shows them all.
  await page.evaluate(() => Promise.race([
    new Promise((done) => setTimeout(done, 10_000)),
    Promise.all([...document.images].map((img) => {
      img.loading = 'eager';
      return img.complete || new Promise((done) => { img.onload = img.onerror = done; });
    })),
  ]));
  const overflow = await page.evaluate(() => {
    // On an emulated phone window.innerWidth grows to fit content that is too
    // wide, hiding the overflow, so compare with the layout viewport's width too.
    const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
    const over = (el) => el.getBoundingClientRect().right > width + 0.5;
    if (document.documentElement.scrollWidth <= width) return null;
    // The innermost elements that stick out past the right edge.
    const culprits = [...document.body.querySelectorAll('*')]
      .filter((el) => over(el) && ![...el.children].some(over))
      .slice(0, 3)
      .map((el) => el.tagName.toLowerCase() + (el.className ? `.${String(el.className).trim().replace(/\s+/g, '.')}` : ''));
    return `horizontal overflow: scrollWidth ${document.documentElement.scrollWidth} > viewport width ${width}`
      + (culprits.length ? ` (sticking out: ${culprits.join(', ')})` : '');
  });
  if (overflow) problems.push(overflow);

  const file = `${name}-${viewport}.png`;
  await page.screenshot({ path: join(outDir, file), fullPage: true });
  await page.close();
  return { name, file, path, status: response?.status(), problems };
}

mkdirSync(outDir, { recursive: true });
const pages = givenPaths.length ? givenPaths.map((p) => [stem(p), p]) : await defaultPages();
const results = [];
for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  // A fresh profile for each viewport's browser, removed afterwards.
  const profile = mkdtempSync(join(tmpdir(), 'broadsheet-shots-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', args: ARGS, ...options,
  });
  try {
    for (const [name, path] of pages) results.push(await shoot(context, name, path, viewport));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// Page by page, phone before desktop.
const order = pages.map(([name]) => name);
results.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
for (const { file, path, status, problems } of results) {
  console.log(`${problems.length ? 'FAIL' : 'ok  '} ${file.padEnd(28)} HTTP ${status}  ${path}`);
  for (const problem of problems) console.log(`       ${problem}`);
}
const count = (word) => results.reduce((n, r) => n + r.problems.filter((p) => p.startsWith(word)).length, 0);
const bad = results.filter((r) => r.problems.length).length;
console.log(`\n${results.length} screenshots in ${outDir}: ${count('console error')} console errors, `
  + `${count('failed request')} failed requests, ${count('horizontal overflow')} with horizontal overflow.`);
console.log(bad ? `FAILED: problems on ${bad} of ${results.length} page views.` : 'All clean.');
process.exit(bad ? 1 : 0);
