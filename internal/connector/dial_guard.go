package connector

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrAddressBlocked is matched (errors.Is) by the error of a call whose
// dial was refused by the SSRF guard. No packet was sent.
var ErrAddressBlocked = errors.New("connector: address refused by policy")

// AddressBlockedError is the dialer's refusal of one address.
type AddressBlockedError struct {
	Addr   netip.Addr
	Reason string // loopback, private network, link-local, ...
}

// Error names the setting to change, if any: the operator reading it should
// not have to look up which one.
func (e *AddressBlockedError) Error() string { return "connector: " + e.remedy() }

// Is makes AddressBlockedError match ErrAddressBlocked and
// ErrOutboundRefused.
func (e *AddressBlockedError) Is(target error) bool {
	return target == ErrAddressBlocked || target == ErrOutboundRefused
}

// remedy says what an operator can do about the refusal, naming the
// process setting: loopback is a deployment choice (simulators, local
// development); every other refused range stays refused.
func (e *AddressBlockedError) remedy() string {
	if e.Reason == reasonLoopback || e.Reason == reasonUnspecified {
		return fmt.Sprintf("partner address %s refused by policy (%s): set allow_loopback_partners: true (ACCORD_ALLOW_LOOPBACK_PARTNERS) to allow it, for simulators and local development only", e.Addr, e.Reason)
	}
	return fmt.Sprintf("partner address %s refused by policy (%s): Accord never calls such addresses and no setting allows it; point the provider's base_url at a public address", e.Addr, e.Reason)
}

const (
	reasonLoopback    = "loopback"
	reasonUnspecified = "unspecified address"
)

// sharedAddressSpace is carrier-grade NAT (RFC 6598): private in practice,
// though netip does not call it so.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// dialGuard refuses internal addresses at dial time. Checking in the
// dialer's Control hook, after resolution and before connect, sees the very
// address being dialled, so DNS rebinding cannot slip an internal address
// between a check and the connection.
type dialGuard struct {
	allowLoopback bool
	allowPrivate  bool
}

func (g dialGuard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("connector: dial %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("connector: dial %q: %w", address, err)
	}
	return g.check(ip)
}

// check returns an *AddressBlockedError when ip may not be dialled.
func (g dialGuard) check(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	reason := ""
	switch {
	case ip.IsLoopback():
		if !g.allowLoopback {
			reason = reasonLoopback
		}
	case ip.IsUnspecified():
		// Dialling 0.0.0.0 or :: reaches the local host.
		if !g.allowLoopback {
			reason = reasonUnspecified
		}
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		// Cloud metadata services live here; no partner API does.
		reason = "link-local"
	case ip.IsPrivate(), sharedAddressSpace.Contains(ip):
		if !g.allowPrivate {
			reason = "private network"
		}
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		reason = "multicast"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		reason = "broadcast"
	}
	if reason == "" {
		return nil
	}
	return &AddressBlockedError{Addr: ip, Reason: reason}
}
