// Vigie's web pages in a real browser (Debian's Chromium, headless) against `vigie serve --demo`
// on a loopback port with a throwaway database and key file. Run by scripts/browser-tests.sh;
// VIGIE_BIN names the binary, CHROMIUM the browser. Screenshots go to test-artifacts/screenshots/.
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
const PAGE_BUDGET = 100 * 1024; // bytes on the wire for the first page after sign-in
const SLOW_BUDGET_MS = 3000; // DOMContentLoaded of the dashboard on 2G

let server, base, work, context, page;
const problems = []; // console errors, page errors, CSP violations

function startServer() {
  return new Promise((ok, fail) => {
    const env = { ...process.env, VIGIE_KEY_FILE: join(work, "vigie.key"), VIGIE_LANG: "fr", VIGIE_LOG: "warn" };
    server = spawn(BIN, ["--db", `sqlite:${join(work, "vigie.db")}`, "serve", "--demo", "--addr", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => fail(new Error(`vigie did not start:\n${out}`)), 30000);
    const read = (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m && out.includes("demo-vigie-2026")) {
        clearTimeout(timer);
        ok(`http://127.0.0.1:${m[1]}`);
      }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", (c) => { out += c; });
    server.on("exit", (code) => { clearTimeout(timer); fail(new Error(`vigie exited (${code}):\n${out}`)); });
  });
}

async function shot(name, p = page) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "vigie-browser-"));
  mkdirSync(SHOTS, { recursive: true });
  base = await startServer();
  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    locale: "fr-FR",
  });
  page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test("sign in as admin and see the dashboard", async () => {
  const res = await page.goto(`${base}/`);
  assert.match(page.url(), /\/connexion\?suite=/, "a page without session leads to the sign-in form");
  assert.equal(res.status(), 200);
  await shot("01-connexion");
  await page.getByLabel("Identifiant").fill("admin");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Se connecter" }).click()]);
  assert.equal(await page.locator("h1").textContent(), "Tableau de bord");
  assert.equal(await page.getAttribute("html", "lang"), "fr");
  assert.ok(await page.getByRole("heading", { name: "Alertes ouvertes" }).isVisible());
  assert.match(await page.locator(".figures").first().textContent(), /Régions\s*11/);
  // The demo's early-warning data is on the dashboard, not placeholders.
  assert.match(await page.locator("#alertes-ouvertes").textContent(), /Accusés de réception en retard\s*1/);
  await shot("02-tableau-de-bord");
});

test("the first page after sign-in weighs less than 100 KB on the wire", async () => {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.clearBrowserCache");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  let bytes = 0;
  const urls = [];
  const sizes = new Map();
  cdp.on("Network.responseReceived", (e) => urls.push(e.response.url));
  cdp.on("Network.loadingFinished", (e) => { sizes.set(e.requestId, e.encodedDataLength); });
  await page.goto(`${base}/`, { waitUntil: "load" });
  await new Promise((r) => setTimeout(r, 200));
  for (const v of sizes.values()) bytes += v;
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.detach();
  console.log(`# page weight: ${bytes} bytes transferred over ${sizes.size} requests (${urls.map((u) => u.replace(base, "")).join(", ")})`);
  assert.ok(sizes.size >= 2, "the page and its stylesheet were counted");
  assert.ok(bytes < PAGE_BUDGET, `${bytes} bytes ≥ ${PAGE_BUDGET}`);
});

test("on 2G (250 kbit/s, 300 ms) the dashboard is usable within 3 s", async () => {
  const slow = await context.newPage();
  const cdp = await context.newCDPSession(slow);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 300, downloadThroughput: 250000 / 8, uploadThroughput: 250000 / 8 });
  const t0 = Date.now();
  await slow.goto(`${base}/`, { waitUntil: "domcontentloaded" });
  const wall = Date.now() - t0;
  const nav = await slow.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
  console.log(`# 2G: DOMContentLoaded after ${Math.round(nav)} ms (navigation timing), ${wall} ms wall clock`);
  assert.equal(await slow.locator("h1").textContent(), "Tableau de bord");
  assert.ok(wall < SLOW_BUDGET_MS, `${wall} ms ≥ ${SLOW_BUDGET_MS} ms`);
  await cdp.detach();
  await slow.close();
});

