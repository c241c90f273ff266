// The Switchboard inspector: polls the local stack's /inspector/api every second and draws it.
// Everything shown comes from strangers (paths, subject ids, payload text, diagnostics): it is only
// ever put into the page as text (textContent, Text nodes) and SVG built with createElementNS.
// Never innerHTML, insertAdjacentHTML, document.write or an attribute that loads or runs anything.
"use strict";

(() => {
  const SVGNS = "http://www.w3.org/2000/svg";
  const POLL_MS = 1000;
  // Subjects and the open timeline are read from the table, which costs the emulator more than the
  // request log and the queue depths: re-read them while requests are arriving (and a few seconds
  // after, while the recorder records them), else every IDLE_MS (a redrive or `switchboard invoke`
  // records without a request here).
  const BUSY_MS = 5000;
  const IDLE_MS = 10000;
  const MAX_ROWS = 500;
  const state = { after: 0, rows: 0, subjectsKey: "", open: null, timelineKey: "", busyUntil: 0, lastRead: 0 };

  // --- building blocks ---------------------------------------------------------------------------

  function el(tag, cls, ...children) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node; // append() of a string makes a Text node: never parsed as markup
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function getJSON(path) {
    const response = await fetch("api/" + path, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function clock(iso) {
    // "2026-11-30T10:04:05.123Z" -> "10:04:05.123"; anything else as it is
    const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso || "");
    return m ? m[1] : String(iso || "");
  }

  function subjectPath(s) {
    return [s.provider, s.product, s.subject_id].map(encodeURIComponent).join("/");
  }

  // --- requests ----------------------------------------------------------------------------------

  function verdictCell(r) {
    const cell = el("td", "verdict");
    cell.append(el("span", `badge verdict-${r.verdict}`, `${r.verdict} ${r.status}`));
    if (r.code) cell.append(" ", el("span", "code", r.code));
    if (r.message) cell.append(el("div", "message", r.message));
    if (r.diagnostic && Object.keys(r.diagnostic).length) {
      cell.append(el("pre", "diagnostic", JSON.stringify(r.diagnostic, null, 1)));
    }
    return cell;
  }

  function subjectButton(subject, label) {
    const button = el("button", "subject-link", label);
    button.type = "button";
    button.dataset.subject = subjectPath(subject);
    button.addEventListener("click", () => openSubject(subject));
    return button;
  }

  function requestRow(r) {
    const row = el("tr", `req verdict-${r.verdict}`);
    row.dataset.seq = r.seq;
    const time = el("td", "time", clock(r.at));
    time.title = r.at;
    const request = el("td", "request", el("span", "method", r.method), " ", el("span", "path", r.path));
    if (r.function) request.append(el("div", "function", r.function));
    const events = el("td", "events");
    for (const id of r.event_ids || []) events.append(el("div", "event-id", id));
    const subject = el("td", "subject");
    if (r.subject_id && r.provider) {
      subject.append(subjectButton(r, r.subject_id), el("div", "product", `${r.provider}/${r.product}`));
    } else if (r.subject_id) {
      subject.append(el("span", "subject-id", r.subject_id));
    }
    row.append(time, request, verdictCell(r), events, subject);
    return row;
  }

  function addRequests(records) {
    const body = document.getElementById("request-rows");
    for (const r of records) {
      body.prepend(requestRow(r));
      state.after = Math.max(state.after, r.seq);
      state.rows += 1;
    }
    while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
    document.getElementById("no-requests").hidden = state.rows > 0;
    document.getElementById("request-count").textContent = state.rows ? `(${state.rows})` : "";
  }

  // --- subjects ----------------------------------------------------------------------------------

  function renderSubjects(subjects) {
    const key = JSON.stringify(subjects);
    if (key === state.subjectsKey) return;
    state.subjectsKey = key;
    const list = document.getElementById("subject-list");
    list.replaceChildren();
    for (const s of subjects) {
      const item = el("li", "subject-item");
      item.dataset.subject = subjectPath(s);
      if (state.open && subjectPath(state.open) === item.dataset.subject) item.classList.add("selected");
      const status = el("span", `badge status${s.terminal ? " terminal" : ""}`, s.status || "no status");
      item.append(
        subjectButton(s, s.subject_id),
        el("div", "meta", `${s.provider}/${s.product} · `, status, ` · ${s.events} event${s.events === 1 ? "" : "s"}`),
      );
      list.append(item);
    }
    document.getElementById("no-subjects").hidden = subjects.length > 0;
    document.getElementById("subject-count").textContent = subjects.length ? `(${subjects.length})` : "";
  }

  function openSubject(subject) {
    state.open = { provider: subject.provider, product: subject.product, subject_id: subject.subject_id };
    state.timelineKey = "";
    const path = subjectPath(state.open);
    for (const item of document.querySelectorAll("#subject-list li")) {
      item.classList.toggle("selected", item.dataset.subject === path);
    }
    history.replaceState(null, "", "#subject/" + subjectPath(state.open));
    refreshTimeline().catch(showError);
  }

  async function refreshTimeline() {
    if (!state.open) return;
    const response = await fetch("api/subjects/" + subjectPath(state.open), { cache: "no-store" });
    if (response.status === 404) return renderMissing();
    if (!response.ok) throw new Error(`timeline: HTTP ${response.status}`);
    const doc = await response.json();
    const key = JSON.stringify(doc);
    if (key === state.timelineKey) return;
    state.timelineKey = key;
    renderTimeline(doc);
  }

  function renderMissing() {
    const head = document.getElementById("subject-head");
    head.replaceChildren(el("h2", null, "Timeline"), el("p", "empty", `No event recorded yet for ${state.open.subject_id}.`));
    document.getElementById("timeline").replaceChildren();
  }

  // --- the timeline picture ------------------------------------------------------------------------

  function marks(p) {
    const out = [];
    if (p.late) out.push("late");
    if (p.superseded) out.push("superseded");
    if (p.duplicate) out.push(`×${p.deliveries}`);
    if (p.terminal) out.push("terminal");
    if (p.informational) out.push("informational");
    return out;
  }

  function lanes(points) {
    // one lane per status, highest rank on top; informational (unranked) statuses share the bottom lane
    const ranked = new Map();
    for (const p of points) if (p.rank !== null) ranked.set(p.status, p.rank);
    const order = [...ranked.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map((e) => e[0]);
    if (points.some((p) => p.rank === null)) order.push(null);
    return order;
  }

  // how a point is drawn: never current (informational), became current, or outranked on arrival
  const kindOf = (p) => (p.informational ? "informational" : p.current ? "current" : "superseded");

  function pointShape(p, x, y) {
    const classes = ["dot", kindOf(p)];
    if (p.terminal) return svg("rect", { x: x - 7, y: y - 7, width: 14, height: 14, class: classes.join(" ") });
    return svg("circle", { cx: x, cy: y, r: p.informational ? 5 : 7, class: classes.join(" ") });
  }

  function drawTimeline(points) {
    const order = lanes(points);
    const laneOf = (status, rank) => order.indexOf(rank === null ? null : status);
    const left = 150, top = 64, laneH = 36, colW = Math.max(86, Math.min(140, 900 / Math.max(points.length, 1)));
    const width = left + colW * points.length + 20, height = top + laneH * order.length + 44;
    const yOf = (lane) => top + laneH * lane + laneH / 2;
    const xOf = (i) => left + colW * i + colW / 2;
    const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "timeline", role: "img" });
    chart.append(svg("title", {}, "status over time, in receipt order"));
    order.forEach((status, lane) => {
      chart.append(svg("line", { x1: left - 6, x2: width - 10, y1: yOf(lane), y2: yOf(lane), class: "lane" }));
      chart.append(svg("text", { x: left - 12, y: yOf(lane) + 4, class: "lane-label", "text-anchor": "end" }, status === null ? "(informational)" : status));
    });
    chart.append(stepLine(points, order, xOf, yOf, colW));
    points.forEach((p, i) => chart.append(pointGroup(p, i, xOf(i), yOf(laneOf(p.status, p.rank)), top, height)));
    return chart;
  }

  function stepLine(points, order, xOf, yOf, colW) {
    let d = "";
    points.forEach((p, i) => {
      if (p.status_after === null) return;
      const lane = order.indexOf(p.status_after);
      if (lane < 0) return;
      const y = yOf(lane);
      d += d ? ` V ${y} H ${xOf(i) + colW / 2}` : `M ${xOf(i)} ${y} H ${xOf(i) + colW / 2}`;
    });
    return svg("path", { d: d || "M 0 0", class: "step" });
  }

  function pointGroup(p, i, x, y, top, height) {
    const kinds = [kindOf(p)];
    for (const flag of ["late", "terminal", "duplicate"]) if (p[flag]) kinds.push(flag);
    const group = svg("g", { class: "point " + kinds.join(" "), "data-event-id": p.event_id, "data-status": p.status });
    group.append(svg("title", {}, `#${i + 1} ${p.type} ${p.status}\nevent ${p.event_id}\noccurred ${p.occurred_at}\nreceived ${p.received_at}\n${marks(p).join(", ")}`));
    group.append(svg("line", { x1: x, x2: x, y1: top - 4, y2: height - 40, class: "column" }));
    if (p.late) group.append(svg("circle", { cx: x, cy: y, r: 12, class: "ring" }));
    group.append(pointShape(p, x, y));
    marks(p).forEach((m, k) => group.append(svg("text", { x, y: top - 10 - 13 * k, class: `tag tag-${m.startsWith("×") ? "duplicate" : m}`, "text-anchor": "middle" }, m)));
    group.append(svg("text", { x, y: height - 24, class: "axis", "text-anchor": "middle" }, "recv " + clock(p.received_at).slice(0, 8)));
    group.append(svg("text", { x, y: height - 10, class: "axis occurred", "text-anchor": "middle" }, "occ " + clock(p.occurred_at).slice(0, 8)));
    return group;
  }

  function pointRows(points) {
    return points.map((p, i) => {
      const row = el("tr", null, el("td", null, String(i + 1)), el("td", null, p.received_at), el("td", null, p.occurred_at),
        el("td", null, p.type), el("td", null, p.status), el("td", "marks", marks(p).join(" · ") || (p.current ? "current" : "")),
        el("td", "event-id", p.event_id));
      row.dataset.eventId = p.event_id;
      return row;
    });
  }

  function renderTimeline(doc) {
    const head = document.getElementById("subject-head");
    const status = el("span", `badge status${doc.terminal ? " terminal" : ""}`, (doc.status || "no status") + (doc.terminal ? " (terminal)" : ""));
    head.replaceChildren(
      el("h2", null, "Timeline of ", el("span", "subject-id", doc.subject_id)),
      el("p", "meta", `${doc.provider}/${doc.product} · status `, status, ` · ${doc.points.length} event${doc.points.length === 1 ? "" : "s"}, in receipt order`),
    );
    if (doc.truncated) head.append(el("p", "warning", "Only the newest events are shown."));
    const scroller = el("div", "scroller", drawTimeline(doc.points));
    document.getElementById("timeline").replaceChildren(scroller);
    document.querySelector("#points tbody").replaceChildren(...pointRows(doc.points));
    document.getElementById("points").hidden = false;
    document.getElementById("legend").hidden = false;
  }

  // --- queues ------------------------------------------------------------------------------------

  function renderQueues(queues) {
    for (const [name, q] of Object.entries(queues)) {
      const box = document.getElementById(`queue-${name}`);
      if (!box) continue;
      box.querySelector(".depth").textContent = String(q.visible);
      box.querySelector(".inflight").textContent = q.in_flight ? `(+${q.in_flight} in flight)` : "";
      box.classList.toggle("nonempty", q.visible + q.in_flight > 0);
    }
  }

  async function redrive(button) {
    const note = button.parentElement.querySelector(".note");
    button.disabled = true;
    try {
      const response = await fetch("api/redrive", {
        method: "POST",
        headers: { "content-type": "application/json", "x-switchboard-inspector": "1" },
        body: JSON.stringify({ queue: button.dataset.queue }),
      });
      const doc = await response.json();
      note.textContent = response.ok ? `moved ${doc.moved} message(s) back` : `refused: ${doc.message}`;
      state.busyUntil = Date.now() + BUSY_MS; // the recorder records what came back
    } catch (err) {
      note.textContent = `failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  }

  // --- the loop ----------------------------------------------------------------------------------

  function showError(err) {
    const live = document.getElementById("live");
    live.textContent = `not connected: ${err.message}`;
    live.className = "live down";
  }

  async function tick() {
    try {
      const [requests, queues] = await Promise.all([getJSON(`requests?after=${state.after}`), getJSON("queues")]);
      addRequests(requests.requests);
      renderQueues(queues.queues);
      const now = Date.now();
      if (requests.requests.length) state.busyUntil = now + BUSY_MS;
      if (now < state.busyUntil || now - state.lastRead >= IDLE_MS) {
        state.lastRead = now;
        renderSubjects((await getJSON("subjects")).subjects);
        await refreshTimeline();
      }
      const live = document.getElementById("live");
      live.textContent = `live · ${new Date().toISOString().slice(11, 19)} UTC`;
      live.className = "live up";
    } catch (err) {
      showError(err);
    }
    setTimeout(tick, POLL_MS);
  }

  function fromHash() {
    const parts = location.hash.replace(/^#/, "").split("/");
    if (parts.length !== 4 || parts[0] !== "subject") return;
    try {
      const [provider, product, subject_id] = parts.slice(1).map(decodeURIComponent);
      state.open = { provider, product, subject_id };
    } catch (_) {
      state.open = null;
    }
  }

  for (const button of document.querySelectorAll("button[data-queue]")) {
    button.addEventListener("click", () => redrive(button));
  }
  fromHash();
  tick();
})();
