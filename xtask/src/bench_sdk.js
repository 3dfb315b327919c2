// The SDK benchmark's page script: builds the page, starts a recorder (none, Sightline or
// rrweb), runs a scripted journey, and reports what the recorder cost. `cargo xtask bench-sdk`
// drives it through WebDriver and reads the main thread's time from the DevTools protocol.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
}).observe({ type: 'longtask', buffered: true });
// Long animation frames name the scripts that made them long (for `SIGHTLINE_BENCH_PROFILE`).
const longFrames = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    longFrames.push({
      start: entry.startTime,
      duration: Math.round(entry.duration),
      render: Math.round(entry.renderStart ? entry.startTime + entry.duration - entry.renderStart : 0),
      scripts: entry.scripts.map((s) => ({
        what: `${s.invoker} ${s.sourceFunctionName || ''} ${String(s.sourceURL).split('/').pop()}`,
        recorder: /\/(index\.js|rrweb-record\.js)$/.test(String(s.sourceURL)),
        duration: Math.round(s.duration),
        layout: Math.round(s.forcedStyleAndLayoutDuration),
      })),
    });
  }
}).observe({ type: 'long-animation-frame', buffered: true });

// A typical SaaS screen: navigation, a 300-row table, a form, a list that grows.
function buildApp() {
  const rows = [];
  for (let i = 0; i < 300; i++) {
    rows.push(`<tr class="row"><td>INV-${1000 + i}</td><td>Customer ${i}</td><td class="amount">${(i * 37) % 1000}.00</td><td><span class="badge">${i % 3 ? 'paid' : 'open'}</span></td></tr>`);
  }
  document.body.innerHTML = `
    <nav><a href="#/invoices">Invoices</a> <a href="#/customers">Customers</a> <a href="#/settings">Settings</a></nav>
    <main>
      <h1>Invoices <small id="count">0</small></h1>
      <form onsubmit="return false"><input id="q" placeholder="Search"> <input id="email" type="email"> <button id="add" type="button">Add</button></form>
      <ul id="list"></ul>
      <table><thead><tr><th>Number</th><th>Customer</th><th>Amount</th><th>Status</th></tr></thead><tbody id="rows">${rows.join('')}</tbody></table>
      <div id="big"></div>
    </main>`;
  let added = 0;
  document.getElementById('add').addEventListener('click', () => {
    added++;
    const li = document.createElement('li');
    li.innerHTML = `<b>Item ${added}</b> <em>added at step ${added * 10}</em>`;
    document.getElementById('list').append(li);
    document.getElementById('count').textContent = String(added);
  });
}

const JOURNEYS = {
  // 1,000 API calls one after the other, half fetch and half XHR, each read to the end.
  async api() {
    const xhr = () =>
      new Promise((resolve) => {
        const request = new XMLHttpRequest();
        request.open('GET', '/bench-api.json?via=xhr');
        request.onloadend = () => resolve(request.responseText.length);
        request.send();
      });
    const start = performance.now();
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) await (await fetch(`/bench-api.json?call=${i}`)).json();
      else await xhr();
    }
    return performance.now() - start;
  },
  // 400 steps of pointer moves, typing, clicks that add list items, row highlights and scrolls.
  async interactions() {
    const q = document.getElementById('q');
    const email = document.getElementById('email');
    const add = document.getElementById('add');
    const rows = document.getElementById('rows').children;
    for (let i = 0; i < 400; i++) {
      document.dispatchEvent(new MouseEvent('mousemove', { clientX: 100 + (i % 300), clientY: 150 + (i % 80), bubbles: true }));
      if (i % 2 === 0) {
        const field = i % 4 === 0 ? q : email;
        field.value += String.fromCharCode(97 + (i % 26));
        field.dispatchEvent(new Event('input', { bubbles: true }));
      }
      if (i % 10 === 0) add.click();
      if (i % 5 === 0) rows[i % rows.length].classList.toggle('selected');
      if (i % 25 === 0) window.scrollTo(0, (i * 7) % 2000);
      if (i % 40 === 39) document.getElementById('list').firstChild.remove();
      await sleep(5);
    }
  },
  // A form of 1,000 fields (text, checkbox, select) that the app re-renders 20 times, setting
  // every field's value, check or choice from script, as a framework does after a change:
  // what wrapping the form elements' setters costs.
  async form() {
    const big = document.getElementById('big');
    const fields = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 3 === 0) fields.push(`<input type="checkbox" id="f${i}">`);
      else if (i % 3 === 1) fields.push(`<input id="f${i}">`);
      else fields.push(`<select id="f${i}"><option>a</option><option>b</option><option>c</option></select>`);
    }
    big.innerHTML = `<form>${fields.join('')}</form>`;
    const controls = big.querySelectorAll('input, select');
    await sleep(100);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < controls.length; i++) {
        const control = controls[i];
        if (control.type === 'checkbox') control.checked = (i + round) % 2 === 0;
        else if (control.localName === 'select') control.selectedIndex = (i + round) % 3;
        else control.value = `value ${round}`;
      }
      await sleep(20);
    }
  },
  // A 10,000-row table rendered, then re-rendered three times with new values.
  async table() {
    const big = document.getElementById('big');
    for (let round = 0; round < 4; round++) {
      const rows = [];
      for (let i = 0; i < 10000; i++) {
        rows.push(`<tr><td>${i}</td><td>Order ${i + round}</td><td>${(i * (round + 3)) % 977}</td><td>${round % 2 ? 'shipped' : 'pending'}</td></tr>`);
      }
      big.innerHTML = `<table><tbody>${rows.join('')}</tbody></table>`;
      await sleep(400);
    }
  },
  // A mutation storm: 2,500 paragraphs (5,000 nodes) replaced every 50 ms for 3 s, 100,000
  // nodes a second added and as many removed.
  async storm() {
    const big = document.getElementById('big');
    for (let round = 0; round < 60; round++) {
      const cells = [];
      for (let i = 0; i < 2500; i++) cells.push(`<p>cell ${round}-${i}</p>`);
      big.innerHTML = cells.join('');
      await sleep(50);
    }
  },
};

