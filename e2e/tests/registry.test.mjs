// The registry in a real browser: register, find, edit, history; Persian
// right to left; WCAG 2 A/AA checks on the main pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
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

test("a registrar registers a person in Persian script, finds them by either name, edits and sees history", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "registrar");
  await page.goto(lantern.base + "/people/new");
  await page.fill('[id="names[0].text"]', "مریم صادقی‌نژاد");
  await page.fill('[id="names[0].language"]', "fa");
  await page.fill('[id="names[1].text"]', "Maryam Sadeghinejad");
  await page.selectOption('[id="names[1].kind"]', "alias");
  await page.fill("#birth_date", "1979");
  await page.selectOption("#sex", "female");
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST"),
    page.click("form.person-form button[type=submit]"),
  ]);
  await page.waitForLoadState("load");
  // The demo registry holds other Maryams and Sadeghis: the form may first
  // list possible duplicates and ask to confirm a new registration.
  if ((await page.locator("#duplicates").count()) > 0) {
    assert.ok((await page.locator("#duplicates li").count()) > 0);
    await page.check('input[name="confirmed_new"]');
    await page.click("form.person-form button[type=submit]");
  }
  await page.waitForURL(/\/people\/[0-9a-f-]{36}$/);
  const personUrl = page.url();
  assert.equal(await page.locator("h1").innerText(), "مریم صادقی‌نژاد");

  // Found by the Persian-script name (typed with Arabic letter forms) …
  await page.goto(lantern.base + "/people?q=" + encodeURIComponent("مريم"));
  await assert.doesNotReject(page.locator(`a[href="${new URL(personUrl).pathname}"]`).first().waitFor());
  // … and by the Latin alias, typed into the live search.
  await page.goto(lantern.base + "/people");
  await page.fill("#q", "maryam sadeghin");
  await page.locator(`#results a[href="${new URL(personUrl).pathname}"]`).waitFor({ timeout: 10_000 });
  assert.match(page.url(), /q=maryam/);

  // Edit the birth date.
  await page.goto(personUrl + "/edit");
  await page.fill("#birth_date", "1979-06");
  await Promise.all([page.waitForURL(personUrl), page.click("form.person-form button[type=submit]")]);
  assert.match(await page.locator("dl.facts").first().innerText(), /1979-06/);

  // History: two versions, the change visible.
  await page.goto(personUrl + "/history");
  const history = await page.locator("ol.history").innerText();
  assert.match(history, /Version 2/);
  assert.match(history, /Version 1/);
  assert.match(history, /1979-06/);
  assert.match(history, /registrar/);
  await page.screenshot({ path: join(screenshots, "history-en.png"), fullPage: true });
  await page.close();
});

test("invalid input is shown next to its field and nothing is saved", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "registrar");
  await page.goto(lantern.base + "/people/new");
  await page.fill('[id="names[0].text"]', "Test Invalid");
  await page.fill("#birth_date", "1979-13-45");
  await page.click("form.person-form button[type=submit]");
  await page.locator("#birth_date-error").waitFor();
  assert.equal(await page.getAttribute("#birth_date", "aria-invalid"), "true");
  assert.equal(await page.inputValue('[id="names[0].text"]'), "Test Invalid");
  await page.goto(lantern.base + "/people?q=" + encodeURIComponent("test invalid"));
  assert.match(await page.locator("#results p").first().innerText(), /^0 people found$/);
  await page.close();
});

test("Persian pages are right to left and mirrored", async () => {
  const page = await browser.newPage();
  await login(page, lantern, "registrar");
  await page.goto(lantern.base + "/people");
  await Promise.all([page.waitForLoadState("load"), page.click('.lang-switch button[value="fa"]')]);
  await page.waitForFunction(() => document.documentElement.dir === "rtl");
  assert.equal(await page.getAttribute("html", "lang"), "fa");
  assert.equal(await page.locator("h1").innerText(), "افراد");
  // Mirrored: the navigation starts at the right edge.
  const brand = await page.locator(".brand").boundingBox();
  const viewport = page.viewportSize();
  assert.ok(brand.x > viewport.width / 2, `brand at x=${brand.x} should be on the right`);
  for (const [name, path] of [["people", "/people"], ["dashboard", "/"], ["new-person", "/people/new"], ["households", "/households"]]) {
    await page.goto(lantern.base + path);
    assert.equal(await page.getAttribute("html", "dir"), "rtl", path);
    await page.screenshot({ path: join(screenshots, `${name}-fa.png`), fullPage: true });
  }
  // Back to English for the other tests (the choice is stored per user).
  await page.click('.lang-switch button[value="en"]');
  await page.waitForFunction(() => document.documentElement.dir === "ltr");
  await page.close();
});

test("the main pages have no WCAG 2 A/AA violations, in English and Persian", async () => {
  const page = await browser.newPage();
  const pages = {
    anonymous: ["/login", "/status", "/request"],
    caseworker: ["/tracing", "/tracing/new"],
    registrar: ["/", "/people", "/people?q=hosseini", "/people/new", "/households", "/account"],
    auditor: ["/audit"],
    administrator: ["/admin/users", "/admin/sites"],
  };
  const failures = [];
  for (const lang of ["en", "fa"]) {
    for (const [account, paths] of Object.entries(pages)) {
      await page.context().clearCookies();
      if (account !== "anonymous") await login(page, lantern, account);
      await page.goto(lantern.base + paths[0]);
      if ((await page.getAttribute("html", "lang")) !== lang) {
        await Promise.all([page.waitForLoadState("load"), page.click(`.lang-switch button[value="${lang}"]`)]);
        await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      }
      for (const path of paths) {
        await page.goto(lantern.base + path);
        const violations = await axeViolations(page);
        if (violations.length) failures.push({ lang, path, violations });
      }
      // A person's page and history too (the first person in the list).
      if (account === "registrar") {
        await page.goto(lantern.base + "/people");
        const href = await page.locator("#results tbody a").first().getAttribute("href");
        for (const path of [href, href + "/history", href + "/edit"]) {
          await page.goto(lantern.base + path);
          const violations = await axeViolations(page);
          if (violations.length) failures.push({ lang, path, violations });
        }
        await page.screenshot({ path: join(screenshots, `person-edit-${lang}.png`), fullPage: true });
      }
      if (account !== "anonymous" && lang === "fa") {
        await page.click('.lang-switch button[value="en"]');
        await page.waitForFunction(() => document.documentElement.lang === "en");
      }
    }
  }
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
  await page.close();
});
