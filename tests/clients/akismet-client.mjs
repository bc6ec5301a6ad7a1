// An existing Akismet client library (@cedx/akismet from npm), unchanged,
// pointed at a real Broadsheet server: verify-key, comment-check (ham, spam,
// pervasive spam, Akismet's test values), submit-spam and submit-ham.
//
//   node tests/clients/akismet-client.mjs      (after `cargo build` and `npm ci`)
//
// BROADSHEET_BIN overrides the server binary (default target/debug/broadsheet).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Author, Blog, CheckResult, Client, Comment } from '@cedx/akismet';

const bin = process.env.BROADSHEET_BIN ?? 'target/debug/broadsheet';
const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-akismet-'));
const cli = (...args) => execFileSync(bin, ['--data-dir', dataDir, ...args], { encoding: 'utf8' }).trim();
const failures = [];
const expect = (what, ok) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };

const key = cli('apikey', 'create', '--site', 'https://blog.example.org');
const server = spawn(bin, ['--data-dir', dataDir, '--addr', '127.0.0.1:0', '--log-format', 'json', 'serve', '--no-demo']);
try {
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 30_000);
    createInterface({ input: server.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.fields?.message === 'serving') { clearTimeout(timer); resolve(entry.fields.addr); }
      } catch { /* the first-start banner is not JSON */ }
    });
  });
  const blog = new Blog({ url: 'https://blog.example.org', charset: 'UTF-8', languages: ['en'] });
  const client = new Client(key, blog, { baseUrl: `http://${addr}` });
  const reader = (extra = {}) => new Author({ ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', name: 'Sam', email: 'sam@example.org', ...extra });

  expect('verifyKey() with a valid key', await client.verifyKey() === true);
  expect('verifyKey() with an unknown key', await new Client('unknownkey12', blog, { baseUrl: `http://${addr}` }).verifyKey() === false);

  const ham = new Comment({ author: reader(), content: 'The council should publish the ferry timetable before the trial starts.', type: 'comment' });
  expect('checkComment(): a reader\'s comment is ham', await client.checkComment(ham) === CheckResult.ham);
  const spam = new Comment({ author: reader({ name: 'Bob' }), content: 'Check out my channel subscribe http://bit.ly/x', type: 'comment' });
  const spamResult = await client.checkComment(spam);
  expect('checkComment(): channel spam is spam', spamResult === CheckResult.spam || spamResult === CheckResult.pervasiveSpam);
  expect('checkComment(): … and pervasive (X-akismet-pro-tip: discard)', spamResult === CheckResult.pervasiveSpam);
  const guaranteed = new Comment({ author: reader({ name: 'akismet-guaranteed-spam' }), content: 'Hello', type: 'comment' });
  expect('checkComment(): the documented test author is spam', await client.checkComment(guaranteed) !== CheckResult.ham);
  const admin = new Comment({ author: reader({ role: 'administrator' }), content: 'Check out my channel subscribe http://bit.ly/x', type: 'comment' });
  expect('checkComment(): user_role=administrator is ham', await client.checkComment(admin) === CheckResult.ham);

  let submitted = true;
  try { await client.submitSpam(spam); await client.submitHam(ham); } catch (error) { submitted = false; console.error(error); }
  expect('submitSpam() and submitHam() are thanked', submitted);
} catch (error) {
  failures.push(String(error));
  console.error(error);
} finally {
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('the Akismet client library works unchanged against Broadsheet');
