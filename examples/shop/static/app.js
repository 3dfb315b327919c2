// Acme Billing: three views on client-side routes, data from the demo backend, and the Sightline
// SDK installed the way a customer would install it.
import { init, identify, track, getSessionUrl } from '/sightline/index.js';

const view = document.getElementById('view');

function toast(message, kind) {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.className = kind || '';
  box.style.display = 'block';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.style.display = 'none'), 4000);
}

async function showInvoices() {
  view.innerHTML = `
    <div class="card">
      <h1>Invoices</h1>
      <p><button id="new-invoice" class="primary">New invoice</button> <button id="report">Load revenue report</button> <button id="export">Export CSV</button> <button id="download-pdf">Download PDF</button></p>
      <div id="report-result"></div>
      <table><thead><tr><th>Number</th><th>Customer</th><th>Amount</th><th>Status</th><th></th></tr></thead>
      <tbody id="invoices"><tr><td colspan="5">Loading…</td></tr></tbody></table>
    </div>`;
  document.getElementById('report').onclick = loadReport;
  document.getElementById('new-invoice').onclick = openInvoiceModal;
  document.getElementById('export').onclick = exportCsv;
  // #download-pdf has no handler: the feature shipped without its wiring, and users click it
  // to no effect (a dead click in their sessions).
  const response = await fetch('/api/invoices');
  const invoices = await response.json();
  document.getElementById('invoices').innerHTML = invoices
    .map(
      (i) => `<tr><td>INV-${i.id}</td><td>${i.customer}</td><td>${i.amount}.00 ${i.currency}</td>
        <td><span class="badge ${i.status}">${i.status}</span></td>
        <td><button class="send" data-id="${i.id}">Send</button></td></tr>`,
    )
    .join('');
  for (const button of document.querySelectorAll('button.send')) button.onclick = () => sendInvoice(button.dataset.id);
}

// A modal form: a <dialog> shown over the page.
function openInvoiceModal() {
  const dialog = document.createElement('dialog');
  dialog.id = 'invoice-modal';
  dialog.innerHTML = `
    <form method="dialog">
      <h2>New invoice</h2>
      <label for="invoice-customer">Customer</label><input id="invoice-customer" required>
      <label for="invoice-amount">Amount (EUR)</label><input id="invoice-amount" type="number" min="1" required>
      <label for="invoice-due">Due</label><input id="invoice-due" type="date">
      <p><button id="invoice-create" class="primary" value="create">Create</button> <button id="invoice-cancel" value="cancel" formnovalidate>Cancel</button></p>
    </form>`;
  document.body.append(dialog);
  dialog.addEventListener('close', async () => {
    const create = dialog.returnValue === 'create';
    const customer = document.getElementById('invoice-customer').value;
    const amount = Number(document.getElementById('invoice-amount').value);
    dialog.remove();
    if (!create) return;
    const response = await fetch('/api/invoices', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer, amount }),
    });
    const invoice = await response.json();
    const row = document.createElement('tr');
    row.innerHTML = `<td>INV-${invoice.id}</td><td></td><td>${invoice.amount}.00 EUR</td><td><span class="badge open">open</span></td><td></td>`;
    row.children[1].textContent = invoice.customer;
    document.getElementById('invoices').prepend(row);
    toast(`INV-${invoice.id} created`);
  });
  dialog.showModal();
}

async function sendInvoice(id) {
  const response = await fetch(`/api/invoices/${id}/send`, { method: 'POST' });
  if (!response.ok) {
    const body = await response.json();
    console.error(`Sending INV-${id} failed:`, body.message);
    toast(`Could not send INV-${id}: ${body.message}`, 'error');
    return;
  }
  toast(`INV-${id} sent`);
}

async function loadReport() {
  const out = document.getElementById('report-result');
  out.textContent = 'Loading report…';
  const report = await (await fetch('/api/report')).json();
  out.textContent = `Revenue ${report.revenue} ${report.currency}, ${report.open_invoices} open invoices`;
}

function exportCsv() {
  // The bug a support engineer will find in the replay: the export reads columns that were
  // never loaded.
  const settings = undefined;
  return settings.columns.join(',');
}

