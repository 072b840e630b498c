// The bpmn-js modeler: load a version, edit, then Check or Deploy through the server, which
// validates the XML exactly like an upload. Problems come back as rows (file, line, element,
// message); their elements are marked on the canvas. `window.weftModeler` is the bpmn-js
// instance (handy for tests and for the browser console).
(function () {
  "use strict";
  var box = document.getElementById("bpmn-modeler");
  var result = document.getElementById("modeler-result");
  if (!box || typeof BpmnJS === "undefined") { return; }
  var modeler = new BpmnJS({ container: box, keyboard: { bindTo: document } });
  window.weftModeler = modeler;
  var PALETTE_WIDTH = 120;  // px the tool palette covers on the canvas's left edge, and a gap
  var MARGIN = 16;

  // Fit the whole diagram into the part of the canvas right of the palette (never above
  // 100 %), centred vertically: a wide one (a pool with lanes) keeps its pool header in view.
  function fit() {
    var canvas = modeler.get("canvas");
    var box = canvas.viewbox();
    var inner = box.inner, outer = box.outer;
    if (!inner.width || !inner.height) { return; }
    var scale = Math.min(
      (outer.width - PALETTE_WIDTH - MARGIN) / inner.width,
      (outer.height - 2 * MARGIN) / inner.height,
      1
    );
    canvas.viewbox({
      x: inner.x - PALETTE_WIDTH / scale,
      y: inner.y - (outer.height / scale - inner.height) / 2,
      width: outer.width / scale,
      height: outer.height / scale
    });
  }
  window.weftFit = fit;
  var labels = JSON.parse(result.dataset.labels);
  var marked = [];

  function cell(row, text, tag) {
    var el = document.createElement(tag || "td");
    el.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
    row.appendChild(el);
  }

  function clearMarks() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (id) { canvas.removeMarker(id, "marker-problem"); });
    marked = [];
  }

  function show(answer) {
    clearMarks();
    result.innerHTML = "";
    if (answer.ok) {
      var ok = document.createElement("div");
      ok.className = "flash flash-success";
      ok.dataset.testid = "validation-ok";
      var version = answer.processes.length ? answer.processes[0].version : "";
      ok.textContent = answer.message || result.dataset.okText.replace("{version}", version);
      result.appendChild(ok);
      return;
    }
    var report = document.createElement("div");
    report.className = "validation-report";
    report.dataset.testid = "validation-report";
    report.setAttribute("role", "alert");
    var title = document.createElement("h3");
    title.textContent = result.dataset.failedText.replace("{count}", answer.problems.length);
    report.appendChild(title);
    var table = document.createElement("table");
    table.className = "striped";
    var head = document.createElement("tr");
    [labels.file, labels.line, labels.element, labels.problem].forEach(function (t) { cell(head, t, "th"); });
    table.appendChild(head);
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");
    answer.problems.forEach(function (p) {
      var row = document.createElement("tr");
      row.dataset.testid = "problem";
      cell(row, p.file); cell(row, p.line); cell(row, p.element_id); cell(row, p.message);
      table.appendChild(row);
      if (p.element_id && registry.get(p.element_id)) {
        canvas.addMarker(p.element_id, "marker-problem");
        marked.push(p.element_id);
      }
    });
    report.appendChild(table);
    result.appendChild(report);
  }

  function send(action) {
    return modeler.saveXML({ format: true }).then(function (saved) {
      return fetch(box.dataset.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
        body: JSON.stringify({ action: action, xml: saved.xml, base_version: Number(box.dataset.baseVersion) })
      });
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      if (answer.ok && answer.redirect) { window.location.assign(answer.redirect); return; }
      show(answer);
    }).catch(function (error) {
      show({ ok: false, problems: [{ message: String(error) }] });
    });
  }

  document.getElementById("modeler-check").addEventListener("click", function () { send("check"); });
  document.getElementById("modeler-deploy").addEventListener("click", function () { send("deploy"); });

  fetch(box.dataset.xmlUrl, { credentials: "same-origin" })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      fit();
      box.dataset.rendered = "true";
    })
    .catch(function (error) { show({ ok: false, problems: [{ message: String(error) }] }); });
})();
