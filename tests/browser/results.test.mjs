// The results pages in a real browser (Debian's Chromium, headless) against `vigie serve --demo`
// on loopback with a throwaway database: the demo M&E officer ("suivi", me_officer over Mali)
// opens the PROSMED results framework, enters an actual value and sees the indicator's traffic
// light change, opens budget execution (the PRODOC's 32 000 000 USD grand total, in French),
// the risk heat map and records a review, reads the statistical returns, switches to English.
// Each page stays light for 2G; no console error, no CSP violation. Screenshots go to
// test-artifacts/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const BIN = process.env.VIGIE_BIN || join(root, "target/debug/vigie");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = join(root, "test-artifacts/screenshots");
const PASSWORD = "demo-vigie-2026";
const PAGE_BUDGET = 100 * 1024; // bytes on the wire, page and its assets, empty cache

let server, base, work, browser, page;
const problems = [];
const weights = {};

function startServer() {
  return new Promise((ok, fail) => {
    const env = { ...process.env, VIGIE_KEY_FILE: join(work, "vigie.key"), VIGIE_LANG: "fr", VIGIE_LOG: "warn" };
    server = spawn(BIN, ["--db", `sqlite:${join(work, "vigie.db")}`, "serve", "--demo", "--addr", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => fail(new Error(`vigie did not start:\n${out}`)), 60000);
    const read = (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m && out.includes("demo-vigie-2026")) { clearTimeout(timer); ok(`http://127.0.0.1:${m[1]}`); }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", (c) => { out += c; });
    server.on("exit", (code) => { clearTimeout(timer); fail(new Error(`vigie exited (${code}):\n${out}`)); });
  });
}

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** Bytes transferred (compressed) to load `path` with an empty cache; fails over the budget. */
async function weigh(path) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const sizes = new Map();
  cdp.on("Network.loadingFinished", (e) => sizes.set(e.requestId, e.encodedDataLength));
  await page.goto(`${base}${path}`, { waitUntil: "load" });
  await new Promise((r) => setTimeout(r, 300));
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.detach();
  let bytes = 0;
  for (const v of sizes.values()) bytes += v;
  weights[path] = bytes;
  console.log(`# ${path}: ${bytes} bytes over ${sizes.size} requests`);
  assert.ok(bytes < PAGE_BUDGET, `${path}: ${bytes} bytes ≥ ${PAGE_BUDGET}`);
}

/** The traffic light class of an indicator on the framework page (green, red, no_data…). */
const lightOf = (code) => page.locator(`[id="ind-${code}"] .light`).first().getAttribute("class").then((c) => c.replace(/.*l-/, ""));

