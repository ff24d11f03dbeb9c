"""How fast the UI is with a large store: a timing script, not a test.

Fills a SQLite store (once; kept in the folder given) with 100,000 flow runs of
10 task runs each and one flow run of 10,000 task runs, serves it with uvicorn,
times the main pages on the server, then opens the big run in headless Chromium
and measures the timeline: time to its first paint (the first load of the page is
also the server's first look at the run; later ones find its timeline cached), and
the time each frame takes while scrolling, zooming and panning.

    .venv/bin/python tests/server/ui/perf_timeline.py /tmp/cadenza-perf
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parents[2]))  # the checkout: bulk.py uses bench/seed.py

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

SERVE = """
import sys
import uvicorn
from cadenza.server.app import create_app
from cadenza.store.sql import SqlStore
app = create_app(SqlStore(sys.argv[1]), services=[], api_key="")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

FRAMES = """
async ([what, frames]) => {
  const el = document.getElementById("timeline");
  const tl = el.timeline;
  const box = el.querySelector(".timeline-scroll");
  const canvas = el.querySelector("canvas");
  const rect = canvas.getBoundingClientRect();
  const drawsBefore = tl.stats.draws, totalBefore = tl.stats.totalMs;
  tl.stats.maxMs = 0;
  const stamps = [];
  await new Promise((done) => {
    let i = 0;
    function step(ts) {
      stamps.push(ts);
      if (i++ >= frames) { done(); return; }
      const x = rect.left + 240 + (rect.width - 260) * (0.3 + 0.4 * Math.random());
      const y = rect.top + 100;
      if (what === "scroll") {
        box.scrollTop = (box.scrollTop + 173) % (box.scrollHeight - box.clientHeight);
      } else if (what === "zoom") {
        const deltaY = i < frames / 2 ? -120 : 120;
        canvas.dispatchEvent(new WheelEvent("wheel",
          {deltaY, ctrlKey: true, clientX: x, clientY: y, bubbles: true, cancelable: true}));
      } else {
        const deltaX = i % 40 < 20 ? 60 : -60;
        canvas.dispatchEvent(new WheelEvent("wheel",
          {deltaX, clientX: x, clientY: y, bubbles: true, cancelable: true}));
      }
      requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  });
  const gaps = stamps.slice(1).map((t, k) => t - stamps[k]);
  return {gaps, draws: tl.stats.draws - drawsBefore,
          drawMs: tl.stats.totalMs - totalBefore, maxDrawMs: tl.stats.maxMs};
}
"""


def seed(db: Path) -> str:
    from bulk import seed_big_run, seed_many

    from cadenza.store.sql import SqlStore

    big_id = db.with_suffix(".big")
    if db.exists() and big_id.exists():
        return big_id.read_text()
    store = SqlStore(f"sqlite:///{db}")
    started = time.perf_counter()
    seed_many(store, flow_runs=100_000, tasks_per_run=10)
    run_id = seed_big_run(store, tasks=10_000)
    store.close()
    big_id.write_text(run_id)
    print(f"seeded in {time.perf_counter() - started:.0f} s")
    return run_id


def server_timings(url: str, big: str) -> None:
    paths = [
        "/",
        "/?range=30d",
        "/runs",
        "/runs?state=FAILED",
        "/runs?state=Cached",
        "/runs?tag=gpu",
        "/runs?flow=train&state=FAILED&tag=nightly",
        "/runs?span=7d",
        f"/runs/{big}",
        f"/ui/runs/{big}/timeline.json",
        "/artifacts",
    ]
    with httpx.Client(base_url=url, timeout=60, headers={"Accept-Encoding": "gzip"}) as client:
        first = client.get("/runs").text
        older = first.split('href="/runs?before=')[1].split('"')[0]
        paths.append(f"/runs?before={older}")
        print(f"{'page':60} {'first ms':>9} {'median ms':>10} {'kB sent':>8}")
        for path in paths:
            times = []
            size = 0
            for _ in range(5):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                size = int(response.headers.get("content-length", len(response.content)))
                assert response.status_code == 200, (path, response.status_code)
            print(
                f"{path[:60]:60} {times[0]:9.1f} {statistics.median(times[1:]):10.1f} "
                f"{size / 1024:8.1f}"
            )


def _summary(label: str, result: dict[str, Any]) -> None:
    gaps = sorted(result["gaps"])
    p95 = gaps[int(len(gaps) * 0.95) - 1]
    mean_draw = result["drawMs"] / max(result["draws"], 1)
    print(
        f"{label:8} frames {len(gaps):4}  frame interval median {statistics.median(gaps):5.1f} ms, "
        f"p95 {p95:5.1f} ms, max {gaps[-1]:5.1f} ms;  draw mean {mean_draw:4.2f} ms, "
        f"max {result['maxDrawMs']:4.2f} ms"
    )


def browser_timings(url: str, big: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        page = context.new_page()
        for attempt in range(3):
            page.goto(f"{url}/runs/{big}")
            page.wait_for_selector("#timeline[data-ready='1']", timeout=60_000)
            painted = page.evaluate(
                "performance.getEntriesByName('cadenza-timeline-painted')[0].startTime"
            )
            stats = page.evaluate("document.getElementById('timeline').timeline.stats")
            dom = page.evaluate(
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
            rows = page.get_attribute("#timeline", "data-rows")
            print(
                f"load {attempt + 1}: {rows} rows; DOM ready {dom:.0f} ms, timeline JSON fetched "
                f"in {stats['loadMs']:.0f} ms, first paint of the timeline at {painted:.0f} ms "
                f"after navigation start (first draw {stats['lastMs']:.1f} ms)"
            )
        page.locator("#timeline").scroll_into_view_if_needed()
        for what in ("scroll", "zoom", "pan"):
            _summary(what, page.evaluate(FRAMES, [what, 240]))
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    db = args.folder / "perf.db"
    big = seed(db)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, f"sqlite:///{db}", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        browser_timings(url, big)  # first: the server has not seen the big run yet
        server_timings(url, big)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
