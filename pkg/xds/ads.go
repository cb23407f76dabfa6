package xds

import (
	"fmt"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgectl/edgectl/internal/par"
)

// ADSForm turns file-based resources (Files mode, as a bundle holds them)
// into the form an ADS server serves: every config source that names a
// file (path_config_source, in the HTTP connection managers' RDS and in the
// SDS configs of listener and cluster transport sockets) becomes an ADS
// config source. Config sources that name an API server, such as the
// gateway's SDS server, stay as they are.
//
// Every Any on the way is opened and packed again deterministically, so the
// result is byte-for-byte what Translate gives in ADS mode for the same IR,
// and per-resource hashes (delta xDS versions) do not change between equal
// versions. r is not modified; resources holding neither an Any nor a
// config source are shared with it.
func ADSForm(r *Resources) (*Resources, error) {
	out := &Resources{}
	var err error
	if out.Listeners, err = adsAll(r.Listeners, "listener"); err != nil {
		return nil, err
	}
	if out.Routes, err = adsAll(r.Routes, "route configuration"); err != nil {
		return nil, err
	}
	if out.Clusters, err = adsAll(r.Clusters, "cluster"); err != nil {
		return nil, err
	}
	if out.Secrets, err = adsAll(r.Secrets, "secret"); err != nil {
		return nil, err
	}
	// Assignments hold neither an Any nor a config source: shared as they are.
	out.Endpoints = r.Endpoints
	return out, nil
}

func adsAll[T interface {
	proto.Message
	GetName() string
}](xs []T, kind string) ([]T, error) {
	if xs == nil {
		return nil, nil
	}
	// Each resource on its own, on every core: the walk through a
	// 10,000-route version's messages is most of serve's work to set it.
	out := make([]T, len(xs))
	errs := make([]error, len(xs))
	par.Each(len(xs), 0, func(i int) { out[i], errs[i] = adsResource(xs[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("rewrite %s %q: %w", kind, xs[i].GetName(), err)
		}
	}
	return out, nil
}

// adsResource returns m in ADS form: m itself when nothing in it changes,
// else a rewritten copy.
func adsResource[T proto.Message](m T) (T, error) {
	if !holdsRewritable(m.ProtoReflect()) {
		return m, nil
	}
	c := proto.Clone(m).(T)
	if err := rewriteADS(c.ProtoReflect()); err != nil {
		var zero T
		return zero, err
	}
	return c, nil
}

var configSourceName = (&corev3.ConfigSource{}).ProtoReflect().Descriptor().FullName()

// holdsRewritable reports whether m holds an Any or a file config source.
func holdsRewritable(m protoreflect.Message) bool {
	switch x := m.Interface().(type) {
	case *anypb.Any:
		return true
	case *corev3.ConfigSource:
		return isFileSource(x)
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if md := fd.MapValue().Message(); md != nil && mayRewrite(md) {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = holdsRewritable(mv.Message())
					return !found
				})
			}
		case fd.Message() == nil || !mayRewrite(fd.Message()):
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = holdsRewritable(l.Get(i).Message())
			}
		default:
			found = holdsRewritable(v.Message())
		}
		return !found
	})
	return found
}

// rewriteADS rewrites m in place.
func rewriteADS(m protoreflect.Message) error {
	switch x := m.Interface().(type) {
	case *anypb.Any:
		if x.GetTypeUrl() == "" && len(x.GetValue()) == 0 {
			// The empty config of a route.v3.FilterConfig, which enables
			// its filter as it is: nothing to open.
			return nil
		}
		inner, err := x.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("open %s: %w", x.GetTypeUrl(), err)
		}
		if err := rewriteADS(inner.ProtoReflect()); err != nil {
			return err
		}
		if err := anypb.MarshalFrom(x, inner, proto.MarshalOptions{Deterministic: true}); err != nil {
			return fmt.Errorf("pack %s: %w", x.GetTypeUrl(), err)
		}
		return nil
	case *corev3.ConfigSource:
		if isFileSource(x) {
			x.ConfigSourceSpecifier = &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}
		}
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if md := fd.MapValue().Message(); md != nil && mayRewrite(md) {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					err = rewriteADS(mv.Message())
					return err == nil
				})
			}
		case fd.Message() == nil || !mayRewrite(fd.Message()):
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = rewriteADS(l.Get(i).Message())
			}
		default:
			err = rewriteADS(v.Message())
		}
		return err == nil
	})
	return err
}

// isFileSource reports whether a config source reads a file of the xDS
// directory. The deprecated plain path counts too: it is a file all the same.
func isFileSource(cs *corev3.ConfigSource) bool {
	switch cs.GetConfigSourceSpecifier().(type) {
	case *corev3.ConfigSource_PathConfigSource, *corev3.ConfigSource_Path:
		return true
	}
	return false
}

var rewriteReach sync.Map // protoreflect.FullName → bool

// mayRewrite reports whether a message of type md can hold an Any or a
// ConfigSource at any depth, so whole subtrees (a route's match, say) are
// never walked. The type graph is searched once per type.
func mayRewrite(md protoreflect.MessageDescriptor) bool {
	return reaches(&rewriteReach, md, anyName, configSourceName)
}
