// Draws the impact graph of a CI or service from the JSON the page embeds (CSP: no inline script).
(function () {
  "use strict";
  function draw() {
    var container = document.getElementById("impact-graph");
    var source = document.getElementById("impact-data");
    if (!container || !source || typeof window.cytoscape !== "function") { return; }
    var data = JSON.parse(source.textContent);
    var elements = data.nodes.map(function (n) {
      return { group: "nodes", data: n, classes: [n.kind, n.state, n.origin ? "origin" : ""].join(" ") };
    }).concat(data.edges.map(function (e) { return { group: "edges", data: e }; }));
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "text-wrap": "wrap", "text-max-width": "140px", "font-size": "10px",
          "text-valign": "bottom", "text-margin-y": "4px", "background-color": "#5b7c99", "width": 22, "height": 22,
          "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": "2px" } },
        { selector: "node.service", style: { "shape": "round-rectangle", "background-color": "#2f6f4e", "width": 30 } },
        { selector: "node.origin", style: { "border-width": 4, "border-color": "#d98c00" } },
        { selector: "node.retired, node.disposed", style: { "opacity": 0.5 } },
        { selector: "node.maintenance", style: { "background-color": "#c98a00" } },
        { selector: "edge", style: {
          "width": 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#9aa7b4",
          "target-arrow-color": "#9aa7b4", "label": "data(label)", "font-size": "8px", "color": "#55606b",
          "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } }
      ],
      layout: { name: "breadthfirst", directed: false, roots: "#" + cssEscape(data.origin), spacingFactor: 1.1,
                padding: 20 }
    });
    cy.on("tap", "node", function (event) {
      var url = event.target.data("url");
      if (url) { window.location.href = url; }
    });
  }
  function cssEscape(value) {
    return window.CSS && window.CSS.escape ? window.CSS.escape(value) : value.replace(/[^a-zA-Z0-9_-]/g, "\\$&");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
