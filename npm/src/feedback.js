// The feedback dialog: the user says what went wrong, in their words, and it goes with the
// session at this moment. No framework and nothing of the page's styles: a native modal
// <dialog> (focus kept inside, Escape closes it, the page behind it inert) in a closed shadow
// root, so the page's CSS can't reach it, its CSS can't reach the page, and the recorder,
// which reads open shadow roots only, never records it.

const STYLE = `
:host { all: initial; }
dialog { font: 14px/1.45 system-ui, sans-serif; color: #1b2130; background: #fff; border: 0;
  border-radius: 10px; padding: 20px; width: min(420px, calc(100vw - 32px)); box-shadow: 0 8px 32px #0004; }
dialog::backdrop { background: #0006; }
h2 { font-size: 17px; margin: 0 0 6px; }
p { margin: 0 0 12px; color: #4b5262; }
label { display: block; font-weight: 600; margin-bottom: 4px; }
textarea { box-sizing: border-box; width: 100%; min-height: 120px; font: inherit; padding: 8px;
  border: 1px solid #8a91a0; border-radius: 6px; resize: vertical; }
textarea:focus-visible, button:focus-visible { outline: 3px solid #2f6fed; outline-offset: 2px; }
.count { font-size: 12px; color: #4b5262; text-align: right; margin-top: 4px; }
.actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 12px; }
button { font: inherit; padding: 7px 14px; border-radius: 6px; border: 1px solid #8a91a0; background: #fff;
  color: #1b2130; cursor: pointer; }
button.send { background: #2f6fed; border-color: #2f6fed; color: #fff; }
.thanks { margin: 0; }
`;

const TEXTS = {
  title: 'Report a problem',
  intro: 'Tell us what went wrong. What you were doing on this page goes with your report.',
  label: 'What happened?',
  send: 'Send',
  cancel: 'Cancel',
  thanks: 'Thank you. Your report was sent.',
  failed: 'Your report could not be sent.',
  close: 'Close',
};

// Opens the dialog; `send(text)` is called with what the user wrote when they send it.
// Resolves to whether they sent something. Only one dialog is open at a time.
export function openFeedback(send, maxLength, options = {}) {
  const texts = { ...TEXTS, ...(options.texts || {}) };
  const host = document.createElement('sightline-feedback');
  const root = host.attachShadow({ mode: 'closed' });
  const style = document.createElement('style');
  style.textContent = STYLE;
  const dialog = document.createElement('dialog');
  dialog.setAttribute('aria-labelledby', 'sl-title');
  dialog.setAttribute('aria-describedby', 'sl-intro');
  const form = document.createElement('form');
  form.method = 'dialog';
  const title = element('h2', { id: 'sl-title' }, texts.title);
  const intro = element('p', { id: 'sl-intro' }, texts.intro);
  const label = element('label', { for: 'sl-text' }, texts.label);
  const area = element('textarea', { id: 'sl-text', name: 'text', required: '', maxlength: String(maxLength), 'aria-describedby': 'sl-count' });
  const count = element('div', { id: 'sl-count', class: 'count' }, `0 / ${maxLength}`);
  const cancel = element('button', { type: 'button', class: 'cancel' }, texts.cancel);
  const submit = element('button', { type: 'submit', class: 'send' }, texts.send);
  const actions = element('div', { class: 'actions' });
  actions.append(cancel, submit);
  form.append(title, intro, label, area, count, actions);
  // A live region in place from the start, so a screen reader announces what is put in it.
  const status = element('p', { class: 'thanks', role: 'status' });
  dialog.append(form, status);
  root.append(style, dialog);
  const before = document.activeElement;
  (document.body || document.documentElement).append(host);

  return new Promise((resolve) => {
    let sent = false;
    area.addEventListener('input', () => {
      count.textContent = `${area.value.length} / ${maxLength}`;
    });
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) {
        area.focus();
        return;
      }
      sent = send(text) !== false;
      // The dialog says it was sent, in its live region, then closes.
      status.textContent = sent ? texts.thanks : texts.failed;
      const close = element('button', { type: 'button', class: 'send' }, texts.close);
      const done = element('div', { class: 'actions' });
      done.append(close);
      close.addEventListener('click', () => dialog.close());
      dialog.removeAttribute('aria-describedby');
      form.replaceWith(done);
      close.focus();
    });
    dialog.addEventListener('close', () => {
      host.remove();
      if (before && typeof before.focus === 'function') before.focus();
      resolve(sent);
    });
    try {
      dialog.showModal();
    } catch (error) {
      host.remove();
      throw error;
    }
    area.focus();
  });
}

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}