test("switch FR → EN and back", async () => {
  await page.goto(`${base}/`);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("link", { name: "EN", exact: true }).click()]);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.locator("h1").textContent(), "Dashboard");
  assert.ok(await page.getByRole("heading", { name: "Open alerts" }).isVisible());
  await shot("03-dashboard-en");
  await page.getByRole("link", { name: "FR", exact: true }).click();
  await page.waitForFunction(() => document.documentElement.lang === "fr");
  assert.equal(await page.locator("h1").textContent(), "Tableau de bord");
});

test("the areas page draws the régions on the map", async () => {
  await page.getByRole("link", { name: "Zones", exact: true }).click();
  await page.waitForSelector("#carte[data-drawn]", { timeout: 10000 });
  const paths = await page.locator("#carte path.leaflet-interactive").count();
  assert.ok(paths >= 10, `only ${paths} paths drawn`);
  assert.ok(await page.getByRole("link", { name: "Koro" }).first().isVisible(), "the tree lists the cercles");
  await shot("04-zones");
  // Filter by tag, then open a région.
  await page.getByLabel("Étiquette").fill("prosmed");
  await page.getByRole("button", { name: "Filtrer" }).click();
  await page.waitForURL(/etiquette=prosmed/);
  assert.ok((await page.locator("tbody tr").count()) >= 21);
  await shot("05-zones-prosmed");
  await page.goto(`${base}/zones/ML-5`);
  await page.waitForSelector("#carte[data-drawn]", { timeout: 10000 });
  assert.ok((await page.locator("#carte path.leaflet-interactive").count()) >= 2, "Mopti and its cercles");
  await shot("06-zone-mopti");
});

test("create a user with a grant", async () => {
  await page.goto(`${base}/admin/utilisateurs`);
  await page.getByRole("link", { name: "Nouvel utilisateur" }).click();
  await page.getByLabel("Identifiant").fill("aminata.koro");
  await page.getByLabel("Nom affiché").fill("Aminata — relais de Koro");
  await page.getByLabel(/Mot de passe initial/).fill("karité et mil 2026");
  await page.getByLabel("Droit 1 — Rôle").selectOption("reporter");
  await page.getByLabel("Droit 1 — Zone").selectOption("ML-5-KORO");
  await shot("07-nouvel-utilisateur");
  await Promise.all([page.waitForURL(/cree=aminata\.koro/), page.getByRole("button", { name: "Créer" }).click()]);
  assert.match(await page.locator(".notice").textContent(), /aminata\.koro/);
  assert.ok(await page.getByRole("cell", { name: "Aminata — relais de Koro" }).isVisible());
  await shot("08-utilisateurs");
  await page.goto(`${base}/admin/roles`);
  await shot("09-roles");
});

test("the audit log shows the change and verifies its chain", async () => {
  await page.goto(`${base}/admin/journal`);
  assert.ok((await page.locator("td code", { hasText: "user.create" }).count()) >= 1);
  await page.getByRole("button", { name: "Vérifier la chaîne" }).click();
  await page.waitForSelector("#verification");
  assert.match(await page.locator("#verification").textContent(), /Chaîne intacte/);
  await shot("10-journal");
});

