// The package's version, built into each of its modules: the entry script, loaded first, and
// the DOM recorder it loads next to it must come from the same release (a cache or CDN that
// serves one of them stale would pair a walker and a recorder that read each other wrongly).
// The unit tests hold it to package.json.
export const VERSION = '0.1.0';
