// Package access says who is calling and what they may do: API tokens with
// roles (stored as SHA-256 hashes), the deployment's single admin token
// (an admin), and signed single-use links into a tenant's pages. The admin
// API and the UI both authenticate and authorise through it, so a role
// means the same on either.
package access
