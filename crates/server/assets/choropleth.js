// A choropleth from the GeoJSON at #carte's data-src: each feature carries its fill colour and
// its label (computed by the server). Vector shapes only, no tile server. Text as text.
(function () {
  "use strict";
  var el = document.getElementById("carte");
  if (!el || !window.L || !window.fetch) { if (el) el.className += " empty"; return; }
  var fail = function () { el.textContent = el.getAttribute("data-error") || ""; el.className += " failed"; };
  fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (fc) {
      if (!fc.features || fc.features.length === 0) { el.className += " empty"; return; }
      var map = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25 });
      var layer = L.geoJSON(fc, {
        style: function (f) { return { color: "#0b4f3c", weight: 1, fillColor: f.properties.fill || "#f4f1ea", fillOpacity: 0.8 }; },
        onEachFeature: function (f, l) {
          var tip = document.createElement("span");
          tip.textContent = f.properties.label;
          l.bindTooltip(tip, { sticky: true });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [8, 8] });
      el.setAttribute("data-drawn", String(fc.features.length));
    })
    .catch(fail);
})();