test("the dashboard on a small phone", async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${base}/`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot("11-mobile");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("sign out", async () => {
  await page.goto(`${base}/`);
  await Promise.all([page.waitForURL(/\/connexion\?fin=1/), page.getByRole("button", { name: "Se déconnecter" }).click()]);
  assert.ok(await page.getByText("Vous êtes déconnecté·e.").isVisible());
  await page.goto(`${base}/admin/journal`);
  assert.match(page.url(), /\/connexion\?suite=/);
});

async function signIn(username) {
  await page.goto(`${base}/connexion`);
  await page.getByLabel("Identifiant").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Se connecter" }).click()]);
}

async function signOut() {
  await Promise.all([page.waitForURL(/\/connexion\?fin=1/), page.getByRole("button", { name: "Se déconnecter" }).click()]);
}

const minusma = () => page.locator("#indicateurs-ML-5 #ind-minusma .count").textContent();
let alertUrl, minusmaBefore;

test("an analyst submits a report, verifies it and raises the alert", async () => {
  await signIn("analyste.mopti");
  minusmaBefore = (await minusma()).trim();
  assert.match(minusmaBefore, /^\d+ \/ \d+$/);
  await page.getByRole("link", { name: "Nouveau signalement" }).first().click();
  await page.waitForURL(/\/signalements\/nouveau$/);
  await page.getByLabel("Catégorie").selectOption("armed_attack");
  await page.getByLabel("Description", { exact: true }).fill("Des hommes armés à moto encerclent le village de Yoro depuis ce matin ; les habitants ne peuvent pas sortir.");
  await page.getByLabel("Zone", { exact: true }).selectOption("ML-5-KORO");
  await shot("12-signalement-formulaire");
  await Promise.all([page.waitForURL(/\/signalements\/recu\//), page.getByRole("button", { name: "Envoyer le signalement" }).click()]);
  assert.match(await page.locator("#reference").textContent(), /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await shot("13-signalement-recu");
  await page.getByRole("link", { name: "Ouvrir le signalement" }).click();
  await page.getByLabel("Statut").selectOption("verified");
  await page.getByLabel("Fiabilité de la source").selectOption("B");
  await page.getByLabel("Crédibilité de l'information").selectOption("2");
  await Promise.all([page.waitForURL(/fait=verification/), page.getByRole("button", { name: "Enregistrer la vérification" }).click()]);
  assert.ok(await page.getByText("Vérification enregistrée.").isVisible());
  await shot("14-signalement-verifie");
  await page.getByRole("link", { name: /^Alerte n° \d+$/ }).click();
  await Promise.all([page.waitForURL(/fait=alerted/), page.getByRole("button", { name: "Lancer l'alerte" }).click()]);
  alertUrl = page.url().replace(/\?.*$/, "");
  assert.match(await page.locator("#chronologie").textContent(), /Prévenu : niveau 1, Brigade territoriale de gendarmerie/);
  await shot("15-alerte-lancee");
  await signOut();
});

test("the gendarmerie acknowledges, responds and closes with an outcome; the indicator moves", async () => {
  await signIn("gendarmerie.mopti");
  await page.goto(alertUrl);
  await Promise.all([page.waitForURL(/fait=acknowledged/), page.getByRole("button", { name: "Accuser réception" }).click()]);
  await page.getByLabel("Patrouille déployée").check();
  await Promise.all([page.waitForURL(/fait=responded/), page.getByRole("button", { name: "Enregistrer l'intervention" }).click()]);
  await page.getByLabel("Issue", { exact: true }).selectOption("violence_prevented");
  await Promise.all([page.waitForURL(/fait=closed/), page.getByRole("button", { name: "Clôturer avec cette issue" }).click()]);
  assert.equal((await page.locator("#issue").textContent()).trim(), "Violence évitée");
  assert.equal(await page.locator("#chronologie time").count(), 6, "every step has its time");
  await shot("16-alerte-cloturee");
  await page.goto(`${base}/`);
  const after = (await minusma()).trim();
  const [a, b] = minusmaBefore.split(" / ").map(Number);
  assert.equal(after, `${a + 1} / ${b + 1}`);
  await page.locator("#indicateurs-ML-5").scrollIntoViewIfNeeded();
  await shot("17-tableau-de-bord-indicateurs");
  await page.goto(`${base}/alertes`);
  await shot("18-alertes");
  await signOut();
});

test("no script error and no CSP violation on any page", () => {
  assert.deepEqual(problems, []);
});
