package xds

import (
	"strconv"
	"strings"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// corsFilter is the cors filter; the policy of each virtual host or route
// is its per-route CorsPolicy (the route's own cors field is deprecated).
// The filter answers preflight requests itself.
func corsFilter() *corsv3.Cors { return &corsv3.Cors{} }

func corsPolicy(r *ir.CORSRule) *corsv3.CorsPolicy {
	out := &corsv3.CorsPolicy{
		AllowMethods:  strings.Join(r.Methods, ","),
		AllowHeaders:  strings.Join(r.Headers, ","),
		ExposeHeaders: strings.Join(r.ExposeHeaders, ","),
	}
	for _, o := range r.Origins {
		out.AllowOriginStringMatch = append(out.AllowOriginStringMatch, stringMatcher(o))
	}
	if r.MaxAge != nil {
		out.MaxAge = strconv.FormatInt(int64(r.MaxAge.Seconds()), 10)
	}
	if r.Credentials {
		out.AllowCredentials = wrapperspb.Bool(true)
	}
	return out
}
