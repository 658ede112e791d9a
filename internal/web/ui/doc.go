// Package ui serves Accord's server-rendered pages under /ui/: the
// operator's view of every tenant (/ui/) and a tenant admin's view of its
// own integrations (/ui/t/{tenant}/…): Integration Health per installation,
// record errors with retry, and the setup wizard that installs a catalog
// contract (/ui/t/{tenant}/setup/).
//
// Templates and assets are embedded and parsed once, in New; a page is
// rendered into a buffer before anything is written, so a template error
// is a clean 500, never half a page. Asset URLs carry a hash of their
// content and are cached for a year. Every response carries a strict
// Content-Security-Policy (no inline script or style); every form carries
// a CSRF token, and cross-origin state changes are refused outright.
//
// Sign-in is by pasting an API token (access roles apply unchanged) or by
// a single-use tenant link from POST /api/v1/tenants/{tenant}/ui-links;
// either becomes a signed, HttpOnly, SameSite=Strict session cookie.
package ui
