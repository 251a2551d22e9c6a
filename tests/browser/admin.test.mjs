// The administration pages of issue 8 in a real browser (Debian's Chromium, headless) against
// `vigie serve --demo` on loopback with a throwaway database: the admin creates an escalation
// rule (a mistake first, shown on the form), edits a category, uploads the pyxform-made XForm
// of forms/ and publishes it; a citizen denounces, the admin refers the case to the CNDH, and
// the citizen adds a photo through /suivi with the receipt code, without JavaScript. Each new
// page weighs under 100 KB and is usable within 3 s on emulated 2G. Screenshots go to
// test-artifacts/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
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
const PAGE_BUDGET = 100 * 1024; // bytes on the wire, page and its assets
const SLOW_BUDGET_MS = 3000; // usable (DOMContentLoaded) on 2G

let server, base, work, browser, staff, citizen;
const problems = [];

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

function watch(p) {
  // The deliberate mistakes (a bad phone, a wrong file) come back as 422/400 pages, which
  // Chromium logs as failed loads; anything else is a problem.
  const expected = /^Failed to load resource: the server responded with a status of (400|422) /;
  p.on("console", (m) => { if (m.type() === "error" && !expected.test(m.text())) problems.push(`console: ${m.text()}`); });
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return p;
}

const shot = (p, name) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  work = mkdtempSync(join(tmpdir(), "vigie-browser-admin-"));
  mkdirSync(SHOTS, { recursive: true });
  base = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  staff = watch(await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "fr-FR" })).newPage());
  // The citizen's browser runs no script at all: the follow-up page must work without it.
  citizen = watch(await (await browser.newContext({ viewport: { width: 412, height: 860 }, locale: "fr-FR", javaScriptEnabled: false })).newPage());
  await staff.goto(`${base}/connexion`);
  await staff.getByLabel("Identifiant").fill("admin");
  await staff.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([staff.waitForURL(`${base}/`), staff.getByRole("button", { name: "Se connecter" }).click()]);
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
  assert.deepEqual(problems, [], "no console or page errors (CSP violations included)");
});

/** Bytes transferred (compressed) to load `url` in `p` with an empty cache. */
async function weigh(p, url) {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const sizes = new Map();
  cdp.on("Network.loadingFinished", (e) => sizes.set(e.requestId, e.encodedDataLength));
  await p.goto(url, { waitUntil: "load" });
  await new Promise((r) => setTimeout(r, 300));
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.detach();
  let bytes = 0;
  for (const v of sizes.values()) bytes += v;
  return { bytes, requests: sizes.size };
}

test("an escalation rule is created from the form, a mistake first shown on it", async () => {
  const w = await weigh(staff, `${base}/admin/escalade`);
  console.log(`# /admin/escalade: ${w.bytes} bytes over ${w.requests} requests`);
  assert.ok(w.bytes < PAGE_BUDGET, `${w.bytes} ≥ ${PAGE_BUDGET}`);
  await shot(staff, "40-escalade-liste");
  await staff.getByRole("link", { name: "Nouvelle règle d'escalade" }).click();
  await staff.getByLabel("Zone").selectOption("ML-5-KORO");
  await staff.getByLabel("Gravité minimale des alertes").selectOption("3");
  await staff.locator("#niveau-nom-0").fill("Sous-préfet de Koro");
  await staff.locator("#niveau-tel-0").fill("76 00 00 01");
  await staff.locator("#niveau-min-0").fill("30");
  await staff.locator("#niveau-nom-1").fill("Brigade de gendarmerie de Koro");
  await staff.locator("#niveau-tel-1").fill("12");
  await staff.locator("#niveau-min-1").fill("60");
  await staff.getByRole("button", { name: "Créer" }).click();
  await staff.waitForSelector("#form-error");
  assert.equal(await staff.locator("#niveau-tel-1").getAttribute("aria-invalid"), "true");
  assert.equal(await staff.locator("#niveau-nom-1").inputValue(), "Brigade de gendarmerie de Koro", "what was typed is kept");
  await shot(staff, "41-escalade-erreur");
  await staff.locator("#niveau-tel-1").fill("");
  await Promise.all([staff.waitForURL(/\/admin\/escalade\?ok=cree/), staff.getByRole("button", { name: "Créer" }).click()]);
  assert.ok(await staff.getByText("Règle créée.").isVisible());
  const row = staff.locator("tr", { hasText: "Sous-préfet de Koro" });
  assert.ok(await row.getByText("sans téléphone (sauté)").isVisible());
  await shot(staff, "42-escalade-creee");
});

test("a category is edited in French and English", async () => {
  await staff.goto(`${base}/admin/categories`);
  await shot(staff, "43-categories");
  await staff.goto(`${base}/admin/categories/nouvelle`);
  await staff.getByLabel("Code").fill("coupure_route");
  await staff.getByLabel("Libellé en français").fill("Route coupée");
  await staff.getByLabel("Libellé en anglais").fill("Road cut");
  await staff.getByLabel("Famille").selectOption("threat");
  await staff.getByLabel("Mots-clés SMS").fill("route coupee\nbarrage");
  await Promise.all([staff.waitForURL(/\/admin\/categories\?ok=coupure_route/), staff.getByRole("button", { name: "Créer" }).click()]);
  assert.ok(await staff.locator("#categorie-coupure_route").getByText("barrage").isVisible());
  await staff.goto(`${base}/langue/en?retour=/admin/categories`);
  assert.ok(await staff.locator("#categorie-coupure_route").getByText("Road cut").isVisible());
  await staff.goto(`${base}/langue/fr?retour=/admin/categories`);
});

