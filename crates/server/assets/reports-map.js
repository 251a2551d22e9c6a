// The map of reports (/carte): région shapes coloured by an indicator, and reports grouped
// by the server on a grid that follows the zoom level. Only the visible rectangle is asked
// for, after the map stops moving, and a newer request cancels an older one: 100 000 reports
// never reach the browser. Circles are drawn on one canvas. Text is set as text, never HTML.
(function () {
  "use strict";
  var el = document.getElementById("carte");
  if (!el || !window.L || !window.fetch) { if (el) el.className += " empty"; return; }
  var status = document.getElementById("etat-carte");
  var COLORS = ["#6c757d", "#2a9d8f", "#e9c46a", "#f4a261", "#c0392b"];
  var sev = (el.getAttribute("data-severities") || "").split("|");
  var fail = function () { el.textContent = el.getAttribute("data-error") || ""; el.className += " failed"; };
  var catLabel = function (c) { return el.getAttribute("data-cat-" + c.replace(/_/g, "-")) || c; };
  var map = L.map(el, { attributionControl: false, preferCanvas: true, zoomSnap: 1, minZoom: 4, maxZoom: 16 });
  map.setView([17.5, -4], 5);
  var canvas = L.canvas({ padding: 0.2 });
  var dots = L.layerGroup().addTo(map);
  var seq = 0, pending = null, timer = null;

  fetch(el.getAttribute("data-areas"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: function (f) { return { color: "#0b4f3c", weight: 1, fillColor: f.properties.fill || "#f4f1ea", fillOpacity: 0.55 }; },
        onEachFeature: function (f, l) {
          var tip = document.createElement("span");
          tip.textContent = f.properties.label;
          l.bindTooltip(tip, { sticky: true });
        }
      }).addTo(map);
      layer.bringToBack();
      if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
      el.setAttribute("data-areas-drawn", String(fc.features.length));
      load();
    })
    .catch(fail);

  function radius(n) { return Math.min(28, 4 + 3 * Math.log(n + 1)); }

  function draw(data) {
    dots.clearLayers();
    var shown = 0;
    data.clusters.forEach(function (c) {
      shown += c.count;
      var m = L.circleMarker([c.lat, c.lon], {
        renderer: canvas, radius: radius(c.count), color: "#1d1d1d", weight: 1,
        fillColor: COLORS[c.severity] || COLORS[0], fillOpacity: 0.85
      });
      var tip = document.createElement("span");
      tip.textContent = c.count.toLocaleString(document.documentElement.lang) + " " + (el.getAttribute("data-reports") || "").toLowerCase() +
        " — " + catLabel(c.category) + " — " + (sev[c.severity - 1] || c.severity);
      m.bindTooltip(tip);
      m.on("click", function () {
        if (c.id) { window.location.href = "/signalements/" + c.id; }
        else { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 16)); }
      });
      dots.addLayer(m);
    });
    if (status) {
      status.textContent = shown.toLocaleString(document.documentElement.lang) + " " + (el.getAttribute("data-reports") || "").toLowerCase() +
        " · " + data.clusters.length.toLocaleString(document.documentElement.lang) + " ⬤";
    }
  }

  function load() {
    var b = map.getBounds(), z = map.getZoom(), mine = ++seq;
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); }).join(",");
    if (pending) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    var t0 = performance.now();
    fetch(el.getAttribute("data-clusters") + "&bbox=" + bbox + "&z=" + z, { credentials: "same-origin", signal: pending && pending.signal })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (text) {
        if (mine !== seq) return;
        var data = JSON.parse(text);
        draw(data);
        // For the browser test: how long, how big, how many.
        el.setAttribute("data-ms", String(Math.round(performance.now() - t0)));
        el.setAttribute("data-bytes", String(text.length));
        el.setAttribute("data-total", String(data.total));
        el.setAttribute("data-clusters-drawn", String(data.clusters.length));
        el.setAttribute("data-loaded", String(mine));
      })
      .catch(function (e) { if (!e || e.name !== "AbortError") fail(); });
  }

  map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 120); });
})();
