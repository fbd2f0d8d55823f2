// Keeps the caseload table up to date without reloading the page.
//
// The page works without this script: it is a table of the caseload as it
// was read. With it, the page opens the live feed (/v1/live, with the
// session cookie) from the position the table was read at, so nothing is
// missed, and for every event about a person it fetches that person's row
// again from the server (/provider/caseload/rows/{noms}, with the page's
// filters and order), which answers the row, or nothing when the person is not
// in the list any more. A row on the page is updated in place and highlighted;
// a new row is put where the order puts it when that is on this page, and
// otherwise counted in a message asking to refresh (the list is read a page
// at a time on the server, so a row for another page is not shown here). Deadlines pass without any event, so each
// row is also fetched again when its next deadline becomes due soon and when
// it passes. Changes are announced in an aria-live region for screen reader
// users. The connection resumes from the last position after a drop.

const table = document.querySelector('[data-live-caseload]');

if (table && 'WebSocket' in window && 'fetch' in window) {
  const tbody = table.tBodies[0];
  const status = document.querySelector('[data-live-status]');
  const announcer = document.getElementById('live-announcements');
  const empty = document.getElementById('caseload-empty');
  const count = table.querySelector('[data-count]');
  const noun = table.querySelector('[data-count-noun]');
  const changed = document.getElementById('live-changed');
  const desc = table.dataset.order === 'desc';
  const hasNext = table.dataset.hasNext === 'true';
  const hasPrev = table.dataset.hasPrev === 'true';
  // People changed live whose rows belong on another page.
  const elsewhere = new Set();
  let position = Number(table.dataset.position || 0);
  let retry = 1000;
  // The latest position asked for, per person: an older answer that
  // arrives late is dropped.
  const latest = new Map();
  // Timers that refresh a row when its deadline nears or passes.
  const timers = new Map();
  const dueSoonMs = Number(table.dataset.dueSoonSeconds || 0) * 1000;

  const setStatus = (text) => { if (status) status.textContent = text; };
  const announce = (text) => { if (announcer) announcer.textContent = text; };

  // What happened, in words: the server's label ("CRN linked"), the same
  // one the pages use; lower case after the first word unless an acronym.
  const describe = (label) => (/^[A-Z]{2}/.test(label) ? label : label.charAt(0).toLowerCase() + label.slice(1));

  // before reports whether sort key a comes before b in the page's order.
  const before = (a, b) => (desc ? a > b : a < b);

  // onThisPage reports whether a row with sort key k falls within this page:
  // between its first and last rows, or past them when no page lies beyond.
  const onThisPage = (k, except) => {
    const rows = Array.from(tbody.rows).filter((r) => r.dataset.noms !== except);
    if (rows.length === 0) return !hasNext && !hasPrev;
    if (hasPrev && before(k, rows[0].dataset.sort)) return false;
    if (hasNext && before(rows[rows.length - 1].dataset.sort, k)) return false;
    return true;
  };

  const showElsewhere = (noms) => {
    elsewhere.add(noms);
    if (!changed) return;
    const n = elsewhere.size;
    changed.querySelector('[data-changed-text]').textContent =
      (n === 1 ? '1 person' : n + ' people') + ' changed on other pages of this list.';
    changed.hidden = false;
  };

  const rowOf = (noms) => Array.from(tbody.rows).find((r) => r.dataset.noms === noms);

  const recount = () => {
    const n = tbody.rows.length;
    if (count) count.textContent = String(n);
    if (noun) noun.textContent = n === 1 ? 'case' : 'cases';
    if (empty) empty.hidden = n > 0;
  };

  // place puts row where the order puts it: in place when its key is
  // unchanged, else moved among the rows of the page.
  const place = (row) => {
    const noms = row.dataset.noms;
    const old = rowOf(noms);
    if (old && old.dataset.sort === row.dataset.sort) {
      old.replaceWith(row);
    } else {
      if (old) old.remove();
      const after = Array.from(tbody.rows).find((r) => before(row.dataset.sort, r.dataset.sort));
      tbody.insertBefore(row, after || null);
    }
    row.classList.add('gl-row--updated');
    setTimeout(() => row.classList.remove('gl-row--updated'), 6000);
    schedule(row);
  };

  const forget = (noms) => {
    (timers.get(noms) || []).forEach(clearTimeout);
    timers.delete(noms);
  };

  // schedule refreshes a row when a deadline in it becomes due soon and
  // when it passes (a second after, so that the server sees it passed).
  const schedule = (row) => {
    const noms = row.dataset.noms;
    (timers.get(noms) || []).forEach(clearTimeout);
    const now = Date.now();
    const ids = [];
    row.querySelectorAll('time[datetime]').forEach((t) => {
      const due = Date.parse(t.getAttribute('datetime'));
      if (Number.isNaN(due)) return;
      [due - dueSoonMs, due + 1000].forEach((at) => {
        // Timers further off than 24 days overflow; the page is reloaded
        // long before.
        if (at > now && at - now < 24 * 24 * 3600 * 1000) {
          ids.push(setTimeout(() => refresh(noms, position, 'Deadline reached'), at - now));
        }
      });
    });
    timers.set(noms, ids);
  };

  const refresh = async (noms, at, eventType) => {
    latest.set(noms, at);
    let res;
    try {
      // The page's own query: its filters and order.
      const q = new URLSearchParams(location.search);
      q.delete('cursor');
      q.set('at', String(at));
      res = await fetch('/provider/caseload/rows/' + encodeURIComponent(noms) + '?' + q.toString(),
        { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    } catch (e) {
      return;
    }
    if (latest.get(noms) !== at) return;
    if (res.status === 204) {
      const old = rowOf(noms);
      forget(noms);
      if (old) {
        old.remove();
        recount();
        announce(noms + ' is no longer in this list: ' + describe(eventType));
      }
      return;
    }
    if (!res.ok) return;
    const tpl = document.createElement('template');
    tpl.innerHTML = (await res.text()).trim();
    const row = tpl.content.querySelector('tr');
    if (!row || row.dataset.noms !== noms) return;
    const old = rowOf(noms);
    if (!onThisPage(row.dataset.sort, noms)) {
      // It belongs on another page of the list now.
      if (old) {
        old.remove();
        forget(noms);
        recount();
      }
      showElsewhere(noms);
      announce('Record updated for ' + noms + ': ' + describe(eventType) + '. It is now on another page of this list.');
      return;
    }
    place(row);
    recount();
    announce((old ? 'Record updated for ' : 'Added to this list: ') + noms + ': ' + describe(eventType));
  };

  Array.from(tbody.rows).forEach(schedule);
  if (changed) {
    changed.querySelector('[data-refresh]').href = location.pathname + location.search;
  }

  const connect = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(scheme + '//' + location.host + '/v1/live', 'gateledger.live.v1');
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', from: position }));
    });
    ws.addEventListener('message', (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      switch (msg.type) {
        case 'caught-up':
          position = msg.position;
          retry = 1000;
          setStatus('Live: changes to your caseload appear here as they happen.');
          table.dataset.live = 'connected';
          break;
        case 'checkpoint':
          position = msg.position;
          break;
        case 'event':
          position = msg.position;
          if (msg.noms) refresh(msg.noms, msg.position, msg.label || msg.eventType);
          break;
      }
    });
    ws.addEventListener('close', (e) => {
      table.dataset.live = 'closed';
      if (e.code === 4401) {
        setStatus('Live updates stopped: your session has ended. Sign in again to see changes.');
        return;
      }
      setStatus('Live updates paused: reconnecting.');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  };

  connect();
}
