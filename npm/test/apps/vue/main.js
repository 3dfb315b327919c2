// A todo app the way Vue apps are written: a template with v-model on every field, compiled
// at run time by Vue's full build.
import { createApp } from 'vue/dist/vue.esm-bundler.js';
import { hasApi, save, sync } from '../api.js';

let nextId = 1;

const root = document.body.appendChild(document.createElement('div'));
root.id = 'app';
createApp({
  data: () => ({ todos: [], text: '', filter: 'all', note: '', hasApi, syncing: false }),
  computed: {
    shown() {
      return this.todos.filter((t) => this.filter === 'all' || (this.filter === 'done') === t.done);
    },
    allDone() {
      return this.todos.length > 0 && this.todos.every((t) => t.done);
    },
  },
  methods: {
    add() {
      if (!this.text.trim()) return;
      this.todos.push({ id: nextId++, title: this.text.trim(), done: false });
      save(this.text.trim());
      this.text = '';
    },
    toggleAll() {
      const done = !this.allDone;
      for (const t of this.todos) t.done = done;
    },
    sync() {
      sync((syncing) => (this.syncing = syncing));
    },
    clear() {
      this.todos = this.todos.filter((t) => !t.done);
      this.filter = 'all';
    },
  },
  template: `
    <main>
      <h1>Todos</h1>
      <input id="toggle-all" type="checkbox" :checked="allDone" @change="toggleAll">
      <input id="new" v-model="text" placeholder="What needs doing?" @keydown.enter="add">
      <ul id="list">
        <li v-for="t in shown" :key="t.id" :class="{ done: t.done }">
          <input class="toggle" type="checkbox" v-model="t.done">
          <span>{{ t.title }}</span>
        </li>
      </ul>
      <select id="filter" v-model="filter">
        <option value="all">All</option>
        <option value="active">Active</option>
        <option value="done">Done</option>
      </select>
      <button id="clear" @click="clear">Clear done</button>
      <button v-if="hasApi" id="sync" @click="sync">{{ syncing ? 'Syncing…' : 'Sync' }}</button>
      <textarea id="note" v-model="note"></textarea>
      <button id="reset-note" @click="note = ''">Reset note</button>
    </main>`,
}).mount(root);
