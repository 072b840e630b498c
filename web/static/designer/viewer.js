// Draws a stored version with the bpmn-js viewer; optional markers per element id
// (data-added / data-changed / data-removed: JSON lists), used by the version diff.
(function () {
  "use strict";
  document.querySelectorAll(".bpmn-canvas.viewer").forEach(function (box) {
    if (typeof BpmnJS === "undefined") { return; }
    var viewer = new BpmnJS({ container: box });
    var markers = {
      "diff-added": JSON.parse(box.dataset.added || "[]"),
      "diff-changed": JSON.parse(box.dataset.changed || "[]"),
      "diff-removed": JSON.parse(box.dataset.removed || "[]")
    };
    fetch(box.dataset.xmlUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        Object.keys(markers).forEach(function (marker) {
          markers[marker].forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, marker); }
          });
        });
        canvas.zoom("fit-viewport", "auto");
        box.dataset.rendered = "true";
      })
      .catch(function (error) {
        box.textContent = String(error);
        box.dataset.rendered = "error";
      });
  });
})();
