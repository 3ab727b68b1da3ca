// Starts a real Lantern server (the debug binary) with a small demo
// population on a free port, and Chromium through Playwright.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const screenshots = join(here, "..", "screenshots");
mkdirSync(screenshots, { recursive: true });

/**
 * The database for one server: SQLite in the data folder, or, when
 * LANTERN_TEST_POSTGRES names a PostgreSQL server (scripts/test.sh starts
 * one), a new database there.
 */
function databaseArgs() {
  const server = process.env.LANTERN_TEST_POSTGRES;
  if (!server) return [];
  const name = `lantern_e2e_${process.pid}_${Date.now()}`;
  execFileSync("psql", [`${server}/postgres`, "-qc", `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`]);
  return ["--database-url", `${server}/${name}`];
}

/** Starts Lantern; resolves to { base, accounts, stop }. */
export async function startLantern() {
  const bin = process.env.LANTERN_BIN || join(here, "..", "..", "target", "debug", "lantern");
  const dataDir = mkdtempSync(join(tmpdir(), "lantern-e2e-"));
  const child = spawn(
    bin,
    [
      "--data-dir", dataDir, "--listen", "127.0.0.1:0", ...databaseArgs(),
      "serve", "--demo", "--demo-people", "300",
    ],
    { env: { ...process.env, LANTERN_LOG: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const accounts = {};
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const base = await new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error("Lantern did not start in 120 s\n" + stderr)), 120_000);
    child.on("exit", (code) => reject(new Error(`Lantern exited with ${code}\n${stderr}`)));
    child.stdout.on("data", (d) => {
      buffer += d;
      for (const line of buffer.split("\n")) {
        const account = line.match(/^\s{2}(\S+)\s+(\S{20})$/);
        if (account) accounts[account[1]] = account[2];
        const listening = line.match(/Lantern is listening on (http:\/\/\S+)/);
        if (listening) {
          clearTimeout(timer);
          resolve(listening[1]);
        }
      }
    });
  });
  return {
    base,
    accounts,
    stop() {
      child.kill("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches Debian's Chromium, headless, with no network of its own. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run",
    ],
  });
}

/**
 * Logs a page in as one of the demo accounts. Demo passwords are one-time:
 * the first login leads to the account page, where the test chooses a new
 * one, as a person would.
 */
export async function login(page, lantern, account) {
  await page.goto(lantern.base + "/login");
  await page.fill("#username", account);
  await page.fill("#password", lantern.accounts[account]);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click('form[action="/login"] button[type=submit]')]);
  if (new URL(page.url()).pathname === "/account" && (await page.locator("#new_password").count()) > 0
      && (await page.locator("p.notice").count()) > 0) {
    const fresh = "own passphrase for " + lantern.accounts[account];
    await page.fill("#current_password", lantern.accounts[account]);
    await page.fill("#new_password", fresh);
    await Promise.all([page.waitForLoadState("load"), page.click('form[action="/account/password"] button[type=submit]')]);
    lantern.accounts[account] = fresh;
  }
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * WCAG 2 A and AA violations on the current page, by axe-core. Injected
 * through the DevTools protocol (page.evaluate), which the page's strict
 * Content-Security-Policy does not apply to.
 */
export async function axeViolations(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}
