// Status and resettlement cases in a real browser: an interviewer opens a
// case, records its steps, records an interview held with someone else in
// the room, and sees the pipeline and its obstacle count change; the HXL
// export passes libhxl's validator; the case pages pass WCAG 2 A/AA checks
// in English and Persian.
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

test("an interviewer moves a case along and the pipeline shows it, with a valid HXL export", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "interviewer");
  await page.goto(lantern.base + "/cases/pipeline");
  const interviewedBefore = await pipelineFigure(page, "Interviewed", 2);
  const presentBefore = await pipelineFigure(page, "Another person present at the interview", 1);

  // A resident without a case: register-free, from the demo's people.
  await page.goto(lantern.base + "/people");
  const links = await page.locator("#results tbody a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  let opened = false;
  for (const href of links) {
    await page.goto(lantern.base + href);
    const open = page.locator('form[action="/cases"] button[type=submit]');
    if ((await open.count()) === 0 || (await page.locator("#cases-h + ul").count()) > 0) continue;
    await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), open.click()]);
    opened = true;
    break;
  }
  assert.ok(opened, "found a resident without a case");
  const caseUrl = page.url();
  for (const step of ["registration_verified", "interview_requested", "interview_scheduled", "interviewed"]) {
    await page.selectOption("#step", step);
    await Promise.all([page.waitForURL(caseUrl), page.click('form[action$="/step"] button[type=submit]')]);
  }
  assert.match(await page.locator(".facts").innerText(), /Interviewed/);
  // The interview was not private: recorded as an obstacle.
  await page.selectOption("#obstacle", "other_person_present");
  await page.fill("#by_whom", "a visitor");
  await Promise.all([page.waitForLoadState("load"), page.click('form[action$="/obstacles"] button[type=submit]')]);
  assert.match(await page.locator("#obstacles + table").innerText(), /a visitor/);
  // The decision.
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
    for (const path of ["/cases", "/cases?step=interview_requested", first, "/cases/pipeline"]) {
      await page.goto(lantern.base + path);
      const violations = await axeViolations(page);
      if (violations.length) failures.push({ lang, path, violations });
    }
    await page.screenshot({ path: join(screenshots, `pipeline-${lang}.png`), fullPage: true });
  }
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
  await page.close();
});
