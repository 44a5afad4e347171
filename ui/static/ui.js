// muster UI: follows the control plane's event stream, renders the live
// part of the page again (on the server) as events arrive, and tails logs.
// No framework and no build step: what the server rendered stays the page.
"use strict";
(function () {
  const body = document.body;
  const live = document.getElementById("live");
  const status = document.getElementById("live-status");
  const eventsList = document.getElementById("events");
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let pending = null;
  let last = 0;

  function setStatus(text, tone) {
    if (!status) return;
    status.textContent = text;
    status.className = "live " + tone;
  }

  const versions = document.getElementById("versions");

  // load renders a block of the page again from its data-src; an expired
  // session reloads the page, which sends the browser to log in.
  async function load(el) {
    try {
      const res = await fetch(el.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (res.status === 401) return location.reload();
      if (res.ok) el.innerHTML = await res.text();
    } catch (e) {
      // the next event or tick tries again
    }
  }

  async function refresh() {
    pending = null;
    last = Date.now();
    await load(live);
  }

  // newVersion renders the versions again when an event names a version
  // the page has not shown.
  function newVersion(ev) {
    if (!versions || !(ev.version > Number(versions.dataset.version))) return;
    versions.dataset.version = String(ev.version);
    load(versions);
  }

  // schedule refreshes at most every 300ms, however fast events come.
  function schedule() {
    if (!live || pending) return;
    pending = setTimeout(refresh, Math.max(0, 300 - (Date.now() - last)));
  }

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  // showEvent puts an event on top of the page's list, as text only.
  function showEvent(ev) {
    if (!eventsList || !ev.kind) return;
    const li = document.createElement("li");
    const t = new Date(ev.time);
    li.append(text("time", t.toLocaleTimeString()), " ", text("b", ev.kind));
    if (ev.version) li.append(" v" + ev.version);
    if (ev.node) li.append(" on " + ev.node);
    if (ev.execution) li.append(" " + ev.execution);
    if (ev.state) li.append(" ", text("span", ev.state, "badge"));
    if (ev.message) li.append(" " + ev.message);
    const empty = eventsList.querySelector(".empty");
    if (empty) empty.remove();
    eventsList.prepend(li);
    while (eventsList.children.length > 200) eventsList.lastElementChild.remove();
  }

  // follow reads the newline-delimited JSON event stream, and opens it
  // again when it breaks.
  async function follow(url) {
    for (;;) {
      try {
        const res = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (res.status === 401) return location.reload();
        if (!res.ok) throw new Error("events: " + res.status);
        setStatus("live", "on");
        schedule(); // what happened while the stream was down
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (!line) continue; // the stream's heartbeat
            let ev;
            try {
              ev = JSON.parse(line);
            } catch (e) {
              continue;
            }
            showEvent(ev);
            newVersion(ev);
            schedule();
          }
        }
      } catch (e) {
        // fall through: reconnect
      }
      setStatus("reconnecting", "off");
      await sleep(2000);
    }
  }

  function ended() {
    const ex = document.getElementById("execution");
    return ex && ex.dataset.ended === "true";
  }

  // tail follows one log stream from its start, keeping the last 256 KiB
  // on the page, until the execution ended and nothing more comes.
  async function tail(pre) {
    const keep = 256 * 1024;
    const decoder = new TextDecoder();
    let offset = 0;
    for (;;) {
      let got = 0;
      try {
        const res = await fetch(pre.dataset.log + "&offset=" + offset, { credentials: "same-origin", cache: "no-store" });
        if (res.status === 401) return location.reload();
        if (res.ok) {
          const buf = await res.arrayBuffer();
          got = buf.byteLength;
          if (got > 0) {
            offset += got;
            const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.append(decoder.decode(buf, { stream: true }));
            if (pre.textContent.length > keep) pre.textContent = pre.textContent.slice(-keep);
            if (follow) pre.scrollTop = pre.scrollHeight;
          }
        }
      } catch (e) {
        // try again
      }
      pre.dataset.offset = String(offset);
      if (got === 0 && ended()) {
        pre.dataset.done = "true";
        return;
      }
      await sleep(got > 0 ? 200 : 1000);
    }
  }

  if (body.dataset.events) follow(body.dataset.events);
  if (live && live.dataset.every) setInterval(schedule, Number(live.dataset.every));
  document.querySelectorAll("pre[data-log]").forEach(tail);
})();
