/* The accessibility map: communities coloured by the share of people within the
   15-minute walk, facilities as points, and a legend. Data comes from the JSON the page
   carries (planning/views/access.py); text is set with textContent, never as HTML, and
   styles through the DOM, which the page's Content-Security-Policy allows. */
(function () {
  "use strict";

  // Light to dark: more people within the walk reads as "better", darker green.
  var COLOURS = ["#d7301f", "#fc8d59", "#fdcc8a", "#a6d96a", "#1a9641"];
  var NO_DATA = "#cccccc";

  function colour(share, bins) {
    if (share === null || share === undefined) {
      return NO_DATA;
    }
    for (var i = 1; i < bins.length; i += 1) {
      if (share < bins[i] || i === bins.length - 1) {
        return COLOURS[Math.min(i - 1, COLOURS.length - 1)];
      }
    }
    return COLOURS[COLOURS.length - 1];
  }

  function line(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div;
  }

  function legend(data) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "access-legend");
      box.style.background = "#ffffff";
      box.style.padding = "0.4rem 0.6rem";
      box.style.border = "1px solid #999";
      box.style.borderRadius = "4px";
      box.style.fontSize = "0.85rem";
      box.appendChild(line(data.labels.legend));
      var bins = data.legend;
      for (var i = 0; i + 1 < bins.length; i += 1) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.style.display = "inline-block";
        swatch.style.width = "1rem";
        swatch.style.height = "0.8rem";
        swatch.style.marginRight = "0.4rem";
        swatch.style.background = COLOURS[i];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(bins[i] + "–" + bins[i + 1]));
        box.appendChild(row);
      }
      var none = document.createElement("div");
      var grey = document.createElement("span");
      grey.style.display = "inline-block";
      grey.style.width = "1rem";
      grey.style.height = "0.8rem";
      grey.style.marginRight = "0.4rem";
      grey.style.background = NO_DATA;
      none.appendChild(grey);
      none.appendChild(document.createTextNode(data.labels.no_data));
      box.appendChild(none);
      return box;
    };
    return control;
  }

  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.accessMap).textContent);
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: Boolean(data.tiles) });
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
    }
    var everything = L.featureGroup().addTo(map);
    if (data.communities && data.communities.length) {
      L.geoJSON({ type: "FeatureCollection", features: data.communities }, {
        style: function (feature) {
          return {
            color: "#555555", weight: 1, fillOpacity: 0.7,
            fillColor: colour(feature.properties.share, data.legend)
          };
        },
        onEachFeature: function (feature, layer) {
          var p = feature.properties;
          var box = document.createElement("div");
          box.appendChild(line(p.name + " (" + p.code + ")"));
          box.appendChild(line(p.share === null ? data.labels.no_data : p.share + "%"));
          if (p.population !== null) {
            box.appendChild(line(data.labels.population + ": " + Math.round(p.population)));
          }
          layer.bindTooltip(box);
        }
      }).addTo(everything);
    }
    (data.facilities || []).forEach(function (f) {
      var box = document.createElement("div");
      box.appendChild(line(f.name));
      if (f.ratio !== null) {
        box.appendChild(line(data.labels.ratio + ": " + f.ratio.toFixed(2)));
      }
      L.circleMarker([f.lat, f.lon], {
        radius: 5, color: "#ffffff", weight: 1, fillColor: "#1f3a93", fillOpacity: 0.95
      }).bindTooltip(box).addTo(everything);
    });
    legend(data).addTo(map);
    var bounds = everything.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds.pad(0.05), { maxZoom: 16 });
    } else {
      map.setView([0, 0], 2);
    }
  }

  document.querySelectorAll("[data-access-map]").forEach(draw);
})();
