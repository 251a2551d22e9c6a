// Draws the areas of #carte from its data-src GeoJSON with Leaflet: vector boundaries only,
// no tile server, so it works offline and on 2G. The page's list gives the same areas
// without JavaScript. Names are set as text (never HTML): area names are user input.
(function () {
  "use strict";
  var el = document.getElementById("carte");
  if (!el || !window.L || !window.fetch) { if (el) el.className += " empty"; return; }
  var fail = function () { el.textContent = el.getAttribute("data-error") || ""; el.className += " failed"; };
  fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (fc) {
      if (!fc.features || fc.features.length === 0) { el.className += " empty"; return; }
      var map = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25 });
      var layer = L.geoJSON(fc, {
        style: function (f) {
          var own = f.properties.level === "region" || f.properties.level === "country";
          return { color: "#0b4f3c", weight: own ? 1.5 : 1, fillColor: own ? "#6fa58f" : "#f2a900", fillOpacity: 0.35 };
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: "#0b4f3c", weight: 1.5, fillColor: "#f2a900", fillOpacity: 0.9 });
        },
        onEachFeature: function (f, l) {
          var tip = document.createElement("span");
          tip.textContent = f.properties.name + " (" + f.properties.code + ")";
          l.bindTooltip(tip, { sticky: true });
          var url = f.properties.url;
          if (typeof url === "string" && url.indexOf("/zones/") === 0) {
            l.on("click", function () { window.location.href = url; });
          }
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [8, 8], maxZoom: 9 });
      el.setAttribute("data-drawn", String(fc.features.length));
    })
    .catch(fail);
})();