before(async () => {
  work = mkdtempSync(join(tmpdir(), "vigie-browser-results-"));
  mkdirSync(SHOTS, { recursive: true });
  base = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // A phone-sized screen: the pages are mobile first.
  page = await (await browser.newContext({ viewport: { width: 412, height: 900 }, locale: "fr-FR" })).newPage();
  // The deliberate mistake (a year outside the programme) comes back as a 422 page, which
  // Chromium logs as a failed load; anything else is a problem.
  const expected = /^Failed to load resource: the server responded with a status of 422 /;
  page.on("console", (m) => { if (m.type() === "error" && !expected.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${base}/connexion`);
  await page.getByLabel("Identifiant").fill("suivi");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Se connecter" }).click()]);
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the dashboard card and the menu lead to the programme's framework", async () => {
  await page.goto(`${base}/`);
  await page.locator("#progres-indicateurs").waitFor();
  await page.getByRole("link", { name: "Programmes", exact: true }).first().click();
  await page.waitForURL(`${base}/programmes`);
  await shot("results-programmes");
  await Promise.all([page.waitForURL(/\/programmes\/PROSMED$/), page.getByRole("link", { name: /PROSMED/ }).first().click()]);
  await page.locator("#h-R1").waitFor();
  assert.ok(await page.locator("svg.spark").count() > 0, "sparklines drawn");
});

test("entering an actual value changes the indicator's traffic light", async () => {
  await weigh("/programmes/PROSMED?annee=2021");
  // Demo values for 2021: 3 communes of a target of 58.
  assert.equal(await lightOf("1.2.1"), "red");
  await shot("results-framework");
  await page.locator('[id="ind-1.2.1"] h4 a').click();
  await page.locator("#saisie").waitFor();
  await weigh(new URL(page.url()).pathname + "?annee=2021");
  // A bad value first: the field's message, the input kept.
  await page.getByLabel("Période").fill("2030");
  await page.locator("#zone-saisie").selectOption("ML-5-MOPTI");
  await page.getByLabel(/^Valeur/).fill("60");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Enregistrer la valeur" }).click()]);
  assert.match(await page.locator("#form-error").innerText(), /2030/);
  assert.equal(await page.getByLabel(/^Valeur/).inputValue(), "60");
  await shot("results-entry-error");
  await page.getByLabel("Période").fill("2021");
  await Promise.all([page.waitForURL(/fait=1/), page.getByRole("button", { name: "Enregistrer la valeur" }).click()]);
  await page.locator("#form-done").waitFor();
  await shot("results-indicator");
  await page.goto(`${base}/programmes/PROSMED?annee=2021`);
  // 63 of 58 in Mali: green, with the share in French.
  assert.equal(await lightOf("1.2.1"), "green");
  assert.match(await page.locator('[id="ind-1.2.1"] .achieved').innerText(), /^108,6\s%$/);
});

test("budget execution shows the 32 000 000 USD grand total in French, with the document's gaps", async () => {
  await weigh("/programmes/PROSMED/budget");
  const total = await page.locator("#grand-total-printed").innerText();
  assert.match(total.replace(/[\u00a0\u202f]/g, " "), /^32 000 000 USD$/);
  assert.ok(await page.locator("#ecarts li").count() > 0, "rounding gaps listed");
  assert.ok(await page.locator("tr.k-grand_total").count() === 1);
  await shot("results-budget");
});

test("the risk heat map links to risks and a review moves a risk", async () => {
  await weigh("/programmes/PROSMED/risques");
  await shot("results-risks");
  const before = Number(await page.locator("#cell-5-5 strong").innerText());
  await page.locator("#risque").selectOption("1");
  await page.locator("#probabilite").selectOption("5");
  await page.locator("#impact").selectOption("5");
  await page.locator("#statut").selectOption("monitored");
  await page.getByLabel(/^Note/).fill("Revue semestrielle");
  await Promise.all([page.waitForURL(/fait=1/), page.getByRole("button", { name: "Enregistrer la revue" }).click()]);
  assert.equal(Number(await page.locator("#cell-5-5 strong").innerText()), before + 1);
  await page.locator('#cell-5-5 a[href="#risque-1"]').click();
  assert.match(page.url(), /#risque-1$/);
});

test("statistical returns and the English switch", async () => {
  await weigh("/retours");
  await shot("results-returns");
  await page.goto(`${base}/programmes/PROSMED/budget`);
  await Promise.all([page.waitForURL(/\/budget$/), page.getByRole("link", { name: "EN", exact: true }).click()]);
  await page.getByRole("heading", { name: /Budget execution/ }).waitFor();
  assert.match((await page.locator("#grand-total-printed").innerText()), /^32,000,000 USD$/);
  await page.goto(`${base}/programmes/PROSMED?annee=2021`);
  assert.match(await page.locator('[id="ind-1.2.1"] .light').first().innerText(), /On track/);
  await shot("results-framework-en");
  await Promise.all([page.waitForURL(/annee=2021/), page.getByRole("link", { name: "FR", exact: true }).click()]);
});

test("no console error, no CSP violation", () => {
  console.log(`# page weights: ${JSON.stringify(weights)}`);
  assert.deepEqual(problems, []);
});
