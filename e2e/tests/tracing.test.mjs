// The family's whole path in a real browser: a family liaison files a
// request at the gate with a Latin spelling; the person is registered under
// Persian script only; the matching engine proposes them as the request is
// filed and the caseworker confirms; they agree to
// a visit but not to sharing where they live; the visit is booked and held;
// the family's status page shows exactly that, in English and in Persian.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startLantern, launchBrowser, login, axeViolations, screenshots } from "./harness.mjs";

/** A synthetic one-pixel PNG. */
const ONE_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGPQiFoAAAHQASMcErYsAAAAAElFTkSuQmCC";

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

/** Submits the form whose action ends with `action` and waits for the next page. */
async function submit(page, action) {
  await Promise.all([page.waitForLoadState("load"), page.click(`form[action$="${action}"] button[type=submit]`)]);
}

test("a family traced across scripts is visited, and sees only what the person allowed", async () => {
  const staff = await browser.newContext();
  const page = await staff.newPage();

  // A visiting room (open at any time).
  await login(page, lantern, "administrator");
  await page.goto(lantern.base + "/admin/rooms");
  await page.fill("#visit_room_name", "Gate family room");
  await page.fill("#capacity", "3");
  await submit(page, "/admin/visit-rooms");
  assert.ok((await page.textContent("main")).includes("Gate family room"));
  const site = (await page.locator("#visit_site_id option").first().textContent()).trim();

  // The person, registered under Persian script only.
  await staff.clearCookies();
  await login(page, lantern, "registrar");
  await page.goto(lantern.base + "/people/new");
  await page.fill('[name="names[0].text"]', "بهزاد کیان‌پور");
  await page.fill("#birth_date", "1968");
  await submit(page, "/people");
  if (await page.locator('button[name="confirm_new"]').count()) {
    await Promise.all([page.waitForLoadState("load"), page.click('button[name="confirm_new"]')]);
  }

  // The family at the gate, with a Latin spelling.
  await staff.clearCookies();
  await login(page, lantern, "family-liaison");
  await page.goto(lantern.base + "/tracing/new");
  await page.selectOption("#kind", "visit");
  await page.selectOption("#channel", "gate");
  await page.fill("#names", "Behzad Kianpour");
  await page.fill("#birth_date", "1968");
  await page.fill("#requester_name", "A sister (synthetic)");
  await page.fill("#relationship", "sister");
  await page.fill("#contact", "+00 555 0142");
  // A photo the family brought (a synthetic one-pixel PNG).
  await page.setInputFiles("#photo", {
    name: "brother.png",
    mimeType: "image/png",
    buffer: Buffer.from(ONE_PIXEL_PNG, "base64"),
  });
  await submit(page, "/tracing");
  const reference = (await page.locator("dd strong").first().textContent()).trim();
  const secret = (await page.textContent("#secret")).trim();
  assert.match(reference, /^TR-\d{8}$/);

  // The caseworker searches across scripts and confirms.
  await staff.clearCookies();
  await login(page, lantern, "caseworker");
  await page.goto(lantern.base + "/tracing");
  await Promise.all([page.waitForLoadState("load"), page.click(`a:has-text("${reference}")`)]);
  const request = page.url();
  // The engine ran when the request was filed: the candidate is waiting.
  const candidate = page.locator("table.list tbody tr", { hasText: "بهزاد کیان‌پور" });
  assert.equal(await candidate.count(), 1, "the Persian-script registration is a candidate");
  // Why: each word of the request against the registration's.
  assert.ok((await candidate.textContent()).includes("same consonants"));
  // The family's photo is shown to staff.
  const photoWidth = await page.locator('img[src$="/photo"]').evaluate((img) => img.naturalWidth);
  assert.equal(photoWidth, 1);
  // The correction form (more spellings as the family remembers them)
  // passes WCAG 2 A/AA too.
  await page.goto(request.replace(/\/?$/, "") + "/edit");
  assert.ok((await page.inputValue("#names")).includes("Behzad Kianpour"));
  assert.deepEqual(await axeViolations(page), []);
  await page.goto(request);
  await Promise.all([page.waitForLoadState("load"), candidate.locator('button[value="confirm"]').click()]);
  await page.selectOption("#state", "consent_requested");
  await submit(page, "/state");

  // A visit, but not the location.
  await page.check('input[name="scope"][value="alive_and_registered"]');
  await page.check('input[name="scope"][value="visit"]');
  await page.selectOption("#method", "verbal_witnessed");
  await page.fill("#witness", "Site officer (synthetic)");
  await submit(page, "/consent");

  // The visit is booked and held.
  await page.goto(request);
  const room = await page.locator("#room_id option", { hasText: "Gate family room" }).getAttribute("value");
  await page.selectOption("#room_id", room);
  await page.fill("#date", "2026-12-03");
  await page.fill("#time", "10:00");
  await page.fill("#minutes", "60");
  await page.fill("#visitors", "A sister (synthetic)");
  await submit(page, "/visits");
  assert.match(page.url(), /\/visits$/);
  const outcome = page.locator('form[action$="/outcome"]');
  await outcome.locator("select").selectOption("held");
  await Promise.all([page.waitForLoadState("load"), outcome.locator("button").click()]);
  assert.ok((await page.textContent("#visits-h + ol")).includes("Held"));
  await page.screenshot({ path: join(screenshots, "tracing-visit.png"), fullPage: true });
  // The request page, with its visits, messages and forms, passes WCAG 2 A/AA.
  assert.deepEqual(await axeViolations(page), []);
  await page.goto(request.replace(/\/?$/, "") + "/messages");
  assert.deepEqual(await axeViolations(page), []);

  // The family's status page, in both languages.
  const family = await browser.newContext();
  const status = await family.newPage();
  for (const [lang, alive, visit] of [
    ["en", "The person is alive and registered here.", "Visit"],
    ["fa", "این شخص زنده است و اینجا ثبت شده است.", "دیدار"],
  ]) {
    await status.goto(lantern.base + "/status");
    if ((await status.getAttribute("html", "lang")) !== lang) {
      await Promise.all([status.waitForLoadState("load"), status.click(`.lang-switch button[value="${lang}"]`)]);
    }
    await status.fill("#reference", reference);
    await status.fill("#secret", secret);
    await submit(status, "/status");
    const seen = await status.textContent("main");
    assert.ok(seen.includes(alive), `${lang}: ${seen}`);
    assert.ok(seen.includes(visit) && seen.includes("2026-12-03 10:00 UTC, Gate family room"), `${lang}: ${seen}`);
    assert.ok(!seen.includes(site), `${lang}: the site where the person lives is not shown: ${seen}`);
    await status.screenshot({ path: join(screenshots, `family-status-${lang}.png`), fullPage: true });
    assert.deepEqual(await axeViolations(status), [], lang);
  }
  await family.close();
  await staff.close();
});
