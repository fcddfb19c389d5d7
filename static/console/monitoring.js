// Monitoring charts: fetches the console's JSON endpoint and draws three Chart.js line charts.
(function () {
  "use strict";
  var form = document.getElementById("mon-filters");
  var i18n = document.getElementById("mon-i18n").dataset;
  var codeLabels = JSON.parse(document.getElementById("code-labels").textContent);
  var numbers = new Intl.NumberFormat("en-US", {maximumFractionDigits: 1});
  var charts = {};

  function label(iso, period) {
    var d = new Date(iso);
    if (period === "month") { return (d.getMonth() + 1) + "-" + d.getDate(); }
    var hh = String(d.getHours()).padStart(2, "0"), mm = String(d.getMinutes()).padStart(2, "0");
    return hh + ":" + mm;
  }

  function draw(id, labels, datasets) {
    if (charts[id]) { charts[id].destroy(); }
    charts[id] = new Chart(document.getElementById(id), {
      type: "line",
      data: {labels: labels, datasets: datasets},
      options: {animation: false, spanGaps: false, responsive: true,
                interaction: {mode: "index", intersect: false},
                scales: {y: {beginAtZero: true}}, plugins: {legend: {position: "bottom"}}}
    });
  }

  function line(name, data, color) {
    return {label: name, data: data, borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 2};
  }

  function render(data, period) {
    var s = data.series, labels = s.labels.map(function (x) { return label(x, period); });
    draw("chart-count", labels, [line(i18n.requests, s.count, "#2563eb"), line(i18n.errors, s.errors, "#dc2626")]);
    draw("chart-latency", labels, [line(i18n.p50, s.p50_ms, "#059669"), line(i18n.p95, s.p95_ms, "#d97706")]);
    draw("chart-bytes", labels, [line(i18n["in"], s.bytes_in, "#7c3aed"), line(i18n.out, s.bytes_out, "#0891b2")]);
    document.querySelectorAll("#mon-summary [data-k]").forEach(function (el) {
      var v = data.summary[el.dataset.k];
      el.textContent = (v === null || v === undefined) ? "–" : numbers.format(v);
    });
    var body = document.querySelector("#codes tbody");
    body.innerHTML = "";
    var codes = Object.keys(data.codes);
    if (!codes.length) {
      body.innerHTML = "<tr><td colspan='3' class='muted'></td></tr>";
      body.querySelector("td").textContent = i18n.none;
    }
    codes.forEach(function (code) {
      var tr = document.createElement("tr");
      tr.dataset.code = code;
      tr.innerHTML = "<td></td><td></td><td class='num'></td>";
      tr.children[0].textContent = code;
      tr.children[1].textContent = codeLabels[code] || "";
      tr.children[2].textContent = numbers.format(data.codes[code]);
      body.appendChild(tr);
    });
    document.body.dataset.monLoaded = String(data.summary.count);
  }

  function load() {
    var params = new URLSearchParams(new FormData(form));
    fetch(form.dataset.url + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) { render(data, params.get("period")); });
  }

  form.addEventListener("change", load);
  document.getElementById("mon-refresh").addEventListener("click", load);
  load();
})();
