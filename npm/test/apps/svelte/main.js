import { mount } from 'svelte';
import App from './App.svelte';

// Mounted into the body as the framework's templates do: after whatever the page's HTML left
// there, so the app's own elements are the last nodes of the document.
mount(App, { target: document.body });
