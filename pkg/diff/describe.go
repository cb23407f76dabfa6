package diff

import (
	"fmt"
	"strings"

	"github.com/edgectl/edgectl/pkg/ir"
)

// SecurityRule is one rule a request meets, in the words the security
// section of a diff uses, with where it was set.
type SecurityRule struct {
	// Feature is the name of the feature in a security block: jwt,
	// extAuth, basicAuth, ipFilter, cors, localRateLimit, rateLimit, or
	// clientCertificates.
	Feature string
	Words   string
	From    ir.Origin
}

// DescribeSecurity says in words each rule of s, in the order of the
// filters that apply them (IP filter, CORS, JWT, basic auth, external
// authorization, local and global rate limits). A rule that is disabled is
// described too: it says that an inherited rule was switched off, and
// where. Features nobody set are left out.
func DescribeSecurity(s ir.Security) []SecurityRule {
	var out []SecurityRule
	add := func(feature, words string, from ir.Origin) {
		out = append(out, SecurityRule{Feature: feature, Words: words, From: from})
	}
	if r := s.IP; r != nil {
		add("ipFilter", describeIP(r), r.From)
	}
	if r := s.CORS; r != nil {
		add("cors", describeCORS(r), r.From)
	}
	if r := s.JWT; r != nil {
		words := "JWT " + jwtState(r)
		if !r.Disabled {
			words += ": a token of " + strings.Join(r.Providers, " or ")
			if r.Optional {
				words += " when one is sent; requests without a token pass"
			}
		}
		add("jwt", words, r.From)
	}
	if r := s.BasicAuth; r != nil {
		words := "basic auth disabled"
		if !r.Disabled {
			words = "basic auth: users from " + r.UsersFile
		}
		add("basicAuth", words, r.From)
	}
	if r := s.ExtAuth; r != nil {
		words := "ext_authz disabled"
		if !r.Disabled {
			words = "ext_authz: service " + r.Service
			if len(r.Context) > 0 {
				words += ", context " + headers(r.Context)
			}
		}
		add("extAuth", words, r.From)
	}
	if r := s.LocalRateLimit; r != nil {
		words := "local rate limit disabled"
		if !r.Disabled {
			words = fmt.Sprintf("local rate limit %s per %s in each Envoy", rate(r.Requests, r.Per), key(r.By))
			if r.Status != 0 && r.Status != 429 {
				words += fmt.Sprintf(", status %d", r.Status)
			}
			if r.Headers {
				words += ", x-ratelimit-* headers"
			}
		}
		add("localRateLimit", words, r.From)
	}
	if r := s.RateLimit; r != nil {
		words := "rate limit disabled"
		if !r.Disabled {
			words = fmt.Sprintf("rate limit (service %s): %s", r.Service, limits(r.Limits))
		}
		add("rateLimit", words, r.From)
	}
	return out
}

// DescribeClientCertificates says in words what a filter chain asks of
// its clients' certificates; nil when it asks for none.
func DescribeClientCertificates(c *ir.ClientCertificates) *SecurityRule {
	if c == nil {
		return nil
	}
	state := "required"
	if c.Optional {
		state = "optional"
	}
	words := fmt.Sprintf("client certificates %s, verified by CA %s", state, caName(c.CA))
	if len(c.SubjectAltNames) > 0 {
		var sans []string
		for _, s := range c.SubjectAltNames {
			sans = append(sans, fmt.Sprintf("%s %s %s", s.Type, s.Kind, s.Value))
		}
		words += ", subject alternative names " + strings.Join(sans, "; ")
	}
	if c.CRLFile != "" {
		words += ", revocation list " + c.CRLFile
	}
	if f := c.Forward; f != nil {
		words += ", x-forwarded-client-cert " + f.Mode
		if len(f.Fields) > 0 {
			words += " (" + strings.Join(f.Fields, ", ") + ")"
		}
	}
	return &SecurityRule{Feature: "clientCertificates", Words: words, From: c.From}
}

func describeIP(r *ir.IPRule) string {
	if r.Disabled {
		return "IP filter disabled"
	}
	var parts []string
	if len(r.Allow) > 0 {
		parts = append(parts, "IP allow list: only "+strings.Join(r.Allow, ", "))
	}
	if len(r.Deny) > 0 {
		parts = append(parts, "IP deny list: "+strings.Join(r.Deny, ", "))
	}
	return strings.Join(parts, "; ")
}

func describeCORS(r *ir.CORSRule) string {
	if r.Disabled {
		return "CORS disabled"
	}
	var origins []string
	for _, o := range r.Origins {
		origins = append(origins, origin(o))
	}
	words := "CORS allows " + strings.Join(origins, ", ")
	if len(r.Methods) > 0 {
		words += "; methods " + strings.Join(r.Methods, ", ")
	}
	if len(r.Headers) > 0 {
		words += "; request headers " + strings.Join(r.Headers, ", ")
	}
	if len(r.ExposeHeaders) > 0 {
		words += "; exposes " + strings.Join(r.ExposeHeaders, ", ")
	}
	if r.Credentials {
		words += "; credentials"
	}
	if r.MaxAge != nil {
		words += "; preflight cached " + maxAge(r.MaxAge)
	}
	return words
}
