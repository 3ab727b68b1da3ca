// Evidence in a real browser: a documenter uploads a file through the form
// (the browser sends the CSRF token first, so the server streams the file
// into the vault without holding it), sees its hash and chain of custody,
// downloads it back byte for byte, records a hand-over; the pages pass WCAG
// 2 A/AA checks in English and Persian.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLantern, launchBrowser, login, axeViolations, screenshots } from "./harness.mjs";

let lantern;
let browser;

before(async () => {
  lantern = await startLantern();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  lantern?.stop();
});

test("a documenter uploads, downloads and hands over an evidence file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lantern-evidence-"));
  // Larger than one sealing batch and one upload part; synthetic.
  const content = Buffer.alloc(9 * 1024 * 1024 + 123, "synthetic scanned page ");
  const file = join(dir, "statement-scan.pdf");
  writeFileSync(file, content);
  const sha = createHash("sha256").update(content).digest("hex");

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await login(page, lantern, "documenter");
  await page.goto(lantern.base + "/evidence");
  await page.fill("#title", "Scanned statement, synthetic");
  await page.fill("#description", "Twelve pages, received on paper");
  await page.fill("#received_from", "A former resident");
  await page.setInputFiles("#file", file);
  await Promise.all([page.waitForURL(/\/evidence\/[0-9a-f-]{36}$/), page.click('form[action="/evidence"] button[type=submit]')]);
  const record = page.url();
  assert.ok((await page.textContent("main")).includes(sha), "the page shows the file's SHA-256");
  await page.screenshot({ path: join(screenshots, "evidence-en.png"), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent("download"), page.click(`a[href$="/download"]`)]);
  const saved = join(dir, "downloaded");
  await download.saveAs(saved);
  assert.equal(download.suggestedFilename(), "statement-scan.pdf");
  assert.equal(createHash("sha256").update(readFileSync(saved)).digest("hex"), sha);

  await page.goto(record);
  await page.fill("#to", "Legal adviser");
  await page.fill("#method", "Sealed envelope");
  await Promise.all([page.waitForURL(record), page.click(`form[action$="/transfer"] button[type=submit]`)]);
  const custody = await page.textContent("ol.timeline");
  for (const step of ["Received", "Opened", "Handed over"]) assert.ok(custody.includes(step), `${step} in ${custody}`);

  const failures = [];
  for (const lang of ["en", "fa"]) {
    if ((await page.getAttribute("html", "lang")) !== lang) {
      await Promise.all([page.waitForLoadState("load"), page.click(`.lang-switch button[value="${lang}"]`)]);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    }
    for (const path of ["/evidence", new URL(record).pathname]) {
      await page.goto(lantern.base + path);
      const violations = await axeViolations(page);
      if (violations.length) failures.push({ lang, path, violations });
    }
  }
  await page.screenshot({ path: join(screenshots, "evidence-fa.png"), fullPage: true });
  await page.click('.lang-switch button[value="en"]');
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
  await context.close();
  rmSync(dir, { recursive: true, force: true });
});
