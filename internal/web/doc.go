// Package web assembles Accord's HTTP surface: the health endpoints, metrics,
// and the handlers the other packages mount (webhook ingress, the admin API,
// the connect flow), behind the request-id, metrics and recovery middleware.
package web
