package diff

import (
	"slices"
	"testing"
	"time"

	"github.com/edgectl/edgectl/pkg/diag"
	"github.com/edgectl/edgectl/pkg/ir"
)

func TestDescribeSecurity(t *testing.T) {
	t.Parallel()
	vh := ir.Origin{Level: ir.LevelVirtualHost, Name: "api", Pos: diag.Pos{File: "api.yaml", Line: 8, Col: 5}, Team: "shop"}
	gw := ir.Origin{Level: ir.LevelGateway, Name: "edge", Pos: diag.Pos{File: "edge.yaml", Line: 12, Col: 7}, Team: "platform"}
	rt := ir.Origin{Level: ir.LevelRoute, Name: "search", Pos: diag.Pos{File: "api.yaml", Line: 30, Col: 9}, Team: "shop"}
	tests := []struct {
		name string
		in   ir.Security
		want []string // feature | words | level
	}{
		{name: "nothing set", in: ir.Security{}, want: nil},
		{
			name: "every feature, in filter order",
			in: ir.Security{
				RateLimit:      &ir.RateLimitRule{Service: "global", Limits: []ir.RateLimit{{Requests: 600, Unit: "minute", By: []ir.RateKey{{Kind: ir.KeyClient}}}, {Requests: 5, Unit: "second"}}, From: vh},
				LocalRateLimit: &ir.LocalRateLimitRule{Requests: 50, Per: time.Second, By: &ir.RateKey{Kind: ir.KeyHeader, Header: "x-api-key"}, Status: 503, Headers: true, From: gw},
				ExtAuth:        &ir.ExtAuthRule{Service: "opa", Context: []ir.Header{{Name: "api", Value: "payments"}}, From: vh},
				BasicAuth:      &ir.BasicAuthRule{UsersFile: "/etc/envoy/htpasswd/admin", From: rt},
				JWT:            &ir.JWTRule{Providers: []string{"acme-id", "partner"}, From: vh},
				CORS:           &ir.CORSRule{Origins: []ir.StringMatch{{Kind: ir.MatchExact, Value: "https://www.acme.io"}, {Kind: ir.MatchSuffix, Value: ".acme.dev"}}, Methods: []string{"GET"}, Credentials: true, From: vh},
				IP:             &ir.IPRule{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.66.0.0/16"}, From: gw},
			},
			want: []string{
				"ipFilter | IP allow list: only 10.0.0.0/8; IP deny list: 10.66.0.0/16 | gateway",
				"cors | CORS allows https://www.acme.io, *.acme.dev; methods GET; credentials | virtualHost",
				"jwt | JWT required: a token of acme-id or partner | virtualHost",
				"basicAuth | basic auth: users from /etc/envoy/htpasswd/admin | route",
				`extAuth | ext_authz: service opa, context api="payments" | virtualHost`,
				"localRateLimit | local rate limit 50/s per header x-api-key in each Envoy, status 503, x-ratelimit-* headers | gateway",
				"rateLimit | rate limit (service global): 600/min per client; 5/s all requests | virtualHost",
			},
		},
		{
			name: "optional and disabled rules say so",
			in: ir.Security{
				JWT:            &ir.JWTRule{Providers: []string{"acme-id"}, Optional: true, From: rt},
				IP:             &ir.IPRule{Disabled: true, From: rt},
				LocalRateLimit: &ir.LocalRateLimitRule{Disabled: true, From: rt},
				RateLimit:      &ir.RateLimitRule{Disabled: true, From: rt},
			},
			want: []string{
				"ipFilter | IP filter disabled | route",
				"jwt | JWT optional: a token of acme-id when one is sent; requests without a token pass | route",
				"localRateLimit | local rate limit disabled | route",
				"rateLimit | rate limit disabled | route",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range DescribeSecurity(tc.in) {
				got = append(got, r.Feature+" | "+r.Words+" | "+string(r.From.Level))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("DescribeSecurity:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDescribeClientCertificates(t *testing.T) {
	t.Parallel()
	if r := DescribeClientCertificates(nil); r != nil {
		t.Errorf("no client certificates: got %+v", r)
	}
	c := &ir.ClientCertificates{
		CA:              ir.CertRef{Name: "partner-ca"},
		SubjectAltNames: []ir.SANMatch{{Type: "URI", StringMatch: ir.StringMatch{Kind: ir.MatchPrefix, Value: "spiffe://partners/"}}},
		CRLFile:         "/etc/envoy/tls/partner.crl",
		Forward:         &ir.ClientCertForwarding{Mode: "sanitize-set", Fields: []string{"subject", "uri"}},
		From:            ir.Origin{Level: ir.LevelVirtualHost, Name: "partners"},
	}
	r := DescribeClientCertificates(c)
	want := "client certificates required, verified by CA partner-ca, subject alternative names URI prefix spiffe://partners/, revocation list /etc/envoy/tls/partner.crl, x-forwarded-client-cert sanitize-set (subject, uri)"
	if r == nil || r.Words != want || r.Feature != "clientCertificates" || r.From.Name != "partners" {
		t.Errorf("DescribeClientCertificates = %+v\nwant words %q", r, want)
	}
	c.Optional, c.SubjectAltNames, c.CRLFile, c.Forward = true, nil, "", nil
	if r := DescribeClientCertificates(c); r.Words != "client certificates optional, verified by CA partner-ca" {
		t.Errorf("optional: %q", r.Words)
	}
}