test("the pyxform-made XForm is uploaded as a draft, listed, and published", async () => {
  const w = await weigh(staff, `${base}/admin/formulaires`);
  console.log(`# /admin/formulaires: ${w.bytes} bytes over ${w.requests} requests`);
  assert.ok(w.bytes < PAGE_BUDGET, `${w.bytes} ≥ ${PAGE_BUDGET}`);
  // The demo may have published the shipped form already; upload the survey form here.
  await staff.getByLabel("Fichier XForm (.xml)").setInputFiles(join(root, "forms/perception_fr.xml"));
  await staff.getByLabel("Usage").selectOption("survey");
  await staff.getByLabel("Zone", { exact: true }).selectOption("ML-5");
  await Promise.all([staff.waitForURL(/ok=televerse/), staff.getByRole("button", { name: "Téléverser en brouillon" }).click()]);
  const row = staff.locator("tr", { hasText: "brouillon" }).first();
  assert.ok(await row.isVisible());
  await shot(staff, "44-formulaires-brouillon");
  await Promise.all([staff.waitForURL(/ok=publie/), row.getByRole("button", { name: "Publier" }).click()]);
  assert.ok(await staff.getByText("Formulaire publié.").isVisible());
  await shot(staff, "45-formulaires-publie");
});

let receipt;

test("a citizen denounces; the admin refers the case to the CNDH", async () => {
  await citizen.goto(`${base}/denoncer`);
  await citizen.getByLabel(/Où cela s'est-il passé/).selectOption("ML-5-KORO");
  await citizen.getByLabel("Localité").fill("Koro");
  await citizen.getByLabel("Administration mise en cause").fill("Service des domaines");
  await citizen.getByLabel("Ce qui s'est passé").fill("L'agent a exigé 25 000 FCFA pour enregistrer une parcelle.");
  await citizen.getByRole("button", { name: "Envoyer la dénonciation" }).click();
  await citizen.waitForSelector("#code-recu");
  receipt = (await citizen.locator("#code-recu").textContent()).trim();

  await staff.goto(`${base}/dossiers`);
  await staff.locator("a", { hasText: "Service des domaines" }).first().click();
  await staff.waitForSelector("#orientation");
  // A desk in Vigie if the demo has one besides the case's own; the institution in any case.
  const desks = await staff.locator("#bureau option").count();
  if (desks > 1) await staff.locator("#bureau").selectOption({ index: 1 });
  await staff.locator("#institution").fill("Tribunal de grande instance de Mopti");
  await Promise.all([staff.waitForURL(/fait=orientation/), staff.getByRole("button", { name: "Orienter" }).click()]);
  assert.ok(await staff.getByText("Dossier orienté.").isVisible());
  assert.ok(await staff.getByText("Tribunal de grande instance de Mopti").first().isVisible());
  await shot(staff, "46-dossier-oriente");
});

test("the citizen adds a photo on /suivi with the code, without JavaScript; a wrong file is named", async () => {
  await citizen.goto(`${base}/suivi`);
  await citizen.getByLabel("Code de suivi").fill(receipt);
  await citizen.getByRole("button", { name: "Voir mon dossier" }).click();
  await citizen.waitForSelector("#h-piece");
  const fake = join(work, "photo.jpg");
  writeFileSync(fake, "MZ not a photo at all");
  await citizen.getByLabel("Fichier", { exact: true }).setInputFiles(fake);
  await citizen.getByRole("button", { name: "Envoyer la pièce" }).click();
  await citizen.waitForSelector("#piece .alert");
  await shot(citizen, "47-suivi-piece-refusee");
  const png = join(work, "photo.png");
  // A 1×1 PNG.
  writeFileSync(png, Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64"));
  await citizen.getByLabel("Fichier", { exact: true }).setInputFiles(png);
  await citizen.getByRole("button", { name: "Envoyer la pièce" }).click();
  await citizen.waitForSelector("text=Votre pièce a été ajoutée au dossier.");
  await shot(citizen, "48-suivi-piece-ajoutee");
});

test("on 2G (250 kbit/s, 300 ms) the new admin pages are usable within 3 s", async () => {
  const p = watch(await staff.context().newPage());
  await p.setViewportSize({ width: 360, height: 740 });
  const cdp = await p.context().newCDPSession(p);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 300, downloadThroughput: 250000 / 8, uploadThroughput: 250000 / 8 });
  for (const path of ["/admin/escalade", "/admin/escalade/nouvelle", "/admin/categories", "/admin/formulaires"]) {
    const t0 = Date.now();
    await p.goto(`${base}${path}`, { waitUntil: "domcontentloaded" });
    const wall = Date.now() - t0;
    console.log(`# 2G: ${path} usable after ${wall} ms`);
    assert.ok(wall < SLOW_BUDGET_MS, `${path}: ${wall} ms ≥ ${SLOW_BUDGET_MS}`);
  }
  await shot(p, "49-formulaires-2g-mobile");
  await p.close();
});
