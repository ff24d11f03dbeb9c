// cadenza tracking charts on <canvas>: metric histories (step curves, several runs
// overlaid) and a metric against a parameter (a scatter of runs).
//
// Each chart is a .chart-box[data-chart] whose data is JSON in the script element
// named by data-source (type application/json: data, never run). Values that JSON
// cannot hold come as the strings "NaN", "Infinity" and "-Infinity"; they are not
// drawn. Hovering shows the nearest point; clicking a scatter point opens its run.
(function () {
  "use strict";

  var HEIGHT = 320;
  var PAD = { left: 64, right: 18, top: 14, bottom: 40 };
  var COLORS = ["#3559d1", "#d64545", "#2f9e5b", "#e0b341", "#8b5cf6", "#4aa3a1",
    "#e08a41", "#a23b72", "#6b7280", "#1d2330"];

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function niceStep(span, count) {
    var raw = span / Math.max(count, 1);
    var mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var norm = raw / mag;
    var step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return step * mag;
  }

  function ticks(lo, hi, count) {
    if (!(hi > lo)) { return [lo]; }
    var step = niceStep(hi - lo, count);
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  function fmt(v) {
    if (!finite(v)) { return String(v); }
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) { return v.toExponential(2); }
    return String(Math.round(v * 1e6) / 1e6);
  }

  function extent(values, pad) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (finite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo === Infinity) { return [0, 1]; }
    if (lo === hi) { return [lo - 1, hi + 1]; }
    var m = (hi - lo) * (pad || 0);
    return [lo - m, hi + m];
  }

  function Chart(box, draw) {
    this.box = box;
    this.canvas = box.querySelector("canvas");
    this.tip = box.querySelector(".chart-tip");
    this.draw = draw;
    this.hits = [];
    var self = this;
    this.canvas.addEventListener("mousemove", function (e) { self.hover(e); });
    this.canvas.addEventListener("mouseleave", function () { self.tip.hidden = true; });
    window.addEventListener("resize", function () { self.render(); });
  }

  Chart.prototype.render = function () {
    var dpr = window.devicePixelRatio || 1;
    var width = Math.max(this.box.clientWidth, 320);
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(HEIGHT * dpr);
    this.canvas.style.width = width + "px";
    this.canvas.style.height = HEIGHT + "px";
    var ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    ctx.font = "11px system-ui, sans-serif";
    this.width = width;
    this.hits = [];
    this.draw(ctx, this);
  };

  Chart.prototype.frame = function (ctx, xs, ys, xLabel, yLabel, xTicks) {
    var w = this.width, plotW = w - PAD.left - PAD.right, plotH = HEIGHT - PAD.top - PAD.bottom;
    var sx = function (v) { return PAD.left + (v - xs[0]) / (xs[1] - xs[0]) * plotW; };
    var sy = function (v) { return PAD.top + (1 - (v - ys[0]) / (ys[1] - ys[0])) * plotH; };
    ctx.strokeStyle = "#e3e6eb";
    ctx.fillStyle = "#6b7280";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ticks(ys[0], ys[1], 5).forEach(function (v) {
      var y = Math.round(sy(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(PAD.left, y); ctx.lineTo(w - PAD.right, y); ctx.stroke();
      ctx.fillText(fmt(v), PAD.left - 6, y);
    });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    (xTicks || ticks(xs[0], xs[1], Math.max(2, Math.floor(plotW / 90))).map(function (v) {
      return [v, fmt(v)];
    })).forEach(function (t) {
      var x = Math.round(sx(t[0])) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, PAD.top); ctx.lineTo(x, HEIGHT - PAD.bottom); ctx.stroke();
      ctx.fillText(t[1], x, HEIGHT - PAD.bottom + 5);
    });
    ctx.fillStyle = "#1d2330";
    ctx.fillText(xLabel, PAD.left + plotW / 2, HEIGHT - 16);
    ctx.save();
    ctx.translate(12, PAD.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
    return { x: sx, y: sy };
  };

  Chart.prototype.hover = function (e) {
    var rect = this.canvas.getBoundingClientRect();
    var mx = e.clientX - rect.left, my = e.clientY - rect.top;
    var best = null, bestD = 18 * 18;
    this.hits.forEach(function (h) {
      var d = (h.x - mx) * (h.x - mx) + (h.y - my) * (h.y - my);
      if (d < bestD) { bestD = d; best = h; }
    });
    this.canvas.style.cursor = best && best.href ? "pointer" : "default";
    this.current = best;
    if (!best) { this.tip.hidden = true; return; }
    this.tip.textContent = best.text;
    this.tip.hidden = false;
    var left = Math.min(best.x + 12, this.width - this.tip.offsetWidth - 4);
    this.tip.style.left = Math.max(left, 0) + "px";
    this.tip.style.top = Math.max(best.y - this.tip.offsetHeight - 8, 0) + "px";
  };

  function historyChart(box, data) {
    var legend = box.querySelector(".chart-legend");
    var series = data.series.filter(function (s) { return s.points.length; });
    series.forEach(function (s, i) {
      var li = document.createElement("li");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = COLORS[i % COLORS.length];
      li.appendChild(sw);
      var points = s.count === 1 ? " point" : " points";
      li.appendChild(document.createTextNode(" " + s.label + " (" + s.count + points + ")"));
      legend.appendChild(li);
    });
    var steps = [], values = [];
    series.forEach(function (s) {
      s.points.forEach(function (p) { steps.push(p[0]); values.push(p[1]); });
    });
    var chart = new Chart(box, function (ctx, c) {
      var xs = extent(steps, 0), ys = extent(values, 0.05);
      var s = c.frame(ctx, xs, ys, "step", data.key);
      series.forEach(function (ser, i) {
        var color = COLORS[i % COLORS.length];
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.lineWidth = 1.6;
        ctx.beginPath();
        var open = false;
        ser.points.forEach(function (p) {
          if (!finite(p[1])) { open = false; return; }
          var x = s.x(p[0]), y = s.y(p[1]);
          if (open) { ctx.lineTo(x, y); } else { ctx.moveTo(x, y); open = true; }
          c.hits.push({ x: x, y: y, text: ser.label + "\nstep " + p[0] + ": " + fmt(p[1]) });
        });
        ctx.stroke();
        if (ser.points.length < 60) {
          ser.points.forEach(function (p) {
            if (finite(p[1])) { ctx.beginPath(); ctx.arc(s.x(p[0]), s.y(p[1]), 2.5, 0, 2 * Math.PI); ctx.fill(); }
          });
        }
      });
    });
    chart.render();
    box.dataset.drawn = String(series.length);
  }

  function scatterChart(box, data) {
    var points = data.points;
    var categories = null;
    if (!data.numeric_x) {
      categories = [];
      points.forEach(function (p) { if (categories.indexOf(p.x) < 0) { categories.push(p.x); } });
      categories.sort();
    }
    var xOf = function (p) { return categories ? categories.indexOf(p.x) : p.x; };
    var chart = new Chart(box, function (ctx, c) {
      var xs = categories ? [-0.5, categories.length - 0.5] : extent(points.map(xOf), 0.05);
      var ys = extent(points.map(function (p) { return p.y; }), 0.08);
      var xt = categories ? categories.map(function (name, i) { return [i, name]; }) : null;
      var s = c.frame(ctx, xs, ys, data.x, data.y, xt);
      ctx.fillStyle = "rgba(53, 89, 209, 0.75)";
      points.forEach(function (p) {
        var x = s.x(xOf(p)), y = s.y(p.y);
        ctx.beginPath(); ctx.arc(x, y, 4.5, 0, 2 * Math.PI); ctx.fill();
        c.hits.push({
          x: x, y: y, href: "/runs/" + encodeURIComponent(p.run_id),
          text: p.label + "\n" + data.x + " = " + (categories ? p.x : fmt(p.x)) + "\n" + data.y + " = " + fmt(p.y)
        });
      });
    });
    chart.canvas.addEventListener("click", function () {
      if (chart.current && chart.current.href) { window.location.href = chart.current.href; }
    });
    chart.render();
    box.dataset.drawn = String(points.length);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart-box[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.dataset.source);
      if (!source) { return; }
      var data = JSON.parse(source.textContent);
      if (box.dataset.chart === "history") { historyChart(box, data); }
      else if (box.dataset.chart === "scatter") { scatterChart(box, data); }
    });
  });
})();
