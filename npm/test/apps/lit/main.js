// A todo app the way Lit apps are written: a custom element rendering into its shadow root,
// with styles adopted by the shadow root and fields bound to properties.
import { LitElement, css, html } from 'lit';
import { live } from 'lit/directives/live.js';

let nextId = 1;

class TodoApp extends LitElement {
  static properties = { todos: { state: true }, text: { state: true }, filter: { state: true }, note: { state: true } };

  static styles = css`
    li.done span { text-decoration: line-through; }
    #list { min-height: 20px; }
  `;

  constructor() {
    super();
    this.todos = [];
    this.text = '';
    this.filter = 'all';
    this.note = '';
  }

  add(event) {
    if (event.key !== 'Enter' || !this.text.trim()) return;
    this.todos = [...this.todos, { id: nextId++, title: this.text.trim(), done: false }];
    this.text = '';
  }

  render() {
    const shown = this.todos.filter((t) => this.filter === 'all' || (this.filter === 'done') === t.done);
    const allDone = this.todos.length > 0 && this.todos.every((t) => t.done);
    const toggle = (id) => (this.todos = this.todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)));
    return html`
      <h1>Todos</h1>
      <input id="toggle-all" type="checkbox" .checked=${live(allDone)} @change=${() => (this.todos = this.todos.map((t) => ({ ...t, done: !allDone })))} />
      <input id="new" .value=${live(this.text)} placeholder="What needs doing?" @input=${(e) => (this.text = e.target.value)} @keydown=${this.add} />
      <ul id="list">
        ${shown.map(
          (t) => html`<li class=${t.done ? 'done' : ''}>
            <input class="toggle" type="checkbox" .checked=${live(t.done)} @change=${() => toggle(t.id)} /><span>${t.title}</span>
          </li>`,
        )}
      </ul>
      <select id="filter" .value=${live(this.filter)} @change=${(e) => (this.filter = e.target.value)}>
        <option value="all">All</option>
        <option value="active">Active</option>
        <option value="done">Done</option>
      </select>
      <button id="clear" @click=${() => ((this.todos = this.todos.filter((t) => !t.done)), (this.filter = 'all'))}>Clear done</button>
      <textarea id="note" .value=${live(this.note)} @input=${(e) => (this.note = e.target.value)}></textarea>
      <button id="reset-note" @click=${() => (this.note = '')}>Reset note</button>
    `;
  }
}

customElements.define('todo-app', TodoApp);
document.body.appendChild(document.createElement('todo-app'));
