/* Draws a siting run: existing facilities (grey), committed projects (blue) and proposed
   sites (red, numbered in order), each with its walking-radius circle. Reads the JSON the
   page carries; text is set with textContent, never as HTML. */
(function () {
  "use strict";

  var STYLES = {
    existing: { color: "#5f5a52", fill: "#8a8479" },
    committed: { color: "#0b57d0", fill: "#4c8df6" },
    sites: { color: "#b3261e", fill: "#d93025" }
  };

  function tooltip(role, point, labels) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = (point.rank ? "#" + point.rank + " " : "") + point.name;
    box.appendChild(title);
    var what = document.createElement("div");
    what.textContent = labels[role];
    box.appendChild(what);
    return box;
  }

  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.sitesMap).textContent);
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: Boolean(data.tiles) });
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
    }
    // The view is set before any layer is added: Leaflet cannot place a circle (nor
    // measure a group holding one) on a map that has no view yet.
    var bounds = L.latLngBounds([]);
    ["existing", "committed", "sites"].forEach(function (role) {
      (data.layers[role] || []).forEach(function (point) {
        var at = L.latLng(point.lat, point.lon);
        bounds.extend(data.radius ? at.toBounds(2 * data.radius) : at);
      });
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds.pad(0.05), { maxZoom: 16 });
    } else {
      map.setView([0, 0], 2);
    }
    var everything = L.featureGroup().addTo(map);
    ["existing", "committed", "sites"].forEach(function (role) {
      var style = STYLES[role];
      (data.layers[role] || []).forEach(function (point) {
        var at = [point.lat, point.lon];
        if (data.radius) {
          L.circle(at, {
            radius: data.radius, color: style.color, weight: 1, fillColor: style.fill,
            fillOpacity: role === "sites" ? 0.12 : 0.06, interactive: false
          }).addTo(everything);
        }
        L.circleMarker(at, {
          radius: role === "sites" ? 9 : 6, color: "#ffffff", weight: 2,
          fillColor: style.fill, fillOpacity: 0.95
        }).bindTooltip(tooltip(role, point, data.labels)).addTo(everything);
      });
    });
  }

  document.querySelectorAll("[data-sites-map]").forEach(draw);
})();
