// Status and resettlement cases in a real browser: an interviewer opens a
// case, bulk-schedules a day of interviews, holds one with someone else in
// the room (an obstacle), records the decision, and sees the pipeline and
// its obstacle count change; the HXL export passes libhxl's validator; the
// case and interview pages pass WCAG 2 A/AA checks in English and Persian.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
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

/** A figure of the pipeline table: the row of a step label, column 1 = now, 2 = reached. */
async function pipelineFigure(page, rowLabel, column) {
  const row = page.locator("table.list tbody tr", { has: page.locator("th", { hasText: rowLabel }) }).first();
  if ((await row.count()) === 0) return 0;
  return Number(await row.locator("td").nth(column - 1).innerText());
}

test("an interviewer bulk-schedules a day, holds an interview with someone else present, records the decision; the pipeline and the HXL export show it", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "interviewer");
  await page.goto(lantern.base + "/cases/pipeline");
  const interviewedBefore = await pipelineFigure(page, "Interviewed", 2);
  const presentBefore = await pipelineFigure(page, "Another person present at the interview", 1);

  // A resident without a case, from the demo's people: open one and bring
  // it to the interview queue.
  await page.goto(lantern.base + "/people");
  const links = await page.locator("#results tbody a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  let resident = null;
  for (const href of links) {
    await page.goto(lantern.base + href);
    const open = page.locator('form[action="/cases"] button[type=submit]');
    if ((await open.count()) === 0 || (await page.locator("#cases-h + ul").count()) > 0) continue;
    resident = (await page.locator("h1").innerText()).trim();
    await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), open.click()]);
    break;
  }
  assert.ok(resident, "found a resident without a case");
  const caseUrl = page.url();
  for (const step of ["registration_verified", "interview_requested"]) {
    await page.selectOption("#step", step);
    await Promise.all([page.waitForURL(caseUrl), page.click('form[action$="/step"] button[type=submit]')]);
  }
  const siteName = (await page.locator(".facts dt:has-text('Site') + dd").innerText()).trim();

  // Bulk-schedule tomorrow at the resident's site.
  await page.goto(lantern.base + "/interviews");
  const siteId = await page.locator("#site option", { hasText: siteName }).getAttribute("value");
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await page.goto(`${lantern.base}/interviews?site=${siteId}&date=${tomorrow}`);
  await Promise.all([page.waitForLoadState("load"), page.click('form[action="/interviews/bulk"] button[type=submit]')]);
  assert.match(await page.locator(".notice").innerText(), /interviews? booked/);
  await page.screenshot({ path: join(screenshots, "day-plan-en.png"), fullPage: true });

  // Hold the resident's interview: someone else was in the room.
  await Promise.all([page.waitForLoadState("load"), page.locator("table.list tbody a", { hasText: resident }).first().click()]);
  await page.fill("#others_present", "a visitor");
  await Promise.all([page.waitForLoadState("load"), page.click('button[name="outcome"][value="held"]')]);
  assert.match(await page.locator("table.list").innerText(), /Held/);
  // The decision.
  await page.goto(caseUrl);
  assert.match(await page.locator("#obstacles + table").innerText(), /a visitor/);
  await page.selectOption("#step", "recognised");
  await Promise.all([page.waitForURL(caseUrl), page.click('form[action$="/step"] button[type=submit]')]);
  assert.match(await page.locator(".facts").innerText(), /Recognised/);

  await page.goto(lantern.base + "/cases/pipeline");
  assert.equal(await pipelineFigure(page, "Interviewed", 2), interviewedBefore + 1);
  assert.equal(await pipelineFigure(page, "Another person present at the interview", 1), presentBefore + 1);
  await page.screenshot({ path: join(screenshots, "pipeline-en.png"), fullPage: true });

  // The export, as the browser downloads it, is valid HXL.
  const response = await page.request.get(lantern.base + "/cases/pipeline.csv");
  assert.equal(response.status(), 200);
  const csv = await response.text();
  assert.match(csv.split("\r\n")[1], /^#date,#loc\+name,/);
  assert.ok(!csv.includes(resident), "no personal data in the aggregate export");
  const venv = process.env.LANTERN_VENV;
  assert.ok(venv, "LANTERN_VENV names the Python environment with libhxl (scripts/test.sh sets it)");
  const dir = mkdtempSync(join(tmpdir(), "lantern-hxl-"));
  try {
    writeFileSync(join(dir, "pipeline.csv"), csv);
    const out = execFileSync(join(venv, "bin", "hxlvalidate"), [join(dir, "pipeline.csv")], { encoding: "utf8" });
    assert.match(out, /Validation succeeded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await page.close();
});

test("the case pages have no WCAG 2 A/AA violations, in English and Persian", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "interviewer");
  await page.goto(lantern.base + "/cases");
  const first = await page.locator("table.list tbody a").first().getAttribute("href");
  const failures = [];
  for (const lang of ["en", "fa"]) {
    await page.goto(lantern.base + "/cases");
    if ((await page.getAttribute("html", "lang")) !== lang) {
      await Promise.all([page.waitForLoadState("load"), page.click(`.lang-switch button[value="${lang}"]`)]);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    }
    for (const path of ["/cases", "/cases?step=interview_requested", first, first + "/interviews", "/interviews", "/cases/pipeline"]) {
      await page.goto(lantern.base + path);
      const violations = await axeViolations(page);
      if (violations.length) failures.push({ lang, path, violations });
    }
    await page.screenshot({ path: join(screenshots, `pipeline-${lang}.png`), fullPage: true });
  }
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
  await page.close();
});
