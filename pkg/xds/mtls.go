package xds

import (
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgectl/edgectl/pkg/ir"
)

// clientCertificates makes a filter chain ask clients for a certificate
// (downstream mTLS): signed by the CA (a secret of the bundle, or of the
// SDS server, like the chain's own certificate), required unless Optional,
// with one of the subject alternative names when any are listed, and not
// revoked by the CRL file when there is one. The CA comes by SDS and the
// rest is the default it is merged with.
func (t translator) clientCertificates(ctx *tlsv3.DownstreamTlsContext, cc *ir.ClientCertificates) {
	if cc == nil {
		return
	}
	ctx.RequireClientCertificate = wrapperspb.Bool(!cc.Optional)
	def := &tlsv3.CertificateValidationContext{}
	for _, san := range cc.SubjectAltNames {
		def.MatchTypedSubjectAltNames = append(def.MatchTypedSubjectAltNames, &tlsv3.SubjectAltNameMatcher{
			SanType: tlsv3.SubjectAltNameMatcher_SanType(tlsv3.SubjectAltNameMatcher_SanType_value[san.Type]),
			Matcher: stringMatcher(san.StringMatch),
		})
	}
	if cc.CRLFile != "" {
		def.Crl = fileSource(cc.CRLFile)
	}
	ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         def,
			ValidationContextSdsSecretConfig: t.sdsRef(cc.CA),
		}}
}

var forwardModes = map[string]hcmv3.HttpConnectionManager_ForwardClientCertDetails{
	"sanitize":            hcmv3.HttpConnectionManager_SANITIZE,
	"forward-only":        hcmv3.HttpConnectionManager_FORWARD_ONLY,
	"append-forward":      hcmv3.HttpConnectionManager_APPEND_FORWARD,
	"sanitize-set":        hcmv3.HttpConnectionManager_SANITIZE_SET,
	"always-forward-only": hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY,
}

// forwardClientCert sets what the x-forwarded-client-cert header tells
// backends. Without forwarding settings Envoy's default stands: the header
// is removed (sanitize), so no client can forge it.
func forwardClientCert(hcm *hcmv3.HttpConnectionManager, cc *ir.ClientCertificates) {
	if cc == nil || cc.Forward == nil {
		return
	}
	hcm.ForwardClientCertDetails = forwardModes[cc.Forward.Mode]
	if len(cc.Forward.Fields) == 0 {
		return
	}
	d := &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{}
	for _, f := range cc.Forward.Fields {
		switch f {
		case "subject":
			d.Subject = wrapperspb.Bool(true)
		case "cert":
			d.Cert = true
		case "chain":
			d.Chain = true
		case "dns":
			d.Dns = true
		case "uri":
			d.Uri = true
		}
	}
	hcm.SetCurrentClientCertDetails = d
}
