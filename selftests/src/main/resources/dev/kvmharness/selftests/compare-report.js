// SPDX-License-Identifier: GPL-2.0-only
// Draws the compare report from the inlined JSON, then checks that every chart put pixels on its canvas.
(function () {
  var data = JSON.parse(document.getElementById('compare-data').textContent);
  var SIM = 'rgba(54, 120, 200, 0.75)', REAL = 'rgba(220, 90, 50, 0.75)';
  var charts = [];
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;

  function fmtNs(ns) {
    if (ns >= 1e9) return (ns / 1e9).toPrecision(3) + ' s';
    if (ns >= 1e6) return (ns / 1e6).toPrecision(3) + ' ms';
    if (ns >= 1e3) return (ns / 1e3).toPrecision(3) + ' µs';
    return Math.round(ns) + ' ns';
  }

  function canvas(parent, id) {
    var div = document.createElement('div');
    div.className = 'chart';
    var c = document.createElement('canvas');
    c.id = id;
    div.appendChild(c);
    parent.appendChild(div);
    return c;
  }

  var lat = document.getElementById('latency-charts');
  Object.keys(data.latencies).forEach(function (name) {
    var d = data.latencies[name];
    var h = document.createElement('h2');
    h.textContent = 'Latency ' + name + ' (sim ' + d.sim_count + ' samples, real ' + d.real_count + ', all rounds)';
    lat.appendChild(h);
    var pair = document.createElement('div');
    pair.className = 'pair';
    lat.appendChild(pair);
    var labels = d.bucket_edges_ns.slice(0, -1).map(fmtNs);
    charts.push(new Chart(canvas(pair, 'hist-' + name), {
      type: 'bar',
      data: { labels: labels, datasets: [
        { label: 'sim', data: d.sim_share.map(function (x) { return 100 * x; }), backgroundColor: SIM },
        { label: 'real', data: d.real_share.map(function (x) { return 100 * x; }), backgroundColor: REAL }] },
      options: { plugins: { title: { display: true, text: 'histogram (share of samples, %, log buckets)' } },
        scales: { x: { title: { display: true, text: 'latency (bucket start)' } },
                  y: { title: { display: true, text: '% of samples' } } } }
    }));
    function pts(cdf) { return cdf.map(function (p) { return { x: Math.max(1, p[0]), y: p[1] }; }); }
    charts.push(new Chart(canvas(pair, 'cdf-' + name), {
      type: 'line',
      data: { datasets: [
        { label: 'sim', data: pts(d.sim_cdf), borderColor: SIM, backgroundColor: SIM, pointRadius: 0, stepped: true },
        { label: 'real', data: pts(d.real_cdf), borderColor: REAL, backgroundColor: REAL, pointRadius: 0, stepped: true }] },
      options: { plugins: { title: { display: true, text: 'CDF' } },
        scales: { x: { type: 'logarithmic', title: { display: true, text: 'latency (ns, log)' },
                       ticks: { autoSkip: false, maxRotation: 0, callback: function (v) {
                         var l = Math.log10(v); return Math.abs(l - Math.round(l)) < 1e-6 ? fmtNs(v) : ''; } } },
                  y: { min: 0, max: 100, title: { display: true, text: 'percentile' } } } }
    }));
  });

  var shown = data.stats.filter(function (r) { return r.sim_median > 0 || r.real_median > 0; });
  charts.push(new Chart(document.getElementById('stats-chart'), {
    type: 'bar',
    data: { labels: shown.map(function (r) { return r.name + (r.comparable ? '' : ' (n/c)'); }), datasets: [
      { label: 'sim', data: shown.map(function (r) { return r.sim_median; }), backgroundColor: SIM },
      { label: 'real', data: shown.map(function (r) { return r.real_median; }), backgroundColor: REAL }] },
    options: { plugins: { title: { display: true, text: 'non-zero stats; (n/c) = not comparable on this host, see the table' } },
      scales: { y: { type: 'logarithmic', title: { display: true, text: 'count (log)' } } } }
  }));

  // Times and rates on charts of their own (TimingCharts): on one axis a taller bar would mean slower for one
  // row and faster for the next.
  JSON.parse(document.getElementById('timing-charts').textContent).forEach(function (t) {
    charts.push(new Chart(document.getElementById(t.id), {
      type: 'bar',
      data: { labels: t.labels, datasets: [
        { label: 'sim', data: t.sim, backgroundColor: SIM },
        { label: 'real', data: t.real, backgroundColor: REAL }] },
      options: { plugins: { title: { display: true, text: 'medians per backend; in parentheses: sim / real' } },
        scales: { y: { type: 'logarithmic', title: { display: true, text: t.axis } } } }
    }));
  });

  function drawn(c) {
    var w = c.width, h = c.height;
    if (!w || !h) return false;
    var px = c.getContext('2d').getImageData(0, 0, w, h).data;
    for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }
  var n = charts.filter(function (ch) { return drawn(ch.canvas); }).length;
  // For the headless-Chromium test, in a JSON script element a reader never sees; '<' escaped so that an error
  // message cannot end the element.
  document.getElementById('self-check').textContent = JSON.stringify({ state: 'drawn', charts_expected: charts.length,
    charts_drawn: n, console_errors: window.__errors }).replace(/</g, '\\u003c');
})();
