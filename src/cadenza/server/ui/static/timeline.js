// cadenza run timeline: a Gantt chart of task runs and subflow runs on a <canvas>.
//
// The rows come as parallel arrays from /ui/runs/{id}/timeline.json. Only the rows
// in view are drawn (the canvas stays as tall as its scroll box; a spacer gives the
// box its full height), so a frame costs the same with 20 rows or 50,000. The band
// at the top counts the runs running at once over the visible time span, computed
// from every row in one pass: the overview when bars are too thin to tell apart.
(function () {
  "use strict";

  var ROW_H = 22;
  var OVERVIEW_H = 34;
  var AXIS_H = 22;
  var HEAD_H = OVERVIEW_H + AXIS_H;
  var LABEL_W = 240;
  var PAD_R = 14;
  var MAX_VIEW_H = 560;
  var MIN_SPAN_MS = 2;
  var REFRESH_MS = 3000;
  var FINAL = { completed: 1, cached: 1, failed: 1, crashed: 1, cancelled: 1 };
  var TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4,
    12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];

  function fmtOffset(ms, step) {
    var sign = ms < 0 ? "-" : "";
    ms = Math.abs(ms);
    if (step < 1000) {
      return ms < 1000 ? sign + Math.round(ms) + "ms" : sign + (ms / 1000).toFixed(step < 100 ? 2 : 1) + "s";
    }
    var s = Math.round(ms / 1000);
    if (s < 60) { return sign + s + "s"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return sign + m + "m" + (s % 60 ? String(s % 60).padStart(2, "0") + "s" : ""); }
    var h = Math.floor(m / 60);
    if (h < 48) { return sign + h + "h" + (m % 60 ? String(m % 60).padStart(2, "0") + "m" : ""); }
    return sign + Math.floor(h / 24) + "d" + (h % 24 ? h % 24 + "h" : "");
  }

  function fmtDuration(ms) {
    if (ms == null) { return "-"; }
    if (ms < 1000) { return Math.max(0, Math.round(ms)) + "ms"; }
    if (ms < 60000) { return (ms / 1000).toFixed(1) + "s"; }
    return fmtOffset(ms, 1000);
  }

  function Timeline(el) {
    this.el = el;
    this.box = el.querySelector(".timeline-scroll");
    this.canvas = el.querySelector("canvas");
    this.spacer = el.querySelector(".timeline-spacer");
    this.tip = el.querySelector(".timeline-tip");
    this.info = document.getElementById("timeline-info");
    this.ctx = this.canvas.getContext("2d");
    this.data = null;
    this.n = 0;
    this.v0 = 0;
    this.v1 = 1;
    this.zoomed = false;
    this.pending = 0;
    this.hover = -1;
    this.drag = null;
    this.labels = {};
    this.stats = { draws: 0, lastMs: 0, maxMs: 0, totalMs: 0, firstPaint: null, loadMs: null };
    el.timeline = this;
    this.readColors();
    this.bind();
    this.live = el.getAttribute("data-live") === "1";
    this.load();
  }

  // A running run's rows are fetched again, less often when they take long to get.
  Timeline.prototype.refreshLater = function (tookMs) {
    var self = this;
    window.setTimeout(function () {
      if (document.hidden) { self.refreshLater(0); } else { self.load(); }
    }, Math.max(REFRESH_MS, tookMs * 10));
  };

  Timeline.prototype.readColors = function () {
    var style = getComputedStyle(document.documentElement);
    var names = ["completed", "cached", "failed", "crashed", "cancelled", "running", "pending",
      "scheduled", "late", "paused", "none", "line", "muted", "ink", "accent"];
    this.colors = {};
    for (var i = 0; i < names.length; i++) {
      this.colors[names[i]] = style.getPropertyValue("--" + names[i]).trim() || "#999";
    }
  };

  Timeline.prototype.load = function () {
    var self = this;
    var started = performance.now();
    fetch(this.el.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        var took = performance.now() - started;
        if (self.stats.loadMs === null) { self.stats.loadMs = took; }
        self.setData(data);
        if (self.live && !data.run.final) { self.refreshLater(took); }
      })
      .catch(function (err) {
        if (self.info) { self.info.textContent = "The timeline could not be loaded (" + err.message + ")."; }
      });
  };

  Timeline.prototype.setData = function (d) {
    this.data = d;
    this.n = d.rows;
    this.labels = {};
    this.cls = d.classes;
    var lo = Infinity;
    var hi = -Infinity;
    for (var i = 0; i < this.n; i++) {
      var c = d.created[i];
      var s = d.start[i];
      var e = this.endOf(i);
      if (c != null && c < lo) { lo = c; }
      if (s != null && s < lo) { lo = s; }
      if (e != null && e > hi) { hi = e; }
      if (s != null && s > hi) { hi = s; }
    }
    if (d.run.start != null) { lo = Math.min(lo, d.run.start); }
    hi = Math.max(hi, d.run.end != null ? d.run.end : (d.run.final ? hi : d.now));
    lo = isFinite(lo) ? Math.min(lo, 0) : 0;
    if (!isFinite(hi) || hi < lo + 10) { hi = lo + 10; }
    this.lo = lo;
    this.hi = hi;
    if (!this.zoomed) { this.fit(); }
    this.layout();
    this.describe();
  };

  Timeline.prototype.endOf = function (i) {
    var d = this.data;
    var e = d.end[i];
    if (e != null) { return e; }
    if (d.start[i] != null && !FINAL[this.cls[d.state[i]]]) { return d.now; }
    return null;
  };

  Timeline.prototype.describe = function () {
    var d = this.data;
    var tasks = 0;
    var subflows = 0;
    var retried = 0;
    for (var i = 0; i < this.n; i++) {
      if (d.kind[i] === 1) { subflows++; } else { tasks++; }
      if (d.runs[i] > 1) { retried++; }
    }
    var parts = [tasks.toLocaleString("en") + " task runs"];
    if (subflows) { parts.push(subflows.toLocaleString("en") + " subflow runs"); }
    if (retried) { parts.push(retried.toLocaleString("en") + " retried"); }
    if (d.truncated) { parts.push("cut at " + this.n.toLocaleString("en") + " rows"); }
    if (this.info) { this.info.textContent = this.n ? parts.join(" · ") : "No task runs."; }
    this.el.setAttribute("data-rows", String(this.n));
  };

  Timeline.prototype.fit = function () {
    var span = this.hi - this.lo;
    var pad = Math.max(span * 0.02, 1);
    this.v0 = this.lo - pad;
    this.v1 = this.hi + pad;
    this.zoomed = false;
    this.measure();
  };

  Timeline.prototype.layout = function () {
    var content = HEAD_H + this.n * ROW_H;
    var height = Math.min(Math.max(content, HEAD_H + 3 * ROW_H), MAX_VIEW_H);
    this.box.style.height = height + 2 + "px";
    var viewH = this.box.clientHeight;
    this.canvas.style.height = viewH + "px";
    this.spacer.style.height = Math.max(0, content - viewH) + "px";
    this.resize();
  };

  Timeline.prototype.resize = function () {
    var dpr = window.devicePixelRatio || 1;
    var w = this.canvas.clientWidth;
    var h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.labels = {};
    }
    this.schedule();
  };

  Timeline.prototype.schedule = function () {
    if (this.pending || !this.data) { return; }
    var self = this;
    this.pending = window.requestAnimationFrame(function () {
      self.pending = 0;
      self.draw();
    });
  };

  // Pixels per millisecond of the view; measured once per frame (reading the
  // canvas's width forces a layout, too slow to do once per row).
  Timeline.prototype.measure = function () {
    this.W = this.canvas.clientWidth;
    this.H = this.canvas.clientHeight;
    this.plotW = Math.max(this.W - LABEL_W - PAD_R, 1);
    this.scale = this.plotW / (this.v1 - this.v0);
  };

  Timeline.prototype.x = function (t) {
    return LABEL_W + (t - this.v0) * this.scale;
  };

  Timeline.prototype.t = function (x) {
    return this.v0 + (x - LABEL_W) / this.scale;
  };

  Timeline.prototype.label = function (i, width) {
    var cached = this.labels[i];
    if (cached !== undefined) { return cached; }
    var ctx = this.ctx;
    var text = this.data.name[i];
    if (ctx.measureText(text).width > width) {
      var lo = 0;
      var hi = text.length;
      while (lo < hi) {
        var mid = (lo + hi + 1) >> 1;
        if (ctx.measureText(text.slice(0, mid) + "…").width <= width) { lo = mid; } else { hi = mid - 1; }
      }
      text = text.slice(0, lo) + "…";
    }
    this.labels[i] = text;
    return text;
  };

  Timeline.prototype.tickStep = function () {
    var perPx = 1 / this.scale;
    for (var i = 0; i < TICKS.length; i++) {
      if (TICKS[i] / perPx >= 90) { return TICKS[i]; }
    }
    return TICKS[TICKS.length - 1];
  };

  Timeline.prototype.draw = function () {
    var began = performance.now();
    var ctx = this.ctx;
    var d = this.data;
    var c = this.colors;
    var dpr = window.devicePixelRatio || 1;
    this.measure();
    var W = this.W;
    var H = this.H;
    var plotR = W - PAD_R;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
    ctx.textBaseline = "middle";

    var step = this.tickStep();
    var firstTick = Math.ceil(this.v0 / step) * step;
    ctx.strokeStyle = c.line;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (var tk = firstTick; tk <= this.v1; tk += step) {
      var gx = Math.round(this.x(tk)) + 0.5;
      ctx.moveTo(gx, HEAD_H);
      ctx.lineTo(gx, H);
    }
    ctx.stroke();

    var top = this.box.scrollTop;
    var first = Math.max(0, Math.floor(top / ROW_H));
    var last = Math.min(this.n - 1, Math.ceil((top + H - HEAD_H) / ROW_H));
    for (var i = first; i <= last; i++) {
      var y = HEAD_H + i * ROW_H - top;
      if (i === this.hover) {
        ctx.fillStyle = "rgba(53, 89, 209, 0.07)";
        ctx.fillRect(0, y, W, ROW_H);
      } else if (i % 2 === 1) {
        ctx.fillStyle = "rgba(0, 0, 0, 0.018)";
        ctx.fillRect(0, y, W, ROW_H);
      }
      this.drawRow(i, y, plotR);
      var indent = 8 + Math.min(d.depth[i], 12) * 14;
      ctx.fillStyle = d.kind[i] === 1 ? c.ink : "#374151";
      ctx.font = (d.kind[i] === 1 ? "600 " : "") + "12px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
      ctx.fillText((d.kind[i] === 1 ? "▸ " : "") + this.label(i, LABEL_W - indent - 14), indent, y + ROW_H / 2);
    }
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

    this.drawHead(W, plotR, step, firstTick);
    if (!d.run.final) {
      var nx = this.x(d.now);
      if (nx >= LABEL_W && nx <= plotR) {
        ctx.strokeStyle = c.running;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(Math.round(nx) + 0.5, OVERVIEW_H);
        ctx.lineTo(Math.round(nx) + 0.5, H);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    ctx.strokeStyle = c.line;
    ctx.beginPath();
    ctx.moveTo(LABEL_W - 0.5, 0);
    ctx.lineTo(LABEL_W - 0.5, H);
    ctx.stroke();

    var spent = performance.now() - began;
    var s = this.stats;
    s.draws++;
    s.lastMs = spent;
    s.totalMs += spent;
    if (spent > s.maxMs) { s.maxMs = spent; }
    if (s.firstPaint === null) {
      s.firstPaint = performance.now();
      if (performance.mark) { performance.mark("cadenza-timeline-painted"); }
      this.el.setAttribute("data-ready", "1");
    }
  };

  Timeline.prototype.drawRow = function (i, y, plotR) {
    var ctx = this.ctx;
    var d = this.data;
    var c = this.colors;
    var cls = this.cls;
    var s = d.start[i];
    var cr = d.created[i];
    var e = this.endOf(i);
    var mid = y + ROW_H / 2;
    var barY = y + 5;
    var barH = ROW_H - 10;
    var x0;
    var x1;
    if (cr != null) {
      var waitEnd = s != null ? s : (FINAL[cls[d.state[i]]] ? cr : d.now);
      if (waitEnd > cr) {
        x0 = Math.max(this.x(cr), LABEL_W);
        x1 = Math.min(this.x(waitEnd), plotR);
        if (x1 > x0) {
          ctx.fillStyle = c.pending;
          ctx.fillRect(x0, mid - 1, x1 - x0, 2);
        }
      }
    }
    if (s == null) {
      if (cr != null && FINAL[cls[d.state[i]]]) {
        // Finished without running (a Cached result, a cancelled wait): a diamond.
        var dx = this.x(cr);
        if (dx >= LABEL_W && dx <= plotR) {
          ctx.fillStyle = c[cls[d.state[i]]] || c.none;
          ctx.beginPath();
          ctx.moveTo(dx, mid - 5);
          ctx.lineTo(dx + 5, mid);
          ctx.lineTo(dx, mid + 5);
          ctx.lineTo(dx - 5, mid);
          ctx.closePath();
          ctx.fill();
        }
      }
      return;
    }
    var last = e != null ? e : s;
    if (this.x(last) < LABEL_W || this.x(s) > plotR) {
      // The bar is out of view: a mark at the side where it is.
      var left = this.x(last) < LABEL_W;
      var ex = left ? LABEL_W + 3 : plotR - 3;
      ctx.fillStyle = c[cls[d.state[i]]] || c.none;
      var base = left ? ex + 5 : ex - 5;
      ctx.beginPath();
      ctx.moveTo(base, mid - 4);
      ctx.lineTo(base, mid + 4);
      ctx.lineTo(ex, mid);
      ctx.closePath();
      ctx.fill();
      return;
    }
    var segs = d.segments[String(i)];
    if (segs && segs.length > 1) {
      for (var k = 0; k < segs.length; k++) {
        var from = segs[k][0];
        var to = k + 1 < segs.length ? segs[k + 1][0] : e;
        if (to == null || to <= from) { continue; }
        var kind = cls[segs[k][1]];
        var next = k + 1 < segs.length ? cls[segs[k + 1][1]] : null;
        x0 = Math.max(this.x(from), LABEL_W);
        x1 = Math.min(this.x(to), plotR);
        if (x1 < LABEL_W || x0 > plotR) { continue; }
        if (kind === "running") {
          var outcome = next === null ? "running" : (FINAL[next] ? next : (next === "scheduled" ? "failed" : "running"));
          ctx.fillStyle = c[outcome] || c.none;
          ctx.fillRect(x0, barY, Math.max(x1 - x0, 2), barH);
        } else {
          ctx.fillStyle = c[kind] || c.pending;
          ctx.fillRect(x0, mid - 2, Math.max(x1 - x0, 1), 4);
        }
        if (kind === "scheduled" && next === "running") {
          ctx.fillStyle = c.scheduled;
          ctx.fillRect(Math.min(x1, plotR) - 1, barY - 2, 2, barH + 4);
        }
      }
    } else {
      var end = e != null ? e : s;
      x0 = Math.max(this.x(s), LABEL_W);
      x1 = Math.min(this.x(end), plotR);
      if (x1 >= LABEL_W && x0 <= plotR) {
        ctx.fillStyle = c[cls[d.state[i]]] || c.none;
        ctx.fillRect(x0, barY, Math.max(x1 - x0, 2), barH);
      }
    }
    if (d.runs[i] > 1) {
      var rx = Math.min(this.x(e != null ? e : s), plotR) + 5;
      if (rx > LABEL_W && rx < plotR - 20) {
        ctx.fillStyle = "#b7791f";
        ctx.fillText("↻" + (d.runs[i] - 1), rx, mid);
      }
    }
  };

  Timeline.prototype.drawHead = function (W, plotR, step, firstTick) {
    var ctx = this.ctx;
    var d = this.data;
    var c = this.colors;
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, HEAD_H);
    var width = Math.max(Math.floor(plotR - LABEL_W), 1);
    var hist = this.concurrency(width);
    var counts = hist.counts;
    var peak = hist.peak;
    if (peak > 0) {
      var base = OVERVIEW_H - 4;
      var scale = (OVERVIEW_H - 10) / peak;
      ctx.fillStyle = "rgba(59, 130, 246, 0.35)";
      ctx.beginPath();
      ctx.moveTo(LABEL_W, base);
      var prev = -1;
      for (var px = 0; px < width; px++) {
        if (counts[px] !== prev) {
          var y0 = base - (prev < 0 ? 0 : prev) * scale;
          var y1 = base - counts[px] * scale;
          ctx.lineTo(LABEL_W + px, y0);
          ctx.lineTo(LABEL_W + px, y1);
          prev = counts[px];
        }
      }
      ctx.lineTo(LABEL_W + width, base - prev * scale);
      ctx.lineTo(LABEL_W + width, base);
      ctx.closePath();
      ctx.fill();
    }
    ctx.fillStyle = c.muted;
    ctx.textAlign = "left";
    ctx.fillText("Running at once (peak " + peak.toLocaleString("en") + ")", 8, OVERVIEW_H / 2);
    ctx.strokeStyle = c.line;
    ctx.beginPath();
    ctx.moveTo(0, OVERVIEW_H + 0.5);
    ctx.lineTo(W, OVERVIEW_H + 0.5);
    ctx.moveTo(0, HEAD_H - 0.5);
    ctx.lineTo(W, HEAD_H - 0.5);
    ctx.stroke();
    ctx.fillStyle = c.muted;
    ctx.textAlign = "center";
    for (var t = firstTick; t <= this.v1; t += step) {
      var x = this.x(t);
      if (x < LABEL_W + 12 || x > plotR) { continue; }
      ctx.fillText(fmtOffset(t, step), x, OVERVIEW_H + AXIS_H / 2);
    }
    ctx.textAlign = "left";
    ctx.fillText("Since the run was created", 8, OVERVIEW_H + AXIS_H / 2);
  };

  // When task runs start and end, sorted, with how many run after each moment:
  // the step function the band at the top draws. Built once per data.
  Timeline.prototype.steps = function () {
    var d = this.data;
    var times = [];
    for (var i = 0; i < this.n; i++) {
      var s = d.start[i];
      if (s == null || d.kind[i] === 1) { continue; }
      var e = this.endOf(i);
      times.push([s, 1], [e == null ? s : e, -1]);
    }
    times.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var at = new Float64Array(times.length);
    var count = new Int32Array(times.length);
    var running = 0;
    for (var k = 0; k < times.length; k++) {
      running += times[k][1];
      at[k] = times[k][0];
      count[k] = running;
    }
    return { at: at, count: count };
  };

  // The most task runs running at once within each pixel column of the view; kept
  // until the view or the data change (scrolling reuses it).
  Timeline.prototype.concurrency = function (width) {
    var key = this.v0 + "|" + this.v1 + "|" + width;
    if (this.hist && this.hist.key === key && this.hist.data === this.data) { return this.hist; }
    if (!this.stepData || this.stepData.data !== this.data) {
      this.stepData = this.steps();
      this.stepData.data = this.data;
    }
    var at = this.stepData.at;
    var count = this.stepData.count;
    var lo = 0;
    var hi = at.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (at[mid] < this.v0) { lo = mid + 1; } else { hi = mid; }
    }
    var j = lo;
    var current = j > 0 ? count[j - 1] : 0;
    var counts = new Int32Array(width);
    var peak = 0;
    for (var px = 0; px < width; px++) {
      var until = this.v0 + (px + 1) / this.scale;
      var most = current;
      while (j < at.length && at[j] < until) {
        current = count[j];
        if (current > most) { most = current; }
        j++;
      }
      counts[px] = most;
      if (most > peak) { peak = most; }
    }
    this.hist = { key: key, data: this.data, counts: counts, peak: peak };
    return this.hist;
  };

  Timeline.prototype.zoom = function (factor, atX) {
    this.measure();
    var t = this.t(atX);
    var span = (this.v1 - this.v0) * factor;
    var full = (this.hi - this.lo) * 1.5 + 2;
    span = Math.min(Math.max(span, MIN_SPAN_MS), full);
    var ratio = (t - this.v0) / (this.v1 - this.v0);
    this.v0 = t - ratio * span;
    this.v1 = this.v0 + span;
    this.zoomed = true;
    this.measure();
    this.hideTip();
    this.schedule();
  };

  Timeline.prototype.pan = function (dx) {
    this.measure();
    var dt = dx / this.scale;
    this.v0 += dt;
    this.v1 += dt;
    this.zoomed = true;
    this.measure();
    this.schedule();
  };

  Timeline.prototype.rowAt = function (y) {
    if (y < HEAD_H) { return -1; }
    var i = Math.floor((y - HEAD_H + this.box.scrollTop) / ROW_H);
    return i >= 0 && i < this.n ? i : -1;
  };

  Timeline.prototype.onBar = function (i, x) {
    if (x < LABEL_W) { return true; }
    var d = this.data;
    var s = d.start[i];
    if (s == null) {
      var cr = d.created[i];
      return cr != null && FINAL[this.cls[d.state[i]]] && Math.abs(x - this.x(cr)) <= 6;
    }
    var e = this.endOf(i);
    var x0 = this.x(d.created[i] != null ? Math.min(d.created[i], s) : s);
    var x1 = this.x(e != null ? e : s);
    return x >= x0 - 4 && x <= Math.max(x1, x0 + 2) + 4;
  };

  Timeline.prototype.link = function (i) {
    var d = this.data;
    return (d.kind[i] === 1 ? "/runs/" : "/task-runs/") + encodeURIComponent(d.id[i]);
  };

  Timeline.prototype.showTip = function (i, x, y) {
    var d = this.data;
    var s = d.start[i];
    var e = this.endOf(i);
    var lines = [
      d.name[i] + (d.kind[i] === 1 ? "  (subflow run)" : ""),
      d.states[d.state[i]],
      "started " + (s == null ? "-" : "+" + fmtOffset(s, 1)) + " · took " + (s == null || e == null ? "-" : fmtDuration(e - s)),
    ];
    if (d.created[i] != null && s != null && s - d.created[i] >= 1) {
      lines.push("waited " + fmtDuration(s - d.created[i]) + " before starting");
    }
    if (d.runs[i] > 1) { lines.push((d.runs[i] - 1) + (d.runs[i] === 2 ? " retry" : " retries")); }
    this.tip.textContent = lines.join("\n");
    this.tip.hidden = false;
    var left = Math.min(x + 14, this.el.clientWidth - this.tip.offsetWidth - 4);
    this.tip.style.left = Math.max(left, 0) + "px";
    this.tip.style.top = y + 16 + "px";
  };

  Timeline.prototype.hideTip = function () {
    this.tip.hidden = true;
  };

  Timeline.prototype.bind = function () {
    var self = this;
    var canvas = this.canvas;
    this.box.addEventListener("scroll", function () { self.hideTip(); self.schedule(); }, { passive: true });
    canvas.addEventListener("wheel", function (ev) {
      if (!self.data) { return; }
      var rect = canvas.getBoundingClientRect();
      if (ev.ctrlKey || ev.metaKey || ev.altKey) {
        ev.preventDefault();
        self.zoom(Math.exp(ev.deltaY * 0.002), Math.max(ev.clientX - rect.left, LABEL_W));
      } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        ev.preventDefault();
        self.pan(ev.shiftKey && !ev.deltaX ? ev.deltaY : ev.deltaX);
      }
    }, { passive: false });
    canvas.addEventListener("mousedown", function (ev) {
      if (ev.button !== 0) { return; }
      self.drag = { x: ev.clientX, moved: false };
    });
    window.addEventListener("mousemove", function (ev) {
      if (!self.data) { return; }
      if (self.drag) {
        var dx = ev.clientX - self.drag.x;
        if (Math.abs(dx) > 2 || self.drag.moved) {
          self.drag.moved = true;
          self.drag.x = ev.clientX;
          canvas.classList.add("dragging");
          self.hideTip();
          self.pan(-dx);
          return;
        }
      }
      var rect = canvas.getBoundingClientRect();
      var x = ev.clientX - rect.left;
      var y = ev.clientY - rect.top;
      if (x < 0 || y < 0 || x > rect.width || y > rect.height) {
        if (self.hover !== -1) { self.hover = -1; self.hideTip(); self.schedule(); }
        return;
      }
      var i = self.rowAt(y);
      var hit = i >= 0 && self.onBar(i, x);
      canvas.style.cursor = hit ? "pointer" : "";
      if (hit) { self.showTip(i, x, y); } else { self.hideTip(); }
      if (i !== self.hover) { self.hover = i; self.schedule(); }
    });
    window.addEventListener("mouseup", function (ev) {
      var drag = self.drag;
      self.drag = null;
      canvas.classList.remove("dragging");
      if (!drag || drag.moved || !self.data) { return; }
      var rect = canvas.getBoundingClientRect();
      var x = ev.clientX - rect.left;
      var y = ev.clientY - rect.top;
      var i = self.rowAt(y);
      if (i >= 0 && x >= 0 && x <= rect.width && self.onBar(i, x)) {
        window.location.href = self.link(i);
      }
    });
    canvas.addEventListener("dblclick", function (ev) {
      var rect = canvas.getBoundingClientRect();
      var i = self.data ? self.rowAt(ev.clientY - rect.top) : -1;
      var s = i >= 0 ? self.data.start[i] : null;
      if (s == null) { return; }
      var e = self.endOf(i);
      var span = Math.max((e == null ? s : e) - s, MIN_SPAN_MS * 5);
      self.v0 = s - span * 0.25;
      self.v1 = s + span * 1.25;
      self.zoomed = true;
      self.measure();
      self.schedule();
    });
    var card = this.el.closest(".card") || document;
    card.addEventListener("click", function (ev) {
      var button = ev.target.closest && ev.target.closest("[data-zoom]");
      if (!button || !self.data) { return; }
      var how = button.getAttribute("data-zoom");
      var center = LABEL_W + (canvas.clientWidth - LABEL_W - PAD_R) / 2;
      if (how === "fit") { self.fit(); self.schedule(); } else { self.zoom(how === "in" ? 0.5 : 2, center); }
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { self.resize(); }).observe(this.box);
    } else {
      window.addEventListener("resize", function () { self.resize(); });
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("timeline");
    if (el) { new Timeline(el); }
  });
})();
