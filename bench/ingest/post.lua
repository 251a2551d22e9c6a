-- wrk script: POST /api/v1/reports with a unique idempotency key per request, spread over
-- 21 cercles, 10 non-protected categories, varied texts and occurrence times (the last 6 h),
-- like field reports. BENCH_TOKEN and BENCH_RUN come from the environment.
local token = os.getenv("BENCH_TOKEN")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local areas = {"ML-5-MOPTI","ML-5-DJENNE","ML-5-KORO","ML-5-BANKASS","ML-5-BANDIAGARA","ML-5-DOUENTZA","ML-4-SEGOU",
  "ML-4-NIONO","ML-4-BLA","ML-4-MACINA","ML-4-TOMINIAN","ML-4-SAN","ML-7-GAO","ML-7-ANSONGO","ML-9-MENAKA",
  "ML-9-ANDERAMBOUKANE","ML-1-DIEMA","ML-1-YELIMANE","ML-1-NIORO-DU-SAHEL","ML-2-NARA","ML-3-YOROSSO"}
local cats = {"armed_attack","intercommunal_conflict","threat_intimidation","abduction","explosive_device","small_arms",
  "displacement","natural_hazard_flood","natural_hazard_fire","rumour_hate_speech"}
local what = {"hommes armés à moto vus près du marché", "tirs entendus au nord du village", "troupeau enlevé par des inconnus",
  "engin explosif trouvé sur la piste", "familles arrivées de la commune voisine", "pont emporté par la crue",
  "menaces contre le chef de village", "incendie dans les champs de mil", "rumeurs d'attaque diffusées à la radio",
  "enlèvement d'un commerçant sur la route"}
-- Each wrk thread has its own Lua state: setup() (main state) hands each one its number as the
-- global `tid`, so keys never repeat across threads.
threads_made = 0
local n = 0
function setup(thread)
  threads_made = threads_made + 1
  thread:set("tid", threads_made)
end
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end
function request()
  n = n + 1
  local a = areas[math.random(#areas)]
  local c = cats[math.random(#cats)]
  local t = what[math.random(#what)] .. " (" .. math.random(1, 50) .. " personnes)"
  local at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(60, 6 * 3600))
  local body = string.format('{"category":"%s","text":"%s","occurred_at":"%s","area_code":"%s","idempotency_key":"%s-%d-%d"}',
    c, t, at, a, run, tid, n)
  return wrk.format(nil, "/api/v1/reports", nil, body)
end
