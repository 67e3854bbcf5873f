/* 采样台 screen: scan a tube, then the people swabbed into it; everything is kept on the device first.
 *
 * - Nothing waits on the server: a scan joins the tube's list at once and is queued in localStorage
 *   (client_id = crypto.randomUUID()); the queue goes to the server in batches in the background
 *   (every 1.5 s, or at once when 20 are waiting), retried with backoff while the network is down.
 * - A resend never doubles a sample: the server answers an entry it already stored as "duplicate".
 * - Each entry is answered on its own: a refused one ("需处理": tube of another table, full tube, person not
 *   on the list …) stays in that list with the server's reason until the operator retries it, registers the
 *   person as outside the list, or deletes it. It never vanishes by itself.
 * - Typing part of an ID number searches the site's roster cached on the device (masked ID numbers with
 *   their last six characters), then the server when online. A tube closes itself when full.
 * Strings come from the page (translated by Django) through #st-config, as on the checkpoint screen.
 */
(function () {
  "use strict";
  const configEl = document.getElementById("st-config");
  if (!configEl) return;
  const cfg = JSON.parse(configEl.textContent);
  const S = cfg.strings;
  const KEY = "ybz.table." + cfg.round + "." + cfg.table + ".";
  const BATCH_MAX = 200;
  const SEND_EVERY_MS = 1500;
  const SEND_AT_ONCE = 20;
  const BACKOFF_MAX_MS = 30000;
  const ROSTER_EVERY_MS = 5 * 60 * 1000;
  const KEEP_TUBES = 20;
  const TOKEN_RE = /^[A-Za-z0-9_-]{16}$/;
  const $ = (id) => document.getElementById(id);

  function load(name, fallback) {
    try {
      const raw = localStorage.getItem(KEY + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) { return fallback; }
  }
  function save(name, value) { localStorage.setItem(KEY + name, JSON.stringify(value)); }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (m, k) => (k in values ? values[k] : m));
  }
  function esc(text) {
    const d = document.createElement("div");
    d.textContent = text == null ? "" : String(text);
    return d.innerHTML;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Without randomUUID (an insecure context): random enough for one table's scans.
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12) + Math.random().toString(36).slice(2, 8);
  }
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function maskId(value) {
    const v = String(value || "");
    return v.length > 10 ? v.slice(0, 6) + "*".repeat(v.length - 10) + v.slice(-4) : v;
  }
  function cleanCode(raw) { return String(raw || "").replace(/\s+/g, "").toUpperCase(); }

  // ---- state (all in localStorage, so a reload or a flat battery loses nothing) -------------------------------------
  // tube: the open tube {barcode, members: [client ids], closed}; tubes: the recent ones, newest first;
  // items: client id -> {label, tube, status, repeat, key}; queue: [{kind: "entry", client_id, payload} |
  // {kind: "close", id, barcode}]; attention: refused entries [{client_id, payload, label, tube, message, field}].
  let tubes = load("tubes", []);
  let tube = currentTube();
  let items = load("items", {});
  let queue = load("queue", []);
  let attention = load("attention", []);
  let roster = load("roster", { at: 0, rows: [] });
  function currentTube() {
    const code = load("current", null);
    return tubes.find((t) => t.barcode === code && !t.closed) || null;
  }
  function persist() {
    save("current", tube ? tube.barcode : null);
    save("tubes", tubes);
    save("items", items);
    save("queue", queue);
    save("attention", attention);
  }

  function tubeRecord(barcode) { return tubes.find((t) => t.barcode === barcode); }

  function prune() {
    if (tubes.length <= KEEP_TUBES) return;
    tubes = tubes.slice(0, KEEP_TUBES);
    const keep = new Set();
    tubes.forEach((t) => t.members.forEach((c) => keep.add(c)));
    queue.forEach((q) => { if (q.client_id) keep.add(q.client_id); });
    attention.forEach((a) => keep.add(a.client_id));
    Object.keys(items).forEach((c) => { if (!keep.has(c)) delete items[c]; });
  }

  // ---- rendering ---------------------------------------------------------------------------------------------------

  function statusBadge(item) {
    if (!item) return "";
    if (item.status === "pending") return '<span class="badge text-bg-warning">' + esc(S.pending) + "</span>";
    if (item.status === "refused") return '<span class="badge text-bg-danger">' + esc(S.refused) + "</span>";
    if (item.status === "deleted") return '<span class="badge text-bg-secondary">' + esc(S.delete) + "</span>";
    return '<span class="badge text-bg-success"><i class="bi bi-check-lg"></i> ' + esc(S.stored) + "</span>" +
      (item.repeat ? ' <span class="badge text-bg-info">' + esc(S.repeat) + "</span>" : "");
  }

  function renderTube() {
    const box = $("st-tube");
    if (!box) return;
    const shown = tube || null;
    box.classList.toggle("st-empty", !shown);
    $("st-tube-code").textContent = shown ? shown.barcode : "—";
    $("st-tube-count").textContent = (shown ? shown.members.length : 0) + "/" + cfg.capacity;
    $("st-close").classList.toggle("d-none", !shown);
    $("st-mode").textContent = shown ? S.scan_person : S.scan_tube;
    $("st-q").placeholder = shown ? S.scan_person : S.scan_tube;
  }

  function renderList() {
    const list = $("st-list");
    const current = tube || tubes[0];
    list.innerHTML = "";
    if (!current) return;
    current.members.forEach((cid) => {
      const item = items[cid];
      const li = document.createElement("li");
      li.className = "list-group-item py-1 d-flex gap-2 align-items-center st-member" +
        (item && item.status === "pending" ? " st-pending" : "") + (item && item.status === "refused" ? " st-refused" : "");
      li.dataset.client = cid;
      li.innerHTML = '<span class="me-auto">' + esc(item ? item.label : cid) +
        (item && item.door ? ' <span class="badge text-bg-light border">' + esc(S.door) + "</span>" : "") + "</span>" + statusBadge(item);
      list.appendChild(li);
    });
  }

  function renderTubes() {
    const list = $("st-tubes");
    list.innerHTML = "";
    tubes.slice(0, 10).forEach((t) => {
      const pending = t.members.filter((c) => items[c] && items[c].status === "pending").length;
      const refused = t.members.filter((c) => items[c] && items[c].status === "refused").length;
      const li = document.createElement("li");
      li.className = "list-group-item py-1 d-flex gap-2 st-tube-row";
      li.dataset.tube = t.barcode;
      li.innerHTML = '<span class="me-auto"><b>' + esc(t.barcode) + "</b> " + t.members.length + "/" + cfg.capacity +
        (t.closed ? ' <span class="text-muted">' + esc(S.closed_local) + "</span>" : "") + "</span>" +
        (refused ? '<span class="badge text-bg-danger">' + esc(S.attention) + " " + refused + "</span> " : "") +
        (pending ? '<span class="badge text-bg-warning">' + esc(fmt(S.queued, { n: pending })) + "</span>"
          : refused ? "" : '<span class="badge text-bg-success"><i class="bi bi-check-lg"></i></span>');
      list.appendChild(li);
    });
  }

  function renderQueue() {
    const n = queue.filter((q) => q.kind === "entry").length;
    const badge = $("st-queue");
    badge.textContent = fmt(S.queued, { n: n });
    badge.classList.toggle("d-none", n === 0);
  }

  function renderAttention() {
    const box = $("st-attention");
    $("st-attention-box").classList.toggle("d-none", attention.length === 0);
    $("st-attention-count").textContent = attention.length;
    box.innerHTML = "";
    attention.forEach((a) => {
      const card = document.createElement("div");
      card.className = "alert alert-danger py-2 mb-2 st-attention-item";
      card.dataset.client = a.client_id;
      const person = ["person", "id_number", "token", "should_sample_id", "name"].indexOf(a.field) >= 0;
      card.innerHTML =
        '<div class="fw-semibold">' + esc(a.label) + ' <span class="small text-muted">' + esc(a.tube) + "</span></div>" +
        '<div class="st-reason">' + esc(a.message) + "</div>" +
        '<div class="mt-1 d-flex flex-wrap gap-2">' +
        (person ? '<button type="button" class="btn btn-sm btn-outline-primary st-as-stranger">' + esc(S.as_stranger) + "</button>" : "") +
        '<button type="button" class="btn btn-sm btn-outline-secondary st-retry">' + esc(S.retry) + "</button>" +
        '<button type="button" class="btn btn-sm btn-link text-danger st-delete">' + esc(S.delete) + "</button></div>";
      box.appendChild(card);
    });
  }

  function renderRoster() {
    const el = $("st-roster");
    if (!el) return;
    el.textContent = roster.rows.length ? fmt(S.roster_count, { n: roster.rows.length }) : S.roster_none;
  }

  function render() {
    if ($("st-tube")) renderTube();
    renderList();
    renderTubes();
    renderQueue();
    renderAttention();
    renderRoster();
  }

  function say(text, kind) {
    const el = $("st-message");
    if (!el) return;
    el.className = "small mt-1 " + (kind === "error" ? "text-danger" : kind === "ok" ? "text-success" : "text-muted");
    el.textContent = text || "";
  }

  // ---- tubes and people --------------------------------------------------------------------------------------------

  function openTube(raw) {
    const code = cleanCode(raw);
    if (!code) return;
    const known = tubeRecord(code);
    if (known && (known.closed || known.members.length >= cfg.capacity)) {
      say(fmt(S.tube_closed, { tube: code }), "error");
      return;
    }
    tube = known || { barcode: code, members: [], closed: false };
    if (!known) tubes.unshift(tube);
    else tubes = [known].concat(tubes.filter((t) => t !== known));
    prune();
    persist();
    say("");
    render();
  }

  function finishTube(manual) {
    if (!tube) return;
    const code = tube.barcode;
    if (manual) {
      if (tube.members.length < cfg.capacity && !window.confirm(fmt(S.close_confirm, { tube: code, n: tube.members.length }))) return;
      queue.push({ kind: "close", id: newId(), barcode: code });
    }
    // A full tube is closed by the server itself when its last person is stored; nothing to send.
    tube.closed = true;
    tube = null;
    persist();
    say(fmt(S.tube_full, { tube: code }), "ok");
    render();
    schedule();
  }

  function personKey(person) {
    if (person.token) return "t:" + person.token;
    if (person.should_sample_id) return "r:" + person.should_sample_id;
    return "i:" + cleanCode(person.id_number);
  }

  function addPerson(person, label) {
    if (!tube) { say(S.need_tube, "error"); return false; }
    const key = personKey(person);
    if (tube.members.some((c) => items[c] && items[c].key === key && items[c].status !== "deleted")) {
      say(fmt(S.already_in_tube, { name: label }), "error");
      return false;
    }
    const door = $("st-door").checked;
    const clientId = newId();
    const payload = Object.assign({ client_id: clientId, tube_barcode: tube.barcode, door_to_door: door, taken_at: new Date().toISOString() }, person);
    if (cfg.make_up) payload.make_up = true;
    items[clientId] = { label: label, tube: tube.barcode, status: "pending", key: key, door: door };
    queue.push({ kind: "entry", client_id: clientId, payload: payload });
    tube.members.push(clientId);
    if (person.should_sample_id) {
      const row = roster.rows.find((r) => r.id === person.should_sample_id);
      if (row) row.sampled = true;
    }
    say("");
    if (tube.members.length >= cfg.capacity) finishTube(false);
    persist();
    render();
    schedule();
    return true;
  }

  function rowLabel(row) { return row.name + " " + row.id_masked; }

  function pickRow(row) {
    clearInput();
    addPerson({ should_sample_id: row.id }, rowLabel(row));
  }

  function clearInput() {
    $("st-q").value = "";
    $("st-results").innerHTML = "";
    $("st-q").focus();
  }

  function showRows(rows) {
    const results = $("st-results");
    results.innerHTML = "";
    rows.slice(0, 20).forEach((row) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "list-group-item list-group-item-action py-2 st-person";
      b.setAttribute("role", "option");
      b.innerHTML = "<b>" + esc(row.name) + '</b> <span class="masked small">' + esc(row.id_masked) + "</span>" +
        (row.sampled ? ' <span class="badge text-bg-info">' + esc(S.repeat) + "</span>" : "") +
        (row.exemption ? ' <span class="badge text-bg-light border">' + esc(row.exemption) + "</span>" : "") +
        '<div class="small text-muted">' + esc(row.building) + "</div>";
      b.addEventListener("click", () => pickRow(row));
      results.appendChild(b);
    });
  }

  function digitsOf(q) { return q.replace(/[\s-]/g, "").toUpperCase(); }
  function isDigits(d) { return /^\d+X?$/.test(d) || /^\d+$/.test(d); }

  function searchRoster(q) {
    const rows = roster.rows;
    const d = digitsOf(q);
    if (isDigits(d)) {
      if (d.length === 18) return rows.filter((r) => r.last6 === d.slice(-6) && r.id_masked.slice(0, 6) === d.slice(0, 6));
      if (d.length < 4 || d.length > 6) return [];
      return rows.filter((r) => r.last6.endsWith(d));
    }
    return rows.filter((r) => r.name.startsWith(q.trim())).slice(0, 50);
  }

  let lookupSeq = 0;
  async function serverLookup(q) {
    const seq = ++lookupSeq;
    say(S.searching);
    let rows;
    try {
      const r = await fetch(cfg.lookup_url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!r.ok) throw new Error(String(r.status));
      rows = await r.json();
    } catch (e) {
      if (seq === lookupSeq) say(S.no_match, "error");
      return null;
    }
    if (seq !== lookupSeq) return null;
    say("");
    return rows;
  }

  async function onEnter(raw) {
    const q = String(raw || "").trim();
    if (!q) return;
    if (!tube) { clearInput(); openTube(q); return; }
    if (TOKEN_RE.test(q) && !/^\d+X?$/.test(q)) {
      clearInput();
      addPerson({ token: q }, fmt(S.token_label, { tail: q.slice(-4) }));
      return;
    }
    const d = digitsOf(q);
    const local = searchRoster(q);
    if (local.length === 1) { pickRow(local[0]); return; }
    if (local.length > 1) { showRows(local); say(S.choose); return; }
    if (isDigits(d) && (d.length === 18 || d.length === 15)) {
      // A whole ID number not in the cached roster: the server finds him in the round's list (or refuses).
      clearInput();
      addPerson({ id_number: d }, maskId(d));
      return;
    }
    if (isDigits(d) && (d.length < 4 || d.length > 6)) { say(S.no_match, "error"); return; }
    if (!navigator.onLine) { say(S.no_match, "error"); return; }
    const rows = await serverLookup(q);
    if (rows === null) return;
    if (rows.length === 1) { pickRow(rows[0]); return; }
    if (rows.length) { showRows(rows); say(S.choose); return; }
    say(S.no_match, "error");
  }

  // ---- persons outside the list --------------------------------------------------------------------------------------

  let editing = null; // the "需处理" entry being registered as outside the list

  function openStranger(entry) {
    if (!entry && !tube) { say(S.need_tube, "error"); return; }
    editing = entry || null;
    $("st-stranger").classList.remove("d-none");
    $("st-stranger-tube").textContent = entry ? entry.tube : tube.barcode;
    $("st-s-error").textContent = "";
    $("st-s-name").value = "";
    $("st-s-phone").value = "";
    $("st-s-id").value = entry && entry.payload.id_number ? entry.payload.id_number : "";
    $("st-s-name").focus();
  }

  function closeStranger() {
    editing = null;
    $("st-stranger").classList.add("d-none");
    $("st-q").focus();
  }

  function addStranger() {
    const name = $("st-s-name").value.trim();
    const idNumber = cleanCode($("st-s-id").value);
    const phone = $("st-s-phone").value.trim();
    if (!name || idNumber.length < 5) { $("st-s-error").textContent = S.stranger_need; return; }
    const person = { id_number: idNumber, name: name, phone: phone };
    const label = name + " " + maskId(idNumber);
    if (editing) {
      // The same swab, the same tube and client id (never stored: it was refused), now with name and ID number.
      const a = editing;
      attention = attention.filter((x) => x.client_id !== a.client_id);
      const payload = Object.assign({}, a.payload, person);
      delete payload.token;
      delete payload.should_sample_id;
      items[a.client_id] = Object.assign(items[a.client_id] || { tube: a.tube }, { label: label, status: "pending", key: personKey(person) });
      queue.push({ kind: "entry", client_id: a.client_id, payload: payload });
      persist();
      closeStranger();
      render();
      schedule();
      return;
    }
    if (addPerson(person, label)) closeStranger();
  }

  // ---- sending -----------------------------------------------------------------------------------------------------

  let sending = false;
  let failures = 0;
  let nextTry = 0;
  let lastSent = 0;

  function schedule() {
    const n = queue.filter((q) => q.kind === "entry").length;
    if (n >= SEND_AT_ONCE) flush();
  }

  function backoff() {
    failures += 1;
    const wait = Math.min(BACKOFF_MAX_MS, SEND_EVERY_MS * Math.pow(2, failures)) * (0.75 + Math.random() * 0.5);
    nextTry = Date.now() + wait;
    const el = $("st-retry");
    el.textContent = fmt(S.retry_in, { s: Math.round(wait / 1000) });
    el.classList.remove("d-none");
  }

  function toAttention(entries, message, field) {
    entries.forEach((q) => {
      const item = items[q.client_id] || {};
      item.status = "refused";
      items[q.client_id] = item;
      attention = attention.filter((a) => a.client_id !== q.client_id);
      attention.push({ client_id: q.client_id, payload: q.payload, label: item.label || q.client_id, tube: q.payload.tube_barcode, message: message, field: field || "" });
    });
  }

  async function flush() {
    if (sending || !queue.length || Date.now() < nextTry) return;
    sending = true;
    lastSent = Date.now();
    const batch = [];
    let entries = 0;
    for (const q of queue) {
      if (q.kind === "entry") {
        if (entries >= BATCH_MAX) break;
        entries += 1;
      }
      batch.push(q);
    }
    const body = {
      entries: batch.filter((q) => q.kind === "entry").map((q) => q.payload),
      close: batch.filter((q) => q.kind === "close").map((q) => q.barcode),
    };
    const sentIds = new Set(batch.map((q) => q.client_id || q.id));
    let response;
    try {
      response = await fetch(cfg.samples_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
    } catch (e) {
      sending = false;
      backoff();
      return; // offline: everything stays queued
    }
    try {
      const type = response.headers.get("Content-Type") || "";
      const json = type.indexOf("application/json") >= 0;
      if (response.status === 401 || (response.status === 403 && !json)) {
        // Logged out, or a stale CSRF token: keep everything until he logs in again.
        $("st-auth").textContent = S.auth;
        $("st-auth").classList.remove("d-none");
        backoff();
        return;
      }
      $("st-auth").classList.add("d-none");
      if (response.status >= 500 || response.status === 0 || response.status === 408 || response.status === 429) {
        backoff();
        return;
      }
      const answer = await response.json().catch(() => null);
      const entryItems = batch.filter((q) => q.kind === "entry");
      if (response.ok && answer && Array.isArray(answer.outcomes)) {
        const byId = {};
        answer.outcomes.forEach((o) => { byId[o.client_id] = o; });
        entryItems.forEach((q) => {
          const o = byId[q.client_id];
          const item = items[q.client_id] || { label: q.client_id, tube: q.payload.tube_barcode };
          items[q.client_id] = item;
          if (!o) { sentIds.delete(q.client_id); return; } // not answered: stays queued
          if (o.status === "refused") {
            toAttention([q], o.message, o.field);
          } else {
            item.status = o.status;
            item.repeat = !!o.repeat;
            if (o.name && q.payload.token) item.label = o.name;
          }
        });
      } else if (response.ok) {
        backoff();
        return;
      } else {
        // The whole batch refused (round closed, table retired, no permission …): every entry needs a look.
        let message = S.server_error;
        if (response.status === 404) message = S.not_found;
        else if (answer && typeof answer.detail === "string") message = answer.detail;
        else if (answer && Array.isArray(answer.detail)) message = answer.detail.map((d) => d.message || d.msg || "").join("；");
        if (response.status === 403 && !(answer && answer.detail)) message = S.forbidden;
        toAttention(entryItems, message, "");
      }
      queue = queue.filter((q) => !sentIds.has(q.client_id || q.id));
      failures = 0;
      nextTry = 0;
      $("st-retry").classList.add("d-none");
      persist();
      render();
    } finally {
      sending = false;
    }
    if (queue.length) setTimeout(flush, 0);
  }

  function tick() {
    if (!queue.length || sending) return;
    if (Date.now() - lastSent >= SEND_EVERY_MS) flush();
  }

  async function refreshRoster(force) {
    if (!navigator.onLine && !force) return;
    if (!force && Date.now() - roster.at < ROSTER_EVERY_MS) return;
    try {
      const r = await fetch(cfg.roster_url, { credentials: "same-origin" });
      if (!r.ok) return;
      const rows = await r.json();
      // Keep the local "sampled" marks of people scanned since (the server learns of them with the queue).
      const marked = new Set(roster.rows.filter((x) => x.sampled).map((x) => x.id));
      rows.forEach((x) => { if (marked.has(x.id)) x.sampled = true; });
      roster = { at: Date.now(), rows: rows };
      save("roster", roster);
      renderRoster();
    } catch (e) { /* offline: the cached roster serves */ }
  }

  // ---- wiring ------------------------------------------------------------------------------------------------------

  const form = $("st-form");
  if (form) {
    const q = $("st-q");
    let timer = null;
    form.addEventListener("submit", (e) => { e.preventDefault(); });
    q.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        // Keyboard-wedge scanners type the code and press Enter.
        e.preventDefault();
        clearTimeout(timer);
        onEnter(q.value);
      }
    });
    q.addEventListener("input", () => {
      clearTimeout(timer);
      if (!tube) return;
      timer = setTimeout(() => {
        const value = q.value.trim();
        if (!value || TOKEN_RE.test(value)) { $("st-results").innerHTML = ""; return; }
        showRows(searchRoster(value));
      }, 200);
    });
    $("st-close").addEventListener("click", () => { finishTube(true); $("st-q").focus(); });
    const door = $("st-door");
    door.checked = load("door", !!cfg.mobile);
    door.addEventListener("change", () => { save("door", door.checked); $("st-q").focus(); });
    $("st-stranger-toggle").addEventListener("click", () => openStranger(null));
    $("st-s-add").addEventListener("click", addStranger);
    $("st-s-cancel").addEventListener("click", closeStranger);
    $("st-s-id").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addStranger(); } });
  }

  $("st-attention").addEventListener("click", (e) => {
    const card = e.target.closest(".st-attention-item");
    if (!card) return;
    const a = attention.find((x) => x.client_id === card.dataset.client);
    if (!a) return;
    if (e.target.closest(".st-retry")) {
      attention = attention.filter((x) => x !== a);
      if (items[a.client_id]) items[a.client_id].status = "pending";
      queue.push({ kind: "entry", client_id: a.client_id, payload: a.payload });
      persist();
      render();
      flush();
    } else if (e.target.closest(".st-as-stranger")) {
      openStranger(a);
    } else if (e.target.closest(".st-delete")) {
      if (!window.confirm(S.delete_confirm)) return;
      attention = attention.filter((x) => x !== a);
      if (items[a.client_id]) items[a.client_id].status = "deleted";
      persist();
      render();
    }
  });

  function showOnline() {
    $("st-offline").classList.toggle("d-none", navigator.onLine);
  }
  window.addEventListener("online", () => { showOnline(); nextTry = 0; flush(); refreshRoster(false); });
  window.addEventListener("offline", showOnline);
  window.addEventListener("storage", (e) => {
    // Another tab of the same table: take its state (the last writer's queue is the one sent).
    if (e.key && e.key.indexOf(KEY) === 0) {
      tubes = load("tubes", []); tube = currentTube(); items = load("items", {});
      queue = load("queue", []); attention = load("attention", []); render();
    }
  });
  setInterval(tick, 500);
  setInterval(() => refreshRoster(false), 60000);
  showOnline();
  render();
  refreshRoster(true);
  flush();
})();
