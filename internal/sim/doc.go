// Package sim holds partner simulators — a helpdesk, an incident tool and a
// chat tool — that `accord demo` runs next to Accord and that tests use as
// partner fakes over loopback.
//
// Each simulator keeps its state in memory behind a mutex, authenticates
// bearer tokens, and shares one fault injector (fault.go): a queue of faults
// for the next requests or a seeded random rate, switchable at run time from
// Go (Inject, Random, ClearFaults) or over HTTP (POST /_sim/faults). The
// helpdesk sends standard-webhooks signed webhooks on every change, and its
// deliveries can be duplicated or reordered on demand.
//
// Simulators listen only on 127.0.0.1 and take an injectable clock and sleep
// function so tests never wait on wall time.
package sim