async function gzipSize(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

let recorder = null;

async function loadScript(src) {
  await new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function startRecorder(mode, endpoint, projectKey, journey) {
  if (mode === 'sightline' || mode === 'buffer') {
    const sdk = await import('/index.js');
    await sdk.init({ endpoint, projectKey, mode: mode === 'buffer' ? 'buffer' : 'full' });
    recorder = { mode, sdk };
  } else if (mode === 'rrweb') {
    await loadScript('/rrweb-record.js');
    const plugins = [];
    if (journey === 'api') {
      // rrweb's network plugin, with its defaults (URL, method, status, timing; no headers or bodies).
      await loadScript('/rrweb-network.js');
      plugins.push(window.rrwebPluginNetworkRecord.getRecordNetworkPlugin());
    }
    const events = [];
    // Inputs masked, as Sightline does by default.
    const stop = window.rrwebRecord.record({ emit: (event) => events.push(event), maskAllInputs: true, plugins });
    recorder = { mode, events, stop };
  }
}

// Runs one journey under one recorder; returns when the journey is done and the recorder has
// handed its last events over (Sightline: encoded, compressed and queued for delivery).
window.runJourney = async (mode, journey, endpoint, projectKey) => {
  if (journey === 'api') document.body.innerHTML = '<h1>API client</h1><pre id="out"></pre>';
  else buildApp();
  const start = performance.now();
  await startRecorder(mode, endpoint, projectKey, journey);
  const journeyMs = await JOURNEYS[journey]();
  if (recorder && (recorder.mode === 'sightline' || recorder.mode === 'buffer')) recorder.sdk.flush();
  await sleep(50);
  const tasks = longTasks.filter((t) => t.start >= start);
  const frames = longFrames.filter((f) => f.start >= start);
  return {
    // The longest script run that entered through the recorder's own code.
    recorderScript: frames.flatMap((f) => f.scripts.filter((s) => s.recorder)).reduce((max, s) => Math.max(max, s.duration), 0),
    // The three longest frames, and any other in which the recorder ran for 30 ms or more.
    frames: frames
      .slice()
      .sort((a, b) => b.duration - a.duration)
      .filter((f, i) => i < 3 || f.scripts.some((s) => s.recorder && s.duration >= 30)),
    longest: tasks.reduce((max, t) => Math.max(max, t.duration), 0),
    longTasks: tasks.length,
    journeyMs: typeof journeyMs === 'number' ? journeyMs : 0,
    nodes: document.getElementsByTagName('*').length,
  };
};

// After the measurement: what the recorder ships.
window.finishJourney = async () => {
  if (recorder === null) return { bytes: 0 };
  if (recorder.mode === 'sightline') return { session: recorder.sdk.getSessionUrl() };
  // Buffer mode ships nothing.
  if (recorder.mode === 'buffer') return { bytes: 0 };
  recorder.stop();
  return { bytes: await gzipSize(JSON.stringify(recorder.events)), events: recorder.events.length };
};