function showCheckout() {
  view.innerHTML = `
    <div class="card">
      <h1>Upgrade to Enterprise</h1>
      <form id="checkout">
        <label for="email">Billing email</label><input id="email" type="email" autocomplete="email">
        <label for="password">Confirm your password</label><input id="password" type="password" autocomplete="current-password">
        <label for="card">Card number</label><input id="card" autocomplete="cc-number" inputmode="numeric">
        <label for="plan">Plan</label>
        <select id="plan"><option value="team">Team</option><option value="enterprise">Enterprise</option></select>
        <label for="notes">Notes for our team</label><textarea id="notes" rows="3"></textarea>
        <div data-sl-unmask><label for="coupon">Coupon code</label><input id="coupon"></div>
        <p><label><input id="terms" type="checkbox" style="width:auto"> I accept the terms</label></p>
        <button class="primary" id="pay" type="submit">Pay</button>
      </form>
    </div>`;
  document.getElementById('checkout').onsubmit = async (event) => {
    event.preventDefault();
    const plan = document.getElementById('plan').value;
    const response = await fetch('/api/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: document.getElementById('email').value, password: document.getElementById('password').value, plan }),
    });
    const order = await response.json();
    track('checkout_completed', { plan, order: order.order });
    toast(`Order ${order.order} confirmed`);
  };
}

function showLogin() {
  view.innerHTML = `
    <div class="card" style="max-width: 420px; margin: 40px auto">
      <h1>Sign in to Acme Billing</h1>
      <form id="login">
        <label for="login-email">Email</label><input id="login-email" type="email" autocomplete="username">
        <label for="login-password">Password</label><input id="login-password" type="password" autocomplete="current-password">
        <p id="login-error" style="color: #b3261e"></p>
        <button class="primary" id="login-submit" type="submit">Sign in</button>
      </form>
    </div>`;
  document.getElementById('login').onsubmit = async (event) => {
    event.preventDefault();
    const response = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: document.getElementById('login-email').value, password: document.getElementById('login-password').value }),
    });
    if (!response.ok) {
      document.getElementById('login-error').textContent = (await response.json()).message;
      return;
    }
    navigate('/');
  };
}

// A few thousand rows: the kind of table support engineers see users struggle with.
async function showCustomers() {
  view.innerHTML = `<div class="card"><h1>Customers</h1><input id="customer-filter" placeholder="Filter by name or city">
    <table><thead><tr><th>Id</th><th>Name</th><th>City</th><th>Seats</th><th>Plan</th></tr></thead><tbody id="customers"></tbody></table></div>`;
  const customers = await (await fetch('/api/customers')).json();
  const body = document.getElementById('customers');
  const draw = (filter) => {
    body.innerHTML = customers
      .filter((c) => !filter || c.name.toLowerCase().includes(filter) || c.city.toLowerCase().includes(filter))
      .map((c) => `<tr><td>${c.id}</td><td>${c.name}</td><td>${c.city}</td><td>${c.seats}</td><td>${c.plan}</td></tr>`)
      .join('');
  };
  draw('');
  document.getElementById('customer-filter').oninput = (event) => draw(event.target.value.trim().toLowerCase());
}

function showSettings() {
  view.innerHTML = `
    <div class="card">
      <h1>Settings</h1>
      <label><input type="checkbox" id="digest" style="width:auto" checked> Weekly digest email</label>
      <label for="timezone">Time zone</label>
      <select id="timezone"><option>Europe/Paris</option><option>America/New_York</option></select>
      <h2>Account balance</h2>
      <div class="chart" data-sl-block>Balance: 48,210.00 EUR</div>
    </div>`;
}

const VIEWS = { '/': showInvoices, '/customers': showCustomers, '/checkout': showCheckout, '/settings': showSettings, '/login': showLogin };

function navigate(path) {
  history.pushState({}, '', path);
  render();
}

// The status badge comes from another origin: the same server under its other host name.
async function showStatus() {
  const other = location.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  try {
    const status = await (await fetch(`${location.protocol}//${other}:${location.port}/api/status`)).json();
    document.getElementById('status').textContent = `status: ${status.status}`;
  } catch (error) {
    document.getElementById('status').textContent = 'status: unknown';
  }
}

function render() {
  for (const link of document.querySelectorAll('a[data-route]')) {
    link.classList.toggle('current', link.getAttribute('href') === location.pathname);
  }
  (VIEWS[location.pathname] || showInvoices)();
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-route]');
  if (!link) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
addEventListener('popstate', render);

// The app renders first; the SDK loads next to it and never holds it up.
render();
// `?sightline=off` runs the app without the SDK, to compare.
if (new URLSearchParams(location.search).get('sightline') !== 'off') {
  // Headers and bodies of the app's own API calls are recorded (redacted); the rest by URL,
  // status and timing only.
  await init({ ...window.SIGHTLINE, networkDetailUrls: ['/api/checkout', '/api/invoices'] });
}
showStatus();
identify('u_1842', { email: 'jane@acme.com', name: 'Jane Doe', plan: 'team', company: 'Acme' });
const link = getSessionUrl();
document.getElementById('session').textContent = link ? `this session: ${link}` : 'not recorded';
window.sightlineReady = true;
