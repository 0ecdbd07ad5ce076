/* Draws a Linli map from the JSON that the page carries: community outlines,
   facilities as points, and where a search starts. No tile server is needed;
   one is used when the deployment configures it. Text is set with textContent,
   never as HTML. */
(function () {
  "use strict";

  function popup(point) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.name;
    box.appendChild(link);
    if (point.kind) {
      var kind = document.createElement("div");
      kind.textContent = point.kind;
      box.appendChild(kind);
    }
    return box;
  }

  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.mapSource).textContent);
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: Boolean(data.tiles) });
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
    }
    var everything = L.featureGroup().addTo(map);
    if (data.regions && data.regions.length) {
      L.geoJSON({ type: "FeatureCollection", features: data.regions }, {
        style: { color: "#7a746a", weight: 1, fillColor: "#efe9dc", fillOpacity: 0.7 },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(String(feature.properties.name));
        }
      }).addTo(everything);
    }
    (data.points || []).forEach(function (point) {
      L.circleMarker([point.lat, point.lon], {
        radius: 9, color: "#ffffff", weight: 2, fillColor: "#b3261e", fillOpacity: 0.9
      }).bindPopup(popup(point)).addTo(everything);
    });
    if (data.origin) {
      L.circleMarker([data.origin.lat, data.origin.lon], {
        radius: 11, color: "#0b57d0", weight: 3, fillColor: "#ffffff", fillOpacity: 1
      }).bindTooltip(String(data.origin.label)).addTo(everything);
    }
    var bounds = everything.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds.pad(0.1), { maxZoom: 16 });
    } else {
      map.setView([0, 0], 2);
    }
  }

  document.querySelectorAll("[data-map-source]").forEach(draw);
})();
