// Draws the instance's BPMN diagram with bpmn-js (viewer) and marks how far it got:
// `marker-completed` on elements passed through (and the flows between them),
// `marker-current` on the elements it waits in, `marker-failed` where an error stopped it.
(function () {
  "use strict";
  var box = document.getElementById("bpmn-diagram");
  if (!box || typeof BpmnJS === "undefined") { return; }
  var completed = new Set(JSON.parse(box.dataset.completed || "[]"));
  var current = new Set(JSON.parse(box.dataset.current || "[]"));
  var failed = new Set(JSON.parse(box.dataset.failed || "[]"));
  var viewer = new BpmnJS({ container: box });

  function mark(registry, canvas, ids, marker) {
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  fetch(box.dataset.xmlUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var reached = function (id) { return completed.has(id) || current.has(id) || failed.has(id); };
      registry.filter(function (el) { return el.type === "bpmn:SequenceFlow"; })
        .forEach(function (flow) {
          if (flow.source && flow.target && completed.has(flow.source.id) && reached(flow.target.id)) {
            canvas.addMarker(flow.id, "marker-completed");
          }
        });
      mark(registry, canvas, completed, "marker-completed");
      mark(registry, canvas, current, "marker-current");
      mark(registry, canvas, failed, "marker-failed");
      canvas.zoom("fit-viewport", "auto");
      box.dataset.rendered = "true";
    })
    .catch(function (error) {
      box.textContent = box.dataset.errorText + " (" + error.message + ")";
      box.dataset.rendered = "error";
    });
})();
