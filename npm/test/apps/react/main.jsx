// A todo app the way React apps are written: every field controlled by state, so the
// framework sets values, checks and the chosen option from script after each render.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { hasApi, save, sync } from '../api.js';

let nextId = 1;

function App() {
  const [todos, setTodos] = useState([]);
  const [text, setText] = useState('');
  const [filter, setFilter] = useState('all');
  const [note, setNote] = useState('');
  const [syncing, setSyncing] = useState(false);
  const shown = todos.filter((t) => filter === 'all' || (filter === 'done') === t.done);
  const allDone = todos.length > 0 && todos.every((t) => t.done);
  const add = (event) => {
    if (event.key !== 'Enter' || !text.trim()) return;
    setTodos([...todos, { id: nextId++, title: text.trim(), done: false }]);
    save(text.trim());
    setText('');
  };
  const toggle = (id) => setTodos(todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)));
  return (
    <main>
      <h1>Todos</h1>
      <input id="toggle-all" type="checkbox" checked={allDone} onChange={() => setTodos(todos.map((t) => ({ ...t, done: !allDone })))} />
      <input id="new" value={text} placeholder="What needs doing?" onChange={(e) => setText(e.target.value)} onKeyDown={add} />
      <ul id="list">
        {shown.map((t) => (
          <li key={t.id} className={t.done ? 'done' : ''}>
            <input className="toggle" type="checkbox" checked={t.done} onChange={() => toggle(t.id)} />
            <span>{t.title}</span>
          </li>
        ))}
      </ul>
      <select id="filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
        <option value="all">All</option>
        <option value="active">Active</option>
        <option value="done">Done</option>
      </select>
      <button id="clear" onClick={() => (setTodos(todos.filter((t) => !t.done)), setFilter('all'))}>
        Clear done
      </button>
      {hasApi && (
        <button id="sync" onClick={() => sync(setSyncing)}>
          {syncing ? 'Syncing…' : 'Sync'}
        </button>
      )}
      <textarea id="note" value={note} onChange={(e) => setNote(e.target.value)} />
      <button id="reset-note" onClick={() => setNote('')}>
        Reset note
      </button>
    </main>
  );
}

const root = document.body.appendChild(document.createElement('div'));
root.id = 'app';
createRoot(root).render(<App />);
