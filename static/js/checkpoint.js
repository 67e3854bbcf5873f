/* 卡口登记 screen: every entry is queued in localStorage first, then sent from the queue.
 *
 * - A dropped network never loses an entry: it stays queued until the server acknowledges it.
 * - A retry never doubles one: each entry carries a client_id (crypto.randomUUID()) and the server
 *   answers a resend with the entry it already stored.
 * - A refusal (422, e.g. a pass-quota breach) moves the entry to the "需处理" list with the server's
 *   message; the person on duty allows it with a reason, edits it, or cancels it.
 * - A backlog (more than one entry queued) is sent through the batch endpoint, up to 50 a request, each
 *   entry answered on its own; a single entry goes to the single endpoint.
 * Strings come from the page (translated by Django) through #cp-config.
 */
(function () {
  "use strict";
  const configEl = document.getElementById("cp-config");
  if (!configEl) return;
  const cfg = JSON.parse(configEl.textContent);
  const S = cfg.strings;
  const QUEUE_KEY = "ybz.checkpoint." + cfg.checkpoint + ".queue";
  const ATTENTION_KEY = "ybz.checkpoint." + cfg.checkpoint + ".attention";
  const RETRY_MS = 10000;
  const $ = (id) => document.getElementById(id);

  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, items) { localStorage.setItem(key, JSON.stringify(items)); }
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
    // Older phones without randomUUID (needs a secure context): random enough for one checkpoint's entries.
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // ---- the queue and the "需处理" list --------------------------------------------------------------------------

  function renderQueue() {
    const queue = load(QUEUE_KEY);
    const badge = $("cp-queue");
    if (badge) {
      badge.textContent = fmt(S.queued, { n: queue.length });
      badge.classList.toggle("d-none", queue.length === 0);
    }
    const recent = $("cp-recent");
    if (!recent) return;
    recent.querySelectorAll(".cp-pending").forEach((li) => li.remove());
    queue.slice().reverse().forEach((item) => {
      const li = document.createElement("li");
      li.className = "list-group-item py-1 small cp-pending";
      li.dataset.client = item.client_id;
      li.innerHTML = '<span class="badge text-bg-warning">' + esc(S.pending) + "</span> " + esc(item.label);
      recent.prepend(li);
    });
    const empty = recent.querySelector(".cp-empty");
    if (empty) empty.classList.toggle("d-none", queue.length > 0);
  }

  function renderAttention() {
    const box = $("cp-attention");
    if (!box) return;
    const items = load(ATTENTION_KEY);
    box.innerHTML = "";
    items.forEach((item) => {
      const card = document.createElement("div");
      card.className = "alert alert-danger py-2 mb-2 cp-attention-item";
      card.dataset.client = item.client_id;
      const canAllow = item.fields.indexOf("allow_reason") >= 0;
      card.innerHTML =
        '<div class="fw-semibold">' + esc(S.attention) + "：" + esc(item.label) + "</div>" +
        '<div class="cp-message">' + item.messages.map(esc).join("<br>") + "</div>" +
        (canAllow
          ? '<div class="input-group input-group-sm mt-1"><input class="form-control cp-reason" maxlength="200" placeholder="' +
            esc(S.reason) + '" aria-label="' + esc(S.reason) + '"><button type="button" class="btn btn-danger cp-allow">' +
            esc(S.allow) + "</button></div>"
          : "") +
        '<div class="mt-1"><button type="button" class="btn btn-sm btn-outline-secondary cp-edit">' + esc(S.edit) +
        '</button> <button type="button" class="btn btn-sm btn-link text-danger cp-cancel">' + esc(S.cancel) + "</button></div>";
      box.appendChild(card);
    });
  }

  function takeAttention(clientId) {
    const items = load(ATTENTION_KEY);
    const item = items.find((i) => i.client_id === clientId);
    save(ATTENTION_KEY, items.filter((i) => i.client_id !== clientId));
    return item;
  }

  function enqueue(item) {
    const queue = load(QUEUE_KEY);
    queue.push(item);
    save(QUEUE_KEY, queue);
    renderQueue();
    flush();
  }

  function toAttention(item, messages, fields) {
    const items = load(ATTENTION_KEY).filter((i) => i.client_id !== item.client_id);
    items.push(Object.assign({}, item, { messages: messages, fields: fields || [] }));
    save(ATTENTION_KEY, items);
    renderAttention();
  }

  function dropFromQueue(clientIds) {
    save(QUEUE_KEY, load(QUEUE_KEY).filter((i) => clientIds.indexOf(i.client_id) < 0));
  }

  function refusal(status, body) {
    // [messages, fields] of a refused entry, from the server's answer (422: per field, in Chinese).
    if (status === 422) {
      const detail = Array.isArray(body.detail) ? body.detail : [];
      return [detail.map((d) => d.message || d.msg || String(d)), detail.map((d) => d.field || "")];
    }
    if (status === 404) return [[S.not_found], []];
    if (status === 403) return [[body.detail || S.forbidden], []];
    return [[S.server_error], []];
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    });
  }

  async function loggedOut(response) {
    if (response.status === 401 || (response.status === 403 && !(await isPermission(response.clone())))) {
      $("cp-auth") && $("cp-auth").classList.remove("d-none");
      return true; // logged out (or a stale CSRF token): keep everything until he logs in again
    }
    $("cp-auth") && $("cp-auth").classList.add("d-none");
    return false;
  }

  // A backlog (more than one entry queued, e.g. after the network came back) goes up in batches of up to
  // BATCH entries, each answered on its own: a refused one goes to "需处理" and never holds up the others.
  // Returns how many were stored, or -1 to stop (offline, logged out, server trouble) and -2 to fall back
  // to one by one (a server without the batch endpoint).
  async function sendBatch(items) {
    let response;
    try {
      response = await post(cfg.batch_url, { entries: items.map((i) => i.payload) });
    } catch (e) {
      return -1;
    }
    if (await loggedOut(response)) return -1;
    if (response.status >= 500) return -1;
    if (response.status !== 200) {
      if (response.status === 403 || response.status === 404) {
        const [messages, fields] = refusal(response.status, await response.json().catch(() => ({})));
        dropFromQueue(items.map((i) => i.client_id));
        items.forEach((item) => toAttention(item, messages, fields));
        return 0;
      }
      return -2;
    }
    const body = await response.json().catch(() => null);
    if (!body || !Array.isArray(body.results)) return -2;
    const byId = {};
    items.forEach((i) => { byId[i.client_id] = i; });
    const settled = [];
    let stored = 0;
    body.results.forEach((r) => {
      const item = byId[r.client_id];
      if (!item) return;
      if (r.status === 200 || r.status === 201) {
        stored += 1;
        settled.push(item.client_id);
      } else if (r.status === 422 || r.status === 404 || r.status === 403) {
        const [messages, fields] = refusal(r.status, { detail: r.detail });
        settled.push(item.client_id);
        toAttention(item, messages, fields);
      } // anything else stays queued for the next try
    });
    dropFromQueue(settled);
    return settled.length ? stored : -1;
  }

  const BATCH = 50;
  let flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    let sent = 0;
    let oneByOne = !cfg.batch_url;
    try {
      for (;;) {
        const queue = load(QUEUE_KEY);
        if (!queue.length) break;
        if (queue.length > 1 && !oneByOne) {
          const stored = await sendBatch(queue.slice(0, BATCH));
          if (stored === -1) break;
          if (stored === -2) { oneByOne = true; continue; }
          sent += stored;
          renderQueue();
          continue;
        }
        const item = queue[0];
        let response;
        try {
          response = await post(cfg.crossings_url, item.payload);
        } catch (e) {
          break; // offline: keep it, try again on "online" or the timer
        }
        if (await loggedOut(response)) break;
        if (response.status >= 500) break;
        // Whatever the answer now, the entry leaves the queue: stored (200/201) or for the person on duty.
        dropFromQueue([item.client_id]);
        if (response.ok) {
          sent += 1;
        } else {
          const [messages, fields] = refusal(response.status, await response.json().catch(() => ({})));
          toAttention(item, messages, fields);
        }
        renderQueue();
      }
    } finally {
      flushing = false;
      renderQueue();
      if (sent) refreshRecent();
    }
  }

  async function isPermission(response) {
    // Django's CSRF failure is an HTML page; the API's own refusals are JSON with a Chinese detail.
    const type = response.headers.get("Content-Type") || "";
    return type.indexOf("application/json") >= 0;
  }

  async function refreshRecent() {
    let body;
    try {
      const r = await fetch(cfg.entries_url, { credentials: "same-origin" });
      if (!r.ok) return;
      body = await r.json();
    } catch (e) { return; }
    const recent = $("cp-recent");
    recent.innerHTML = "";
    body.entries.forEach((e) => {
      const li = document.createElement("li");
      li.className = "list-group-item py-1 small";
      li.dataset.client = e.client_id;
      li.innerHTML =
        '<span class="badge ' + (e.direction === "out" ? "text-bg-danger" : "text-bg-success") + '">' + esc(e.direction_label) +
        "</span> " + esc(e.at.slice(11, 16)) + " <b>" + esc(e.name || e.plate) + '</b> <span class="masked text-muted">' +
        esc(e.id_number) + "</span> " + (e.temperature ? esc(e.temperature) + "℃ " : "") + esc(e.health_code) + " " +
        esc(e.purpose) +
        (e.breach ? '<div class="text-danger">' + esc(S.breach) + "：" + esc(e.breach) +
          (e.allowed_reason ? "；" + esc(S.allowed_reason) + "：" + esc(e.allowed_reason) : "") + "</div>" : "");
      recent.appendChild(li);
    });
    if (!body.entries.length) {
      recent.innerHTML = '<li class="list-group-item small text-muted cp-empty">' + esc(S.empty) + "</li>";
    }
    const counts = $("cp-counts");
    if (counts) {
      counts.querySelector(".count-in").textContent = body.counts.in;
      counts.querySelector(".count-out").textContent = body.counts.out;
    }
    renderQueue();
  }

  // ---- the form ------------------------------------------------------------------------------------------------------

  const form = $("cp-form");
  let selected = null; // the resident chosen from the lookup

  function showSelected() {
    const box = $("cp-selected");
    if (!selected) {
      box.classList.add("d-none");
      box.innerHTML = "";
      return;
    }
    box.classList.remove("d-none");
    box.innerHTML =
      "<b>" + esc(selected.name) + '</b> <span class="masked">' + esc(selected.id_number) + "</span><br>" +
      esc(selected.address) + (selected.household ? " · " + esc(S.household) + " " + esc(selected.household) : "") +
      (selected.last_direction ? '<br><span class="text-muted">' + esc(S.last) + "：" + esc(selected.last_direction_label) +
        " " + esc((selected.last_at || "").slice(5, 16).replace("T", " ")) + "</span>" : "");
  }

  function choose(person) {
    selected = person;
    $("cp-results").innerHTML = "";
    $("cp-q").value = person.name;
    showSelected();
    // Someone who last went out is most likely coming back in, and the other way round.
    const dir = person.last_direction === "out" ? "in" : "out";
    $("cp-" + dir).checked = true;
    $("cp-temp").focus();
  }

  let lookupSeq = 0;
  async function lookup(q, pickSingle) {
    const seq = ++lookupSeq;
    const results = $("cp-results");
    if (!q.trim()) { results.innerHTML = ""; return; }
    let rows;
    try {
      const r = await fetch(cfg.lookup_url + "?q=" + encodeURIComponent(q.trim()), { credentials: "same-origin" });
      if (!r.ok) return;
      rows = (await r.json()).results;
    } catch (e) { return; } // offline: the stranger fields still work
    if (seq !== lookupSeq) return; // a newer keystroke already asked
    if (pickSingle && rows.length === 1) { choose(rows[0]); return; }
    results.innerHTML = "";
    if (!rows.length) {
      results.innerHTML = '<div class="list-group-item small text-muted">' + esc(S.no_match) + "</div>";
      return;
    }
    rows.forEach((p) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "list-group-item list-group-item-action py-2 cp-person";
      b.setAttribute("role", "option");
      b.innerHTML = "<b>" + esc(p.name) + '</b> <span class="masked small">' + esc(p.id_number) + '</span><div class="small text-muted">' +
        esc(p.address) + (p.last_direction ? " · " + esc(S.last) + esc(p.last_direction_label) : "") + "</div>";
      b.addEventListener("click", () => choose(p));
      results.appendChild(b);
    });
  }

  function resetForm() {
    selected = null;
    showSelected();
    form.reset();
    $("cp-stranger-fields").classList.add("d-none");
    $("cp-results").innerHTML = "";
    $("cp-form-error").textContent = "";
    $("cp-q").focus();
  }

  function restore(item) {
    // Back into the form exactly as typed, so nothing is typed twice.
    resetForm();
    const p = item.payload;
    selected = item.person || null;
    showSelected();
    if (!selected) {
      $("cp-stranger").checked = true;
      $("cp-stranger-fields").classList.remove("d-none");
      $("cp-name").value = p.name || "";
      $("cp-phone").value = p.phone || "";
      $("cp-idno").value = p.id_number || "";
      $("cp-plate").value = p.plate || "";
      $("cp-vehicle").value = p.vehicle_type || "";
    } else {
      $("cp-q").value = selected.name;
    }
    if (p.direction) $("cp-" + p.direction).checked = true;
    $("cp-temp").value = p.temperature || "";
    const hc = document.getElementById("cp-hc-" + (p.health_code || "none"));
    if (hc) hc.checked = true;
    $("cp-purpose").value = p.purpose || "";
    $("cp-dest").value = p.destination || "";
    $("cp-return").value = item.expected_return_local || "";
  }

  if (form) {
    let timer = null;
    $("cp-q").addEventListener("input", () => {
      selected = null;
      showSelected();
      clearTimeout(timer);
      timer = setTimeout(() => lookup($("cp-q").value, false), 250);
    });
    $("cp-q").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        // Scanners type the token and press Enter: look up at once and take a single match.
        e.preventDefault();
        clearTimeout(timer);
        lookup($("cp-q").value, true);
      }
    });
    $("cp-stranger").addEventListener("change", (e) => {
      $("cp-stranger-fields").classList.toggle("d-none", !e.target.checked);
      if (e.target.checked) { selected = null; showSelected(); $("cp-name").focus(); }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const dir = form.querySelector("input[name=direction]:checked");
      const stranger = $("cp-stranger").checked;
      const payload = {
        client_id: newId(),
        direction: dir ? dir.value : "",
        at: new Date().toISOString(),
        temperature: $("cp-temp").value.trim() || null,
        health_code: (form.querySelector("input[name=health_code]:checked") || { value: "" }).value,
        purpose: $("cp-purpose").value.trim(),
        destination: $("cp-dest").value.trim(),
      };
      const returnLocal = $("cp-return").value;
      if (returnLocal) payload.expected_return = new Date(returnLocal).toISOString();
      let label;
      if (selected && !stranger) {
        payload.resident_id = selected.id;
        label = selected.name + " " + selected.id_number;
      } else {
        payload.name = $("cp-name").value.trim();
        payload.phone = $("cp-phone").value.trim();
        payload.id_number = $("cp-idno").value.trim();
        payload.plate = $("cp-plate").value.trim();
        payload.vehicle_type = $("cp-vehicle").value;
        label = [payload.name, payload.plate].filter(Boolean).join(" ");
      }
      if (!payload.direction) { $("cp-form-error").textContent = S.pick_direction; return; }
      if (!payload.resident_id && !payload.name && !payload.plate && !payload.id_number) {
        $("cp-form-error").textContent = S.pick_person;
        return;
      }
      label = (payload.direction === "out" ? S.out : S.in) + " " + label;
      enqueue({
        client_id: payload.client_id,
        payload: payload,
        label: label,
        person: stranger ? null : selected,
        expected_return_local: returnLocal,
      });
      resetForm();
    });

    $("cp-attention").addEventListener("click", (e) => {
      const card = e.target.closest(".cp-attention-item");
      if (!card) return;
      const id = card.dataset.client;
      if (e.target.closest(".cp-allow")) {
        const reason = card.querySelector(".cp-reason").value.trim();
        if (!reason) { card.querySelector(".cp-reason").placeholder = S.reason_needed; card.querySelector(".cp-reason").focus(); return; }
        const item = takeAttention(id);
        item.payload.allow_reason = reason;
        delete item.messages;
        delete item.fields;
        renderAttention();
        enqueue(item);
      } else if (e.target.closest(".cp-edit")) {
        const item = takeAttention(id);
        renderAttention();
        restore(item);
      } else if (e.target.closest(".cp-cancel")) {
        if (!window.confirm(S.cancel_confirm)) return;
        takeAttention(id);
        renderAttention();
      }
    });

    // Camera scanning where the browser has BarcodeDetector (Chrome on Android); scanners and typing elsewhere.
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      const camera = $("cp-camera");
      camera.classList.remove("d-none");
      camera.addEventListener("click", async () => {
        const video = $("cp-video");
        let stream;
        try {
          stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        } catch (err) { $("cp-form-error").textContent = S.no_camera; return; }
        const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        video.srcObject = stream;
        video.classList.remove("d-none");
        await video.play();
        const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.classList.add("d-none"); };
        const started = Date.now();
        const tick = async () => {
          if (Date.now() - started > 30000) { stop(); return; }
          try {
            const codes = await detector.detect(video);
            if (codes.length) { stop(); $("cp-q").value = codes[0].rawValue; lookup(codes[0].rawValue, true); return; }
          } catch (err) { /* a frame not ready yet */ }
          requestAnimationFrame(tick);
        };
        tick();
      });
    }
  }

  function showOnline() {
    const badge = $("cp-offline");
    if (badge) badge.classList.toggle("d-none", navigator.onLine);
  }
  window.addEventListener("online", () => { showOnline(); flush(); });
  window.addEventListener("offline", showOnline);
  setInterval(flush, RETRY_MS);
  showOnline();
  renderAttention();
  renderQueue();
  flush();
})();
