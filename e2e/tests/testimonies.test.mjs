// Testimonies and dossiers in a real browser: a documenter records a
// testimony in Persian with a photo, records the witness's agreement to
// share with a recipient, builds a dossier that withholds the witness's
// identity and downloads it; the dossier is checked offline with the
// command-line verifier, and the external official it was made for finds
// and downloads the same dossier. The pages pass WCAG 2 A/AA checks in
// English and Persian. All names and text are synthetic.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
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

// A one-pixel PNG, then filler so the file is distinct to this run.
const PNG = Buffer.concat([
  Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64"),
  Buffer.from(`synthetic photo ${Date.now()}`),
]);
const WITNESS = "مریم حسین‌زاده";
const NARRATIVE = "در تابستان آن سال ما را بدون هیچ حکمی به ساختمان شماره سه بردند و هفته‌ها اجازهٔ تماس با خانواده نداشتیم.";
const RECIPIENT = "Synthetic Human Rights Committee";

/** Runs the verifier; returns its exit code and report. */
function verify(file, key) {
  const bin = process.env.LANTERN_BIN || join(import.meta.dirname, "..", "..", "target", "debug", "lantern");
  try {
    return { code: 0, out: execFileSync(bin, ["verify", file, "--key", key], { encoding: "utf8" }) };
  } catch (e) {
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

async function download(page, selector, path) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  await file.saveAs(path);
  return readFileSync(path);
}

test("a documenter records a Persian testimony with a photo and sends a verifiable dossier", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lantern-dossier-"));
  const photo = join(dir, "photo.png");
  writeFileSync(photo, PNG);
  const photoSha = createHash("sha256").update(PNG).digest("hex");

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await login(page, lantern, "documenter");

  // The recipient, received by the demo's external-official account.
  await page.goto(lantern.base + "/dossiers");
  await page.fill("#recipient_name", RECIPIENT);
  await page.selectOption("#recipient_kind", "parliamentarian");
  await page.fill("#recipient_language", "fa");
  await page.check('input[name="officials"]');
  await Promise.all([page.waitForURL(/\/dossiers#recipients$/), page.click('form[action="/dossiers/recipients"] button[type=submit]')]);
  assert.ok((await page.textContent("#recipients")).includes(RECIPIENT));

  // The testimony, in Persian, with a new event, an act and the photo.
  await page.goto(lantern.base + "/testimonies/new");
  await page.selectOption("#witness_kind", "sealed");
  await page.fill("#witness_name", WITNESS);
  await page.fill("#pseudonym", "Witness M");
  await page.fill("#language", "fa");
  await page.fill("#narrative", NARRATIVE);
  await page.fill("#event_title", "بازداشت در ساختمان سه");
  await page.fill("#event_start", "2012");
  await page.fill("#event_place", "اردوگاه");
  await page.selectOption('[id="acts[0].act_type"]', "arbitrary_detention");
  await page.fill('[id="acts[0].victims"]', "علی رضایی");
  await page.setInputFiles("#file", photo);
  await page.fill("#evidence_title", "Photo of the building (synthetic)");
  await Promise.all([page.waitForURL(/\/testimonies\/[0-9a-f-]{36}$/), page.click('form[action="/testimonies"] button[type=submit]')]);
  const testimony = page.url();
  const testimonyId = new URL(testimony).pathname.split("/").pop();
  const ours = `input[name="testimonies"][value="${testimonyId}"]`;
  const main = await page.textContent("main");
  assert.ok(main.includes(NARRATIVE), "the narrative is shown in its own script");
  assert.ok((await page.textContent("#witness")).includes(WITNESS), "a documenter sees the witness");
  const eventPage = await page.getAttribute('section[aria-labelledby="events-h"] a[href^="/events/"]', "href");
  await page.screenshot({ path: join(screenshots, "testimony-en.png"), fullPage: true });

  // Found by a Latin spelling of the witness's name (documenters see it).
  await page.goto(lantern.base + "/search");
  await page.fill("#q", "Maryam");
  await Promise.all([page.waitForURL(/\/search\?q=Maryam$/), page.click('form[action="/search"] button[type=submit]')]);
  assert.ok(await page.locator(`ol.results a[href="${new URL(testimony).pathname}"]`).count() === 1, "found by search");

  // A dossier cannot be built before the witness agrees.
  await page.goto(lantern.base + "/dossiers");
  await page.fill("#title", "Detention at building three");
  await page.fill("#purpose", "For the committee's hearing on detention");
  await page.selectOption("#recipient", { label: RECIPIENT });
  await page.check(ours);
  await page.click('form[action="/dossiers"] button[type=submit]');
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /Testimonies/);

  // The witness agrees to share with this recipient.
  await page.goto(testimony);
  await page.selectOption("#recipient", { label: RECIPIENT });
  await page.selectOption("#decision", "given");
  await page.fill("#how", "Verbally, with a second staff member present");
  await Promise.all([page.waitForURL(/#sharing$/), page.click('form[action$="/sharing"] button[type=submit]')]);
  assert.ok((await page.textContent("#sharing")).includes("Agreed to share"));

  // The dossier, withholding the witness's identity (checked by default).
  await page.goto(lantern.base + "/dossiers");
  assert.ok(await page.isChecked('input[name="redaction"][value="witness_identity"]'));
  await page.fill("#title", "Detention at building three");
  await page.fill("#purpose", "For the committee's hearing on detention");
  await page.selectOption("#recipient", { label: RECIPIENT });
  await page.check(ours);
  await Promise.all([page.waitForURL(/\/dossiers\/[0-9a-f-]{36}$/), page.click('form[action="/dossiers"] button[type=submit]')]);
  const dossier = page.url();
  const key = (await page.textContent("#ledger-key")).trim();
  const bundle = join(dir, "dossier.zip");
  const bytes = await download(page, 'a[href$="/bundle"]', bundle);

  // Offline check with the command line, and what the file holds: the
  // bundle is stored uncompressed, so its bytes show what it discloses.
  const report = verify(bundle, key);
  assert.equal(report.code, 0, report.out);
  assert.match(report.out, /Result: VALID/);
  assert.match(report.out, /withheld \(redacted\): .*witness/);
  assert.ok(bytes.includes(Buffer.from(NARRATIVE)), "the narrative is disclosed");
  assert.ok(!bytes.includes(Buffer.from(WITNESS.split(" ")[1])), "the witness's family name is not in the bundle");
  assert.ok(bytes.includes(PNG), "the photo is in the bundle");
  assert.ok(bytes.includes(Buffer.from('<html lang="fa" dir="rtl">')), "the summary is in the recipient's language");
  assert.ok(bytes.includes(Buffer.from("پنهان‌شده")), "the summary says what is withheld, in Persian");
  // The PDF summary opens in an independent reader (PyMuPDF), which reads
  // its text back: the title, and the Persian narrative in logical order.
  const venv = process.env.LANTERN_VENV;
  assert.ok(venv, "LANTERN_VENV names the Python environment with pymupdf (scripts/test.sh sets it)");
  const pdfText = execFileSync(join(venv, "bin", "python"), ["-c", [
    "import sys, zipfile, pymupdf",
    "pdf = zipfile.ZipFile(sys.argv[1]).read('summary.pdf')",
    "doc = pymupdf.open(stream=pdf, filetype='pdf')",
    "print(doc.page_count); print(''.join(p.get_text() for p in doc))",
  ].join("\n"), bundle], { encoding: "utf8" });
  assert.match(pdfText, /Detention at building three/);
  assert.ok(pdfText.includes("در تابستان آن سال"), pdfText);
  assert.ok(report.out.includes(photoSha), "the report lists the photo's hash");

  // Tampering is caught: one byte of the photo changed.
  const tampered = Buffer.from(bytes);
  tampered[tampered.indexOf(PNG) + PNG.length - 1] ^= 1;
  writeFileSync(join(dir, "tampered.zip"), tampered);
  const bad = verify(join(dir, "tampered.zip"), key);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /NOT VALID/);

  // The official it was made for finds it after logging in and gets the
  // same verifiable bundle.
  const officialContext = await browser.newContext({ acceptDownloads: true });
  const official = await officialContext.newPage();
  await login(official, lantern, "external-official");
  await official.goto(lantern.base + "/");
  await official.waitForURL(/\/shared$/);
  assert.ok((await official.textContent("main")).includes("Detention at building three"));
  const theirs = join(dir, "theirs.zip");
  await download(official, 'a[href^="/shared/"]', theirs);
  assert.equal(verify(theirs, key).code, 0);
  await officialContext.close();

  const failures = [];
  for (const lang of ["en", "fa"]) {
    if ((await page.getAttribute("html", "lang")) !== lang) {
      await Promise.all([page.waitForLoadState("load"), page.click(`.lang-switch button[value="${lang}"]`)]);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    }
    for (const path of [eventPage, "/search?q=Maryam", "/testimonies", "/testimonies/new", new URL(testimony).pathname, "/dossiers", new URL(dossier).pathname]) {
      await page.goto(lantern.base + path);
      const violations = await axeViolations(page);
      if (violations.length) failures.push({ lang, path, violations });
    }
  }
  await page.goto(testimony);
  await page.screenshot({ path: join(screenshots, "testimony-fa.png"), fullPage: true });
  await page.click('.lang-switch button[value="en"]');
  assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
  await context.close();
  rmSync(dir, { recursive: true, force: true });
});
