// Stored XSS, checked in Chromium: a hostile payload is put through the API into every free-text
// field the web pages show (area, organisation, user and role names, category labels, report
// text and place, questions, escalation level names, alert reasons), then every page is visited
// as the admin. Nothing may run: no dialog, no window.__xss, no injected element with an event
// handler, and no CSP violation (a violation would mean the markup got through and only the CSP
// stopped it). Every page must carry a strict CSP (no 'unsafe-inline'). The payload must be SHOWN
// (as text) on the pages that list it, so the test cannot pass by showing nothing.
// Run by scripts/browser-tests.sh (VIGIE_BIN, CHROMIUM).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const BIN = process.env.VIGIE_BIN || join(root, "target/debug/vigie");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PASSWORD = "demo-vigie-2026";
// Breaks out of text, attributes (both quotes) and URLs; each variant marks window.__xss or opens a dialog.
const PAYLOAD = `XSS"'><script>window.__xss=1</script><img src=x onerror="window.__xss=2;alert(2)"><svg onload=alert(3)></svg><a href="javascript:alert(4)">j</a>`;
const MARK = "window.__xss=1"; // shown as text when escaped

let server, base, work, context, page, token;
const dialogs = [];
const violations = [];

function startServer(env) {
  return new Promise((ok, fail) => {
    server = spawn(BIN, ["--db", `sqlite:${join(work, "vigie.db")}`, "serve", "--demo", "--addr", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => fail(new Error(`vigie did not start:\n${out}`)), 30000);
    const read = (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m && out.includes(PASSWORD)) {
        clearTimeout(timer);
        ok(`http://127.0.0.1:${m[1]}`);
      }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", (c) => { out += c; });
    server.on("exit", (code) => { clearTimeout(timer); fail(new Error(`vigie exited (${code}):\n${out}`)); });
  });
}

async function api(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function must(method, path, body) {
  const r = await api(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

const ids = {};

before(async () => {
  work = mkdtempSync(join(tmpdir(), "vigie-xss-"));
  const env = { ...process.env, VIGIE_KEY_FILE: join(work, "vigie.key"), VIGIE_LANG: "fr", VIGIE_LOG: "warn" };
  base = await startServer(env);
  const out = execFileSync(BIN, ["--db", `sqlite:${join(work, "vigie.db")}`, "user", "add", "xss_admin", "--role", "admin", "--area", "ML", "--token"], { env }).toString();
  token = out.trim().split("\n").pop().trim();

  // The payload in every free-text field the pages show.
  await must("PUT", "/api/v1/areas/ML-5-XSS", { parent: "ML-5", level: "cercle", name: PAYLOAD, tags: [] });
  await must("POST", "/api/v1/organisations", { name: PAYLOAD, kind: "ngo", area_code: "ML-5-XSS" });
  await must("POST", "/api/v1/users", { username: "xss_user", display_name: PAYLOAD, password: "une phrase de passe longue", grants: [{ role: "viewer", area_code: "ML-5-XSS" }] });
  await must("POST", "/api/v1/roles", { name: "xss_role", label: PAYLOAD, permissions: ["areas.read"] });
  await must("PUT", "/api/v1/categories/xss_cat", { code: "xss_cat", label_fr: PAYLOAD, label_en: PAYLOAD, family: "other", default_severity: 4, protected: false, keywords: ["xssmot"] });
  await must("POST", "/api/v1/escalation-rules", { min_severity: 1, area_code: "ML-5-XSS", levels: [{ name: PAYLOAD, phone: "76 00 00 09", ack_minutes: 30 }] });
  const rep = await must("POST", "/api/v1/reports", {
    category: "armed_attack", text: PAYLOAD, place_name: PAYLOAD, occurred_at: new Date().toISOString(), area_code: "ML-5-XSS", idempotency_key: "xss-1",
  });
  ids.report = rep.report_id;
  ids.alert = rep.alert_id;
  const raw = await must("POST", "/api/v1/reports", { category: "xss_cat", text: `second ${PAYLOAD}`, occurred_at: new Date().toISOString(), area_code: "ML-5-XSS", idempotency_key: "xss-2" });
  ids.raw = raw.report_id;
  await api("POST", `/api/v1/reports/${ids.report}/messages`, { body: PAYLOAD });
  await api("POST", `/api/v1/reports/${ids.report}/verification`, { status: "verified", grade: "B2" });
  await api("POST", `/api/v1/alerts/${ids.alert}/commands`, { command: "raise" });
  await api("POST", `/api/v1/alerts/${ids.alert}/commands`, { command: "respond", actions: [{ action: "other", description: PAYLOAD }] });
  await api("POST", `/api/v1/cases`, { workflow: "denunciation", area_code: "ML-5-XSS", title: PAYLOAD, fields: { locality: PAYLOAD, administration: PAYLOAD, facts: PAYLOAD } });
  // Results pages: programme name, result/output titles, indicator label and verification, actual note, risk text and owner.
  const q = (v) => `"${v.replace(/"/g, '""')}"`;
  await must("POST", "/api/v1/programmes", { code: "XSS", name: PAYLOAD, first_year: 2021, last_year: 2025, currency: "USD", area_code: "ML" });
  await must("POST", "/api/v1/programmes/XSS/import/framework", {
    results: `level,code,title_fr,parent_code\nresult,R1,${q(PAYLOAD)},\noutput,P1.1,${q(PAYLOAD)},R1\n`,
    indicators: `result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_2021,cumulative,means_of_verification\nR1,P1.1,1.1.1,${q(PAYLOAD)},number,0,,5,no,${q(PAYLOAD)}\n`,
  });
  await must("POST", "/api/v1/programmes/XSS/actuals", [{ indicator_code: "1.1.1", period: "2021", area_code: "ML-5-XSS", value: "3", note: PAYLOAD }]);
  const risks = `n,risk_fr,category,probability,impact,mitigation_fr,owner\n1,${q(PAYLOAD)},${q(PAYLOAD)},Elevée,Fort,${q(PAYLOAD)},${q(PAYLOAD)}\n`;
  const rr = await fetch(`${base}/api/v1/programmes/XSS/import/risks`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" }, body: risks });
  assert.ok(rr.status < 300, `risks: ${rr.status} ${await rr.text()}`);

  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    locale: "fr-FR",
  });
  page = context.pages()[0] || (await context.newPage());
  page.on("dialog", async (d) => { dialogs.push(`${page.url()}: ${d.type()} ${d.message()}`); await d.dismiss(); });
  page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`); });
  // Sign in through the form, as a person would.
  await page.goto(`${base}/connexion`);
  await page.getByLabel("Identifiant").fill("admin");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Se connecter" }).click()]);
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Visits `path`; checks CSP, no execution, no injected markup; returns the page's text. */
async function visit(path) {
  const res = await page.goto(`${base}${path}`, { waitUntil: "load" });
  assert.ok(res.status() < 400, `${path}: HTTP ${res.status()}`);
  const csp = res.headers()["content-security-policy"] || "";
  assert.match(csp, /script-src 'self'/, `${path}: CSP ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${path}: CSP ${csp}`);
  // Give an injected onerror/onload the time to fire.
  await page.waitForTimeout(150);
  const found = await page.evaluate(() => ({
    xss: window.__xss,
    handlers: [...document.querySelectorAll("[onerror],[onload],[onclick],[onmouseover]")].map((e) => e.outerHTML.slice(0, 120)),
    scripts: [...document.scripts].filter((s) => s.textContent.includes("__xss")).length,
    jsLinks: [...document.querySelectorAll("a[href^='javascript:' i]")].length,
    text: document.body.innerText,
  }));
  assert.equal(found.xss, undefined, `${path}: the payload ran`);
  assert.deepEqual(found.handlers, [], `${path}: injected event handlers`);
  assert.equal(found.scripts, 0, `${path}: injected script element`);
  assert.equal(found.jsLinks, 0, `${path}: injected javascript: link`);
  return found.text;
}

test("the payload is shown as text on every page, and never runs", async () => {
  const pages = [
    "/", "/zones", "/zones/ML-5", "/zones/ML-5-XSS", "/signalements", `/signalements/${ids.report}`, `/signalements/${ids.raw}`,
    "/signalements/nouveau", "/alertes", `/alertes/${ids.alert}`, "/admin/utilisateurs", "/admin/utilisateurs/nouveau",
    "/admin/roles", "/admin/journal", "/admin/journal/verifier", "/connexion",
    // Issue 8's administration pages: responder names, category labels and keywords.
    "/admin/escalade", "/admin/escalade?zone=ML-5-XSS", "/admin/categories", "/admin/categories/xss_cat", "/admin/formulaires",
    // Results, budget, risks and statistical returns.
    "/programmes", "/programmes/XSS?annee=2021", "/programmes/XSS/indicateurs/1.1.1?annee=2021", "/programmes/XSS/budget", "/programmes/XSS/risques", "/retours",
  ];
  // Pages that certainly show a payload: it must be there, as text.
  const mustShow = ["/zones/ML-5-XSS", `/signalements/${ids.report}`, "/signalements", "/admin/roles", "/admin/escalade", "/admin/categories",
    "/programmes", "/programmes/XSS?annee=2021", "/programmes/XSS/indicateurs/1.1.1?annee=2021", "/programmes/XSS/risques"];
  let shown = 0;
  for (const lang of ["fr", "en"]) {
    await page.goto(`${base}/langue/${lang}`);
    for (const path of pages) {
      const text = await visit(path);
      if (text.includes(MARK)) shown++;
      else assert.ok(!mustShow.includes(path), `${path} (${lang}): the payload is not shown as text, so escaping was not exercised`);
    }
  }
  assert.ok(shown >= 2 * mustShow.length, `payload shown on ${shown} page visits`);
  assert.deepEqual(dialogs, [], "dialogs opened");
  assert.deepEqual(violations, [], "CSP violations: markup got through and only the CSP stopped it");
});

test("public pages and errors carry the same strict headers", async () => {
  for (const path of ["/connexion", "/healthz", "/api/v1/public/transparency", "/nope-404", "/api/v1/openapi.json"]) {
    const res = await fetch(`${base}${path}`);
    const csp = res.headers.get("content-security-policy") || "";
    assert.match(csp, /default-src 'self'/, `${path}: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(res.headers.get("x-frame-options"), "DENY", path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
  }
});
