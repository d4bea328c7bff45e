// Goq dashboard: polls the server's read-only API every 2 s and renders with DOM text only (never HTML from data).
"use strict";
(function () {
  const token = new URL(document.getElementById("app").src).searchParams.get("token") || "";
  const $ = (id) => document.getElementById(id);
  const pageSize = 50;
  let pages = [];          // the "before" id of each page shown so far (first page: none)
  let next = null;         // the "before" id of the next older page
  let filter = { state: "", name: "", queue: "" };
  let chart = null;
  let loaded = { summary: false, jobs: false };

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(tbody, items, render) {
    const rows = items.map((item) => { const tr = document.createElement("tr"); render(tr, item); return tr; });
    tbody.replaceChildren(...rows);
  }

  const number = (n) => (n === undefined || n === null ? "–" : Number(n).toLocaleString("en-US"));
  const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const duration = (from, to) => {
    if (!from) return "";
    const s = Math.max(0, ((to ? new Date(to) : new Date()) - new Date(from)) / 1000);
    return s < 60 ? s.toFixed(1) + " s" : s < 3600 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(1) + " h";
  };

  function renderSummary(s) {
    const server = s.server || {};
    $("server").textContent = (server.endpoint || "") + "  ·  v" + (server.version || "") + "  ·  pid " + (server.pid || "") +
      "  ·  up " + duration(server.startedAt);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("count-workers").textContent = number(s.workers);
    $("count-busy").textContent = number(s.busySlots);
    $("count-idle").textContent = number(s.idleSlots);
    for (const [state, count] of Object.entries(s.states)) {
      const el = $("count-" + state);
      if (el) el.textContent = number(count);
    }
    fill($("queues").tBodies[0], s.queues, (tr, q) => {
      cell(tr, q.name);
      for (const st of ["waiting", "running", "blocked", "held", "completed", "failed"]) cell(tr, number(q[st] || 0));
    });
    renderChart(s.history);
  }

  // Throughput (jobs ended per minute, between samples) and the queue's length, over the last hour.
  function renderChart(history) {
    const t = [], rate = [], waiting = [], running = [];
    for (let i = 0; i < history.length; i++) {
      const [at, ended, w, r] = history[i];
      const prev = history[i - 1];
      t.push(at);
      rate.push(prev && at > prev[0] ? Math.max(0, (ended - prev[1]) / ((at - prev[0]) / 60)) : null);
      waiting.push(w);
      running.push(r);
    }
    const data = [t, rate, waiting, running];
    const width = Math.max(320, $("chart").clientWidth || 800);
    if (!chart) {
      chart = new uPlot({
        width, height: 220,
        series: [{}, { label: "ended / min", stroke: "#1a7f37", width: 2, scale: "rate" },
          { label: "waiting", stroke: "#9a6700", width: 2 }, { label: "running", stroke: "#0969da", width: 2 }],
        axes: [{}, { scale: "y", label: "jobs" }, { scale: "rate", side: 1, label: "per min", grid: { show: false } }],
        scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 3600), max] } }, // the last hour, however young the server
      }, data, $("chart"));
    } else {
      chart.setData(data);
    }
    $("chart").dataset.rendered = String(t.length);
  }

  function renderWorkers(list) {
    fill($("workers").tBodies[0], list, (tr, w) => {
      cell(tr, w.host); cell(tr, w.id.slice(0, 8)); cell(tr, w.slots); cell(tr, w.busySlots);
      cell(tr, w.queues); cell(tr, w.running); cell(tr, time(w.lastSeen));
    });
  }

  async function loadJobs() {
    const q = new URLSearchParams({ limit: pageSize });
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    const before = pages[pages.length - 1];
    if (before) q.set("before", before);
    const page = await api("api/jobs?" + q);
    next = page.next || null;
    const table = $("jobs");
    fill(table.tBodies[0], page.jobs, (tr, j) => {
      cell(tr, j.id); cell(tr, j.name); cell(tr, j.state.replace("_", " "), "state-" + j.state); cell(tr, j.queue);
      cell(tr, j.command, "command").title = j.command; cell(tr, time(j.submittedAt));
      cell(tr, duration(j.startedAt, j.finishedAt)); cell(tr, j.exitCode); cell(tr, j.worker);
      tr.addEventListener("click", () => { location.hash = "job=" + j.id; });
    });
    table.dataset.rows = String(page.jobs.length);
    $("newer").disabled = pages.length === 0;
    $("older").disabled = !next;
    $("page").textContent = (page.jobs.length ? "jobs " + page.jobs[0].id + " to " + page.jobs[page.jobs.length - 1].id : "no jobs") +
      (page.searchedTo ? " (searched down to job " + page.searchedTo + "; Older searches on)" : "");
  }

  async function showJob(id) {
    const detail = await api("api/job?id=" + encodeURIComponent(id));
    const job = detail.job;
    $("detail").hidden = false;
    $("detail-title").textContent = "Job " + job.Id + (job.Name ? " — " + job.Name : "");
    const fields = [["State", job.State], ["Command", detail.commandLine], ["Directory", job.WorkingDirectory], ["Queue", job.Queue || "default"],
      ["Submitted", time(job.SubmittedAt) + (job.SubmittedBy ? " by " + job.SubmittedBy : "")], ["Started", time(job.StartedAt)],
      ["Finished", time(job.FinishedAt)], ["Exit code", job.ExitCode], ["Reason", job.Reason], ["Worker", job.WorkerHost],
      ["Attempts", job.Attempts], ["Output file", job.OutputPath]];
    const dl = $("detail-fields");
    dl.replaceChildren();
    for (const [name, value] of fields) {
      if (value === undefined || value === null || value === "") continue;
      const dt = document.createElement("dt"); dt.textContent = name;
      const dd = document.createElement("dd"); dd.textContent = String(value);
      dl.append(dt, dd);
    }
    $("detail-output").textContent = detail.outputTail || "(no output)";
    $("detail").scrollIntoView({ behavior: "smooth" });
  }

  async function refresh() {
    try {
      const [summary, workers] = await Promise.all([api("api/summary"), api("api/workers")]);
      renderSummary(summary);
      renderWorkers(workers);
      loaded.summary = true;
      if (pages.length === 0) { await loadJobs(); loaded.jobs = true; }
      if (loaded.summary && loaded.jobs) document.body.dataset.ready = "1";
    } catch (e) {
      $("updated").textContent = "cannot reach the server: " + e.message;
    }
  }

  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    filter = { state: form.get("state"), name: form.get("name").trim(), queue: form.get("queue").trim() };
    pages = [];
    loadJobs();
  });
  $("older").addEventListener("click", () => { if (next) { pages.push(next); loadJobs(); } });
  $("newer").addEventListener("click", () => { pages.pop(); loadJobs(); });
  window.addEventListener("resize", () => chart && chart.setSize({ width: $("chart").clientWidth, height: 220 }));

  // A job's detail has an address of its own (#job=42): it can be bookmarked, shared with the token's holders, reloaded.
  function showJobFromHash() {
    const match = /job=(\d+)/.exec(location.hash);
    if (match) showJob(match[1]).then(() => { document.body.dataset.detail = match[1]; }, (e) => { $("detail-output").textContent = e.message; });
  }
  window.addEventListener("hashchange", showJobFromHash);

  refresh();
  showJobFromHash();
  setInterval(refresh, 2000);
})();
