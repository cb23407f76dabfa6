package xds

import (
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// rbacFilter is the rbac filter with no rules of its own: each virtual
// host or route brings its policy in RBACPerRoute.
func rbacFilter() *rbacv3.RBAC { return &rbacv3.RBAC{} }

// ipPolicy is the policy's name in Envoy's stats and logs.
const ipPolicy = "edgectl-ip"

// rbacPerRoute lets requests through by the client's address.
//
// The address matched is remote_ip: the one Envoy computes for the
// request, not the peer of the TCP connection (direct_remote_ip). Every
// connection manager sets use_remote_address and the gateway's
// xff_num_trusted_hops, so with N trusted proxies in front of Envoy it is
// the address N hops back in X-Forwarded-For, the client as the last
// proxy the gateway trusts saw it; with none, it is the connection's peer.
// Matching the peer would see only the load balancer in front, and
// matching the first X-Forwarded-For entry would believe whatever the
// client wrote there.
//
// Allow set: an ALLOW policy for addresses in Allow and not in Deny.
// Deny only: a DENY policy for addresses in Deny.
func rbacPerRoute(r *ir.IPRule) *rbacv3.RBACPerRoute {
	rules := &rbacconfigv3.RBAC{Action: rbacconfigv3.RBAC_ALLOW}
	var principal *rbacconfigv3.Principal
	switch {
	case len(r.Allow) > 0 && len(r.Deny) > 0:
		principal = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: &rbacconfigv3.Principal_Set{Ids: []*rbacconfigv3.Principal{
			anyAddress(r.Allow),
			{Identifier: &rbacconfigv3.Principal_NotId{NotId: anyAddress(r.Deny)}},
		}}}}
	case len(r.Allow) > 0:
		principal = anyAddress(r.Allow)
	default:
		rules.Action = rbacconfigv3.RBAC_DENY
		principal = anyAddress(r.Deny)
	}
	rules.Policies = map[string]*rbacconfigv3.Policy{ipPolicy: {
		Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
		Principals:  []*rbacconfigv3.Principal{principal},
	}}
	return &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: rules}}
}

// anyAddress matches a client address in any of the CIDRs.
func anyAddress(cidrs []string) *rbacconfigv3.Principal {
	ids := make([]*rbacconfigv3.Principal, 0, len(cidrs))
	for _, c := range cidrs {
		ids = append(ids, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: cidrRange(c)}})
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_OrIds{OrIds: &rbacconfigv3.Principal_Set{Ids: ids}}}
}

// cidrRange: the IR holds canonical CIDRs, checked before translation; a
// bare address is a range of one.
func cidrRange(cidr string) *corev3.CidrRange {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		a := netip.MustParseAddr(cidr)
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return &corev3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))}
}
