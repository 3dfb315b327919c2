// A todo app the way jQuery pages are written: the list re-rendered as HTML into its
// container, fields set with .val() and .prop().
import $ from 'jquery';

let nextId = 1;
let todos = [];
let filter = 'all';

$('body').append(`<main>
  <h1>Todos</h1>
  <input id="toggle-all" type="checkbox">
  <input id="new" placeholder="What needs doing?">
  <ul id="list"></ul>
  <select id="filter"><option value="all">All</option><option value="active">Active</option><option value="done">Done</option></select>
  <button id="clear">Clear done</button>
  <textarea id="note"></textarea>
  <button id="reset-note">Reset note</button>
</main>`);

const escape = (text) => $('<span>').text(text).html();

function render() {
  const shown = todos.filter((t) => filter === 'all' || (filter === 'done') === t.done);
  $('#list').html(
    shown
      .map((t) => `<li class="${t.done ? 'done' : ''}" data-id="${t.id}"><input class="toggle" type="checkbox"${t.done ? ' checked' : ''}><span>${escape(t.title)}</span></li>`)
      .join(''),
  );
  $('#toggle-all').prop('checked', todos.length > 0 && todos.every((t) => t.done));
  $('#filter').val(filter);
}

$('#new').on('keydown', (event) => {
  const text = String($('#new').val()).trim();
  if (event.key !== 'Enter' || !text) return;
  todos.push({ id: nextId++, title: text, done: false });
  $('#new').val('');
  render();
});
$('#list').on('change', '.toggle', (event) => {
  const id = Number($(event.target).closest('li').data('id'));
  todos = todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t));
  render();
});
$('#toggle-all').on('change', (event) => {
  const done = event.target.checked;
  todos = todos.map((t) => ({ ...t, done }));
  render();
});
$('#filter').on('change', (event) => {
  filter = event.target.value;
  render();
});
$('#clear').on('click', () => {
  todos = todos.filter((t) => !t.done);
  filter = 'all';
  render();
});
$('#reset-note').on('click', () => $('#note').val(''));
