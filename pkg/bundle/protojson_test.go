package bundle

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// reference is the encoding appendJSON must equal: protojson's, compacted.
func reference(m proto.Message) ([]byte, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// agree reports how m's two encodings differ, "" when they do not: both
// fail, or both give the same bytes. It reports whether m encoded.
func agree(m proto.Message) (diff string, ok bool) {
	want, werr := reference(m)
	got, gerr := appendJSON([]byte("[prefix]"), m)
	switch {
	case werr != nil && gerr != nil:
		return "", false
	case werr != nil:
		return "protojson fails (" + werr.Error() + "), appendJSON gives " + string(got), false
	case gerr != nil:
		return "appendJSON fails (" + gerr.Error() + "), protojson gives " + string(want), false
	}
	if g, _ := bytes.CutPrefix(got, []byte("[prefix]")); !bytes.Equal(g, want) {
		return "appendJSON gives\n" + string(got) + "\nprotojson gives\n[prefix]" + string(want), true
	}
	return "", true
}

func TestAppendJSONExamples(t *testing.T) {
	t.Parallel()
	str := func(s string) *wrapperspb.StringValue { return wrapperspb.String(s) }
	dbl := func(f float64) *wrapperspb.DoubleValue { return wrapperspb.Double(f) }
	flt := func(f float32) *wrapperspb.FloatValue { return wrapperspb.Float(f) }
	dur := func(s int64, n int32) *durationpb.Duration { return &durationpb.Duration{Seconds: s, Nanos: n} }
	ts := func(s int64, n int32) *timestamppb.Timestamp { return &timestamppb.Timestamp{Seconds: s, Nanos: n} }
	anyOf := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	value := func(v any) *structpb.Value {
		x, err := structpb.NewValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	// dyn is m as a dynamic message, which appendJSON reads through
	// protoreflect.
	dyn := func(m proto.Message) proto.Message {
		d := dynamicpb.NewMessage(m.ProtoReflect().Descriptor())
		proto.Merge(d, m)
		return d
	}
	for _, c := range []struct {
		name string
		m    proto.Message
		want string // "" when encoding fails
	}{
		{"-0 present", &typev3.Percent{Value: math.Copysign(0, -1)}, `{"value":-0}`},
		{"-0 present, dynamic", dyn(&typev3.Percent{Value: math.Copysign(0, -1)}), `{"value":-0}`},
		{"0 absent, dynamic", dyn(&typev3.Percent{}), `{}`},
		{"oneof member at zero, dynamic", dyn(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{}}), `{"prefix":""}`},
		{"declaration order, dynamic", dyn(&routev3.Route{Name: "r", Match: &routev3.RouteMatch{}}), `{"name":"r","match":{}}`},
		{"unknown enum number, dynamic", dyn(&routev3.RedirectAction{ResponseCode: 99}), `{"response_code":99}`},
		{"nil", nil, `{}`},
		{"empty", &routev3.Route{}, `{}`},
		{"typed nil", (*routev3.Route)(nil), `{}`},
		{"declaration order, not field number", &routev3.Route{Name: "r", Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			CaseSensitive: wrapperspb.Bool(false),
		}}, `{"name":"r","match":{"prefix":"/","case_sensitive":false}}`},
		{"oneof member at zero", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{}}, `{"prefix":""}`},
		{"escapes", str("\"\\\b\f\n\r\t\x00\x01\x1f\x7f"), `"\"\\\b\f\n\r\t\u0000\u0001\u001f` + "\x7f" + `"`},
		{"no html escapes", str("<a href=\"x\">&</a>\u2028\u2029"), `"<a href=\"x\">&</a>` + "\u2028\u2029" + `"`},
		{"unicode", str("é日本🎉\uFFFD"), `"é日本🎉` + "\uFFFD" + `"`},
		{"invalid UTF-8", str("ok\xff"), ""},
		{"truncated UTF-8", str("\xe6\x97"), ""},
		{"encoded surrogate", str("\xed\xa0\x80"), ""},
		{"64-bit quoted", wrapperspb.Int64(math.MinInt64), `"-9223372036854775808"`},
		{"uint64 quoted", wrapperspb.UInt64(math.MaxUint64), `"18446744073709551615"`},
		{"int32", wrapperspb.Int32(math.MinInt32), `-2147483648`},
		{"wrapper at zero", wrapperspb.Int64(0), `"0"`},
		{"bytes", wrapperspb.Bytes([]byte{0xff, 0, 1}), `"/wAB"`},
		{"NaN", dbl(math.NaN()), `"NaN"`},
		{"+Inf", dbl(math.Inf(1)), `"Infinity"`},
		{"-Inf", dbl(math.Inf(-1)), `"-Infinity"`},
		{"-0", dbl(math.Copysign(0, -1)), `-0`},
		{"1e21", dbl(1e21), `1e+21`},
		{"below 1e21", dbl(999999999999999900000), `999999999999999900000`},
		{"1e-7", dbl(1e-7), `1e-7`},
		{"1e-6", dbl(1e-6), `0.000001`},
		{"smallest double", dbl(5e-324), `5e-324`},
		{"largest double", dbl(math.MaxFloat64), `1.7976931348623157e+308`},
		{"float32 0.1", flt(0.1), `0.1`},
		{"float32 1e-6", flt(1e-6), `0.000001`},
		{"float32 large", flt(1e21), `1e+21`},
		{"float32 smallest", flt(math.SmallestNonzeroFloat32), `1e-45`},
		{"duration", dur(1, 0), `"1s"`},
		{"duration millis", dur(1, 500_000_000), `"1.500s"`},
		{"duration micros", dur(0, 1_000), `"0.000001s"`},
		{"duration nanos", dur(-3, -1), `"-3.000000001s"`},
		{"negative subsecond", dur(0, -5_000_000), `"-0.005s"`},
		{"duration max", dur(315_576_000_000, 999_999_999), `"315576000000.999999999s"`},
		{"duration too long", dur(315_576_000_001, 0), ""},
		{"duration nanos too many", dur(0, 1_000_000_000), ""},
		{"duration signs differ", dur(1, -1), ""},
		{"epoch", ts(0, 0), `"1970-01-01T00:00:00Z"`},
		{"timestamp millis", ts(1_700_000_000, 120_000_000), `"2023-11-14T22:13:20.120Z"`},
		{"first timestamp", ts(-62_135_596_800, 0), `"0001-01-01T00:00:00Z"`},
		{"last timestamp", ts(253_402_300_799, 999_999_999), `"9999-12-31T23:59:59.999999999Z"`},
		{"timestamp too early", ts(-62_135_596_801, 0), ""},
		{"timestamp negative nanos", ts(0, -1), ""},
		{"any", anyOf(&routev3.Route{Name: "r"}), `{"@type":"type.googleapis.com/envoy.config.route.v3.Route","name":"r"}`},
		{"any of empty message", anyOf(&routev3.Route{}), `{"@type":"type.googleapis.com/envoy.config.route.v3.Route"}`},
		{"any of Empty", anyOf(&emptypb.Empty{}), `{"@type":"type.googleapis.com/google.protobuf.Empty"}`},
		{"any of duration", anyOf(dur(2, 0)), `{"@type":"type.googleapis.com/google.protobuf.Duration","value":"2s"}`},
		{"any of any", anyOf(anyOf(str("x"))), `{"@type":"type.googleapis.com/google.protobuf.Any","value":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"x"}}`},
		{"empty any", &anypb.Any{}, `{}`},
		{"any without type", &anypb.Any{Value: []byte{1}}, ""},
		{"any of unknown type", &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}, ""},
		{"any of bad bytes", &anypb.Any{TypeUrl: "type.googleapis.com/envoy.config.route.v3.Route", Value: []byte{0x0a, 0x05}}, ""},
		{"struct", &structpb.Struct{Fields: map[string]*structpb.Value{
			"b": value([]any{1.5, "x", nil, true, map[string]any{}}),
			"a": value(map[string]any{"z": 1e21, "y": math.Copysign(0, -1)}),
		}}, `{"a":{"y":-0,"z":1e+21},"b":[1.5,"x",null,true,{}]}`},
		{"empty struct", &structpb.Struct{}, `{}`},
		{"empty list value", &structpb.ListValue{}, `[]`},
		{"value NaN", structpb.NewNumberValue(math.NaN()), ""},
		{"value Inf", structpb.NewNumberValue(math.Inf(-1)), ""},
		{"value without kind", &structpb.Value{}, ""},
		{"null value", structpb.NewNullValue(), `null`},
		{"struct key invalid UTF-8", &structpb.Struct{Fields: map[string]*structpb.Value{"\xff": structpb.NewBoolValue(true)}}, ""},
		{"field mask", &fieldmaskpb.FieldMask{Paths: []string{"a_b.c_d", "x", "_a"}}, `"aB.cD,x,A"`},
		{"empty field mask", &fieldmaskpb.FieldMask{}, `""`},
		{"field mask camel", &fieldmaskpb.FieldMask{Paths: []string{"aB"}}, ""},
		{"field mask double underscore", &fieldmaskpb.FieldMask{Paths: []string{"a__b"}}, ""},
		{"field mask underscore digit", &fieldmaskpb.FieldMask{Paths: []string{"a_1"}}, ""},
		{"field mask trailing underscore", &fieldmaskpb.FieldMask{Paths: []string{"a_"}}, ""},
		{"field mask not a name", &fieldmaskpb.FieldMask{Paths: []string{"a..b"}}, ""},
		{"field mask empty path", &fieldmaskpb.FieldMask{Paths: []string{""}}, ""},
		{"enum by name", &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_FOUND}, `{"response_code":"FOUND"}`},
		{"unknown enum number", &routev3.RedirectAction{ResponseCode: 99}, `{"response_code":99}`},
		{"negative enum number", &routev3.RedirectAction{ResponseCode: -2}, `{"response_code":-2}`},
		{"nil in a list", &routev3.Route{RequestHeadersToAdd: []*corev3.HeaderValueOption{nil, {AppendAction: 1}}},
			`{"request_headers_to_add":[{},{"append_action":"ADD_IF_ABSENT"}]}`},
		{"nil Any in a list", &discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{nil, anyOf(&emptypb.Empty{})}},
			`{"resources":[{},{"@type":"type.googleapis.com/google.protobuf.Empty"}]}`},
		{"nil message in a oneof", &routev3.Route{Action: &routev3.Route_Route{}}, `{"route":{}}`},
		{"nil Duration in a oneof", &faultv3.FaultDelay{FaultDelaySecifier: &faultv3.FaultDelay_FixedDelay{}}, `{"fixed_delay":"0s"}`},
		{"nil wrapper in a oneof", &routev3.RouteAction{HostRewriteSpecifier: &routev3.RouteAction_AutoHostRewrite{}}, `{"auto_host_rewrite":false}`},
		{"nil oneof case", &routev3.RouteMatch{PathSpecifier: (*routev3.RouteMatch_Prefix)(nil)}, `{}`},
		{"nil in a map", &routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{"a": nil}}, `{"typed_per_filter_config":{"a":{}}}`},
		{"nil Struct in a map", &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"a": nil}}, `{"filter_metadata":{"a":{}}}`},
		{"nil Value in a Struct", &structpb.Struct{Fields: map[string]*structpb.Value{"a": nil}}, ""},
		{"nil Value in a list", &structpb.ListValue{Values: []*structpb.Value{nil}}, ""},
		{"map keys sorted", &routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{
			"b": anyOf(&emptypb.Empty{}), "B": {}, "a": anyOf(dbl(1)),
		}}, `{"typed_per_filter_config":{"B":{},"a":{"@type":"type.googleapis.com/google.protobuf.DoubleValue","value":1},"b":{"@type":"type.googleapis.com/google.protobuf.Empty"}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := appendJSON(nil, c.m)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("encodes as %s, want an error", got)
			case c.want != "" && err != nil:
				t.Errorf("fails: %v", err)
			case string(got) != c.want:
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			if diff, _ := agree(c.m); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestAppendWrapper holds the wrappers as read from a struct field to
// protojson: few Envoy messages have fields of each wrapper type.
func TestAppendWrapper(t *testing.T) {
	t.Parallel()
	for _, w := range []proto.Message{
		wrapperspb.Bool(true), wrapperspb.Bool(false),
		wrapperspb.Int32(math.MinInt32), wrapperspb.UInt32(math.MaxUint32),
		wrapperspb.Int64(math.MinInt64), wrapperspb.UInt64(math.MaxUint64), wrapperspb.Int64(0),
		wrapperspb.Float(float32(math.Inf(-1))), wrapperspb.Float(1e-7), wrapperspb.Float(3.4e38),
		wrapperspb.Double(math.NaN()), wrapperspb.Double(1e21), wrapperspb.Double(math.Copysign(0, -1)),
		wrapperspb.String("\u2028<\x00>"), wrapperspb.String(""), wrapperspb.String("\xff"),
		wrapperspb.Bytes(nil), wrapperspb.Bytes([]byte("\xff\x00ab")),
	} {
		want, werr := reference(w)
		got, ok, gerr := appendWrapper([]byte("x"), w)
		switch {
		case !ok:
			t.Errorf("%T not written", w)
		case (werr == nil) != (gerr == nil):
			t.Errorf("%v: error %v, protojson's %v", w, gerr, werr)
		case werr == nil && string(got) != "x"+string(want):
			t.Errorf("%v: got %s, want x%s", w, got, want)
		}
	}
}

// TestStructLayouts: every generated message type linked in, but those
// with extensions, is read through its struct (the fast path); a dynamic
// message of the same type through protoreflect.
func TestStructLayouts(t *testing.T) {
	t.Parallel()
	n := 0
	for _, mt := range registeredTypes() {
		mi := infoOf(mt.Descriptor())
		if mi.shape != plainShape || mi.extensible {
			continue
		}
		n++
		if mi.layoutOf(reflect.TypeOf(mt.Zero().Interface())) == nil {
			t.Errorf("%s is not read through its struct", mt.Descriptor().FullName())
		}
		if mi.layoutOf(reflect.TypeOf(dynamicpb.NewMessage(mt.Descriptor()))) != nil {
			t.Errorf("a dynamic %s is read as a struct", mt.Descriptor().FullName())
		}
	}
	if n < 500 {
		t.Errorf("only %d message types", n)
	}
}

// TestAppendJSONProto2 covers what Envoy's proto3 messages do not have,
// through a dynamic proto2 message: map keys of every kind, a group,
// explicit presence, a required field, and extensions.
func TestAppendJSONProto2(t *testing.T) {
	t.Parallel()
	fd := proto2File(t)
	md := fd.Messages().ByName("Keys")
	exts := make([]protoreflect.ExtensionType, fd.Extensions().Len())
	for i := range exts {
		exts[i] = dynamicpb.NewExtensionType(fd.Extensions().Get(i))
	}
	encoded, extended := 0, 0
	for seed := range uint64(1000) {
		g := newGenerator(seed)
		m := dynamicpb.NewMessage(md)
		g.budget = 100
		g.fill(m, 3)
		if seed%4 == 0 {
			g.setField(m, exts[seed/4%uint64(len(exts))].TypeDescriptor(), 1)
			extended++
		}
		diff, ok := agree(m)
		if diff != "" {
			t.Fatalf("seed %d: %s", seed, diff)
		}
		if ok {
			encoded++
		}
	}
	if encoded < 100 || encoded > 900 {
		t.Errorf("%d of 1000 messages encoded", encoded)
	}
	if extended == 0 {
		t.Error("no message has an extension")
	}
}

// proto2File is a proto2 file with a message Keys: a map by every key
// kind, a map of Keys, a group Part with a required field, an optional
// int32 and float, and two extensions.
func proto2File(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	optional := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	repeated := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	required := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	field := func(name string, n int32, label *descriptorpb.FieldDescriptorProto_Label, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Label: label, Type: typ.Enum()}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	keys := &descriptorpb.DescriptorProto{Name: proto.String("Keys")}
	kinds := []descriptorpb.FieldDescriptorProto_Type{
		descriptorpb.FieldDescriptorProto_TYPE_INT32, descriptorpb.FieldDescriptorProto_TYPE_INT64,
		descriptorpb.FieldDescriptorProto_TYPE_UINT32, descriptorpb.FieldDescriptorProto_TYPE_UINT64,
		descriptorpb.FieldDescriptorProto_TYPE_SINT32, descriptorpb.FieldDescriptorProto_TYPE_SINT64,
		descriptorpb.FieldDescriptorProto_TYPE_FIXED32, descriptorpb.FieldDescriptorProto_TYPE_FIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_SFIXED32, descriptorpb.FieldDescriptorProto_TYPE_SFIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_BOOL, descriptorpb.FieldDescriptorProto_TYPE_STRING,
	}
	mapField := func(n int32, key descriptorpb.FieldDescriptorProto_Type, value *descriptorpb.FieldDescriptorProto) {
		kind := strings.ToLower(strings.TrimPrefix(key.String(), "TYPE_"))
		entry := "By" + strings.ToUpper(kind[:1]) + kind[1:] + "Entry"
		if value.GetType() == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE {
			entry = "ChildrenEntry"
		}
		keys.NestedType = append(keys.NestedType, &descriptorpb.DescriptorProto{
			Name:    proto.String(entry),
			Field:   []*descriptorpb.FieldDescriptorProto{field("key", 1, optional, key, ""), value},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		})
		name := "by_" + kind
		if entry == "ChildrenEntry" {
			name = "children"
		}
		keys.Field = append(keys.Field, field(name, n, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".edgectl.test.Keys."+entry))
	}
	for i, k := range kinds {
		mapField(int32(i+1), k, field("value", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""))
	}
	mapField(19, descriptorpb.FieldDescriptorProto_TYPE_STRING, field("value", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".edgectl.test.Keys"))
	keys.NestedType = append(keys.NestedType, &descriptorpb.DescriptorProto{
		Name: proto.String("Part"),
		Field: []*descriptorpb.FieldDescriptorProto{
			field("text", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
			field("n", 2, required, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
		},
	})
	keys.Field = append(keys.Field,
		field("part", 20, optional, descriptorpb.FieldDescriptorProto_TYPE_GROUP, ".edgectl.test.Keys.Part"),
		field("count", 21, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
		field("ratio", 22, optional, descriptorpb.FieldDescriptorProto_TYPE_FLOAT, ""),
	)
	keys.ExtensionRange = []*descriptorpb.DescriptorProto_ExtensionRange{{Start: proto.Int32(100), End: proto.Int32(200)}}
	note := field("note", 100, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")
	note.Extendee = proto.String(".edgectl.test.Keys")
	extra := field("extra", 101, repeated, descriptorpb.FieldDescriptorProto_TYPE_INT64, "")
	extra.Extendee = proto.String(".edgectl.test.Keys")
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:        proto.String("edgectl/test/keys.proto"),
		Package:     proto.String("edgectl.test"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{keys},
		Extension:   []*descriptorpb.FieldDescriptorProto{note, extra},
	}, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestAppendJSONExtensions: a message with an extension set is protojson's
// to encode, inside an Any too.
func TestAppendJSONExtensions(t *testing.T) {
	t.Parallel()
	g := newGenerator(11)
	n := 0
	for _, mt := range registeredTypes() {
		md := mt.Descriptor()
		if md.ExtensionRanges().Len() == 0 {
			continue
		}
		exts := g.extensions(md)
		if len(exts) == 0 {
			continue
		}
		for _, xt := range exts {
			m := mt.New()
			g.setField(m, xt.TypeDescriptor(), 2)
			a, err := anypb.New(m.Interface())
			if err != nil {
				continue
			}
			for _, msg := range []proto.Message{m.Interface(), a} {
				n++
				if diff, _ := agree(msg); diff != "" {
					t.Errorf("%s: %s", xt.TypeDescriptor().FullName(), diff)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no extension was set")
	}
}

// TestAppendJSONRandomMessages encodes random Envoy resources both ways.
func TestAppendJSONRandomMessages(t *testing.T) {
	t.Parallel()
	count := 12000
	if testing.Short() {
		count = 2000
	}
	ok := 0
	for seed := range uint64(count) {
		m := newGenerator(seed).message()
		diff, encoded := agree(m)
		if diff != "" {
			t.Fatalf("seed %d, %s: %s", seed, m.ProtoReflect().Descriptor().FullName(), diff)
		}
		if encoded {
			ok++
		}
		// The same message as a dynamic one, read through protoreflect
		// only.
		if seed%4 == 0 {
			dm := dynamicpb.NewMessage(m.ProtoReflect().Descriptor())
			proto.Merge(dm, m)
			if diff, _ := agree(dm); diff != "" {
				t.Fatalf("seed %d, dynamic %s: %s", seed, m.ProtoReflect().Descriptor().FullName(), diff)
			}
		}
	}
	// Both ways must be exercised: messages that encode and messages that
	// fail.
	if ok < count/2 || ok > count-count/20 {
		t.Errorf("%d of %d messages encoded", ok, count)
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, seed := range []uint64{0, 1, 2, 3, 42, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		m := newGenerator(seed).message()
		if diff, _ := agree(m); diff != "" {
			t.Fatalf("%s: %s", m.ProtoReflect().Descriptor().FullName(), diff)
		}
		dm := dynamicpb.NewMessage(m.ProtoReflect().Descriptor())
		proto.Merge(dm, m)
		if diff, _ := agree(dm); diff != "" {
			t.Fatalf("dynamic %s: %s", m.ProtoReflect().Descriptor().FullName(), diff)
		}
	})
}

// The roots of random messages: the resources of a bundle, the filters
// they configure, and a few types unlike Envoy's (proto2, extensions,
// required fields, well-known types).
var roots = []protoreflect.FullName{
	"envoy.config.listener.v3.Listener",
	"envoy.config.cluster.v3.Cluster",
	"envoy.config.route.v3.RouteConfiguration",
	"envoy.config.bootstrap.v3.Bootstrap",
	"envoy.config.endpoint.v3.ClusterLoadAssignment",
	"envoy.extensions.transport_sockets.tls.v3.Secret",
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
	"envoy.extensions.filters.http.router.v3.Router",
	"envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
	"envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
	"envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
	"envoy.extensions.filters.http.rbac.v3.RBAC",
	"envoy.extensions.filters.http.cors.v3.Cors",
	"google.protobuf.FileDescriptorProto",
	"google.protobuf.Any",
	"google.protobuf.Struct",
	"google.protobuf.Value",
	"google.protobuf.Duration",
	"google.protobuf.Timestamp",
	"google.protobuf.FieldMask",
}

var registered = sync.OnceValue(func() []protoreflect.MessageType {
	var types []protoreflect.MessageType
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		types = append(types, mt)
		return true
	})
	slices.SortFunc(types, func(a, b protoreflect.MessageType) int {
		return strings.Compare(string(a.Descriptor().FullName()), string(b.Descriptor().FullName()))
	})
	return types
})

func registeredTypes() []protoreflect.MessageType { return registered() }

// generator makes random messages from a seed. Each message is either
// valid for protojson or, in hostile mode, may hold what protojson rejects
// (invalid UTF-8, out-of-range durations, unresolvable Anys, NaN in a
// Value...), so that failures are compared as well as bytes.
type generator struct {
	r       *rand.Rand
	hostile bool
	budget  int // fields still to set
}

func newGenerator(seed uint64) *generator {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &generator{r: r, hostile: r.IntN(3) == 0, budget: 50 + r.IntN(400)}
}

func (g *generator) message() proto.Message {
	name := roots[g.r.IntN(len(roots))]
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		panic(err)
	}
	m := mt.New()
	g.fill(m, 4+g.r.IntN(4))
	return m.Interface()
}

// rare is true about once in n draws, and only when hostile.
func (g *generator) rare(n int) bool { return g.hostile && g.r.IntN(n) == 0 }

// fill sets random fields of m, down to depth levels of messages.
func (g *generator) fill(m protoreflect.Message, depth int) {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Any":
		g.fillAny(m, depth)
		return
	case "google.protobuf.Duration":
		g.fillSecondsNanos(m, -315_576_000_000, 315_576_000_000, true)
		return
	case "google.protobuf.Timestamp":
		g.fillSecondsNanos(m, -62_135_596_800, 253_402_300_799, false)
		return
	case "google.protobuf.Value":
		g.fillValue(m, depth)
		return
	case "google.protobuf.FieldMask":
		g.fillFieldMask(m)
		return
	}
	if depth <= 0 {
		return
	}
	fds := md.Fields()
	// About three fields a message, more in small messages.
	p := min(1, 3/float64(max(1, fds.Len())))
	if fds.Len() <= 3 {
		p = 0.7
	}
	for i := range fds.Len() {
		if g.budget <= 0 {
			return
		}
		if g.r.Float64() < p {
			g.budget--
			g.setField(m, fds.Get(i), depth-1)
		}
	}
	if md.ExtensionRanges().Len() > 0 && g.r.IntN(4) == 0 {
		if exts := g.extensions(md); len(exts) > 0 {
			g.setField(m, exts[g.r.IntN(len(exts))].TypeDescriptor(), depth-1)
		}
	}
}

// extensions are the registered extensions of md, in number order.
func (g *generator) extensions(md protoreflect.MessageDescriptor) []protoreflect.ExtensionType {
	var exts []protoreflect.ExtensionType
	protoregistry.GlobalTypes.RangeExtensionsByMessage(md.FullName(), func(xt protoreflect.ExtensionType) bool {
		exts = append(exts, xt)
		return true
	})
	slices.SortFunc(exts, func(a, b protoreflect.ExtensionType) int {
		return int(a.TypeDescriptor().Number()) - int(b.TypeDescriptor().Number())
	})
	return exts
}

func (g *generator) count() int {
	switch g.r.IntN(10) {
	case 0:
		return 0
	case 1:
		return 5 + g.r.IntN(40)
	}
	return 1 + g.r.IntN(3)
}

func (g *generator) setField(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) {
	switch {
	case fd.IsList():
		l := m.Mutable(fd).List()
		for range g.count() {
			l.Append(g.value(l.NewElement(), fd, depth))
		}
	case fd.IsMap():
		mp := m.Mutable(fd).Map()
		for range g.count() {
			mp.Set(g.mapKey(fd.MapKey()), g.value(mp.NewValue(), fd.MapValue(), depth))
		}
	default:
		m.Set(fd, g.value(m.NewField(fd), fd, depth))
	}
}

func (g *generator) mapKey(fd protoreflect.FieldDescriptor) protoreflect.MapKey {
	return g.value(protoreflect.Value{}, fd, 0).MapKey()
}

// value is a random value of fd's kind; zero is the new message to fill
// for message kinds.
func (g *generator) value(zero protoreflect.Value, fd protoreflect.FieldDescriptor, depth int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(g.r.IntN(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(pick(g, []int32{0, 1, -1, 7, math.MaxInt32, math.MinInt32, g.r.Int32(), -g.r.Int32N(1000)}))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(pick(g, []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1<<53 + 1, g.r.Int64(), -g.r.Int64N(1e6)}))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(pick(g, []uint32{0, 1, math.MaxUint32, g.r.Uint32(), g.r.Uint32N(100)}))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(pick(g, []uint64{0, 1, math.MaxUint64, 1 << 63, g.r.Uint64(), g.r.Uint64N(100)}))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(g.float32())
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(g.float64())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(g.string())
	case protoreflect.BytesKind:
		b := make([]byte, g.r.IntN(20))
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if g.r.IntN(8) == 0 || vals.Len() == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(pick(g, []int32{-1, 99, 12345, math.MaxInt32, math.MinInt32})))
		}
		return protoreflect.ValueOfEnum(vals.Get(g.r.IntN(vals.Len())).Number())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		g.fill(zero.Message(), depth)
		return zero
	}
	panic("unknown kind " + fd.Kind().String())
}

func pick[T any](g *generator, choices []T) T { return choices[g.r.IntN(len(choices))] }

func (g *generator) float64() float64 {
	return pick(g, []float64{
		0, math.Copysign(0, -1), 1, -1.5, 0.1, 1.0 / 3, 1e21, -1e21, 999999999999999900000,
		1e20, 1e-6, 1e-7, 9.999999e-7, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64,
		123456789012345678, 1e100, 2.5e-300, float64(math.MaxFloat32),
		math.NaN(), math.Inf(1), math.Inf(-1),
		math.Float64frombits(g.r.Uint64()), g.r.NormFloat64() * 1e6, g.r.Float64(),
	})
}

func (g *generator) float32() float32 {
	return pick(g, []float32{
		0, float32(math.Copysign(0, -1)), 1, 0.1, 1.0 / 3, 1e21, 9.999999e20, 1e-6, 9.999999e-7, 1e-7,
		math.MaxFloat32, math.SmallestNonzeroFloat32, 16777217, 3.4e38, -2.5e-40,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(g.r.Uint32()), float32(g.r.NormFloat64()), float32(g.r.Float64() * 1e-5),
	})
}

func (g *generator) string() string {
	if g.rare(40) {
		return pick(g, []string{"\xff", "ok\xc3", "\xed\xa0\x80", "a\x80b", "\xf4\x90\x80\x80"})
	}
	switch g.r.IntN(4) {
	case 0:
		return pick(g, []string{
			"", "a", "\"", "\\", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "\u2028\u2029", "<script>&amp;</script>",
			"é日本🎉", "\uFFFD", "/api/v1/items", "x-envoy-upstream", "snake_case.name", "\u00ad\u200b\ufeff",
		})
	case 1:
		return string(rune('a' + g.r.IntN(26)))
	}
	var sb strings.Builder
	for range g.r.IntN(16) {
		switch g.r.IntN(6) {
		case 0:
			sb.WriteByte(byte(g.r.IntN(0x20)))
		case 1:
			sb.WriteRune(rune(0x80 + g.r.IntN(0x800)))
		case 2:
			sb.WriteRune(pick(g, []rune{0x2028, 0x2029, 0xFFFD, 0x10FFFF, 0x1F600, '"', '\\', '<', '>', '&', 0x7f}))
		case 3:
			sb.WriteRune(rune(0x800 + g.r.IntN(0xD000)))
		default:
			sb.WriteByte(byte(0x20 + g.r.IntN(0x5f)))
		}
	}
	return sb.String()
}

// fillAny packs a random registered message, a well-known type or an Any,
// or, in hostile mode, what cannot be unpacked.
func (g *generator) fillAny(m protoreflect.Message, depth int) {
	fds := m.Descriptor().Fields()
	typeURL, value := fds.ByName("type_url"), fds.ByName("value")
	switch {
	case g.rare(8):
		m.Set(typeURL, protoreflect.ValueOfString(pick(g, []string{
			"type.googleapis.com/no.such.Message", "", "type.googleapis.com/", "bad\xff/google.protobuf.Empty",
		})))
		m.Set(value, protoreflect.ValueOfBytes([]byte{1, 2}))
		return
	case g.rare(8):
		// A value that is not the wire form of a Route: its name (field 1)
		// in invalid UTF-8, or a length past the end.
		b := protowire.AppendTag(nil, 1, protowire.BytesType)
		if g.r.IntN(2) == 0 {
			b = protowire.AppendString(b, "\xff")
		} else {
			b = protowire.AppendVarint(b, 127)
		}
		m.Set(typeURL, protoreflect.ValueOfString("type.googleapis.com/envoy.config.route.v3.Route"))
		m.Set(value, protoreflect.ValueOfBytes(b))
		return
	case g.r.IntN(12) == 0 || depth <= 0:
		return // an empty Any
	}
	var mt protoreflect.MessageType
	if g.r.IntN(3) == 0 {
		mt = pick(g, []protoreflect.MessageType{
			(&durationpb.Duration{}).ProtoReflect().Type(), (&timestamppb.Timestamp{}).ProtoReflect().Type(),
			(&structpb.Struct{}).ProtoReflect().Type(), (&structpb.Value{}).ProtoReflect().Type(),
			(&structpb.ListValue{}).ProtoReflect().Type(), (&emptypb.Empty{}).ProtoReflect().Type(),
			(&fieldmaskpb.FieldMask{}).ProtoReflect().Type(), (&anypb.Any{}).ProtoReflect().Type(),
			(&wrapperspb.Int64Value{}).ProtoReflect().Type(), (&wrapperspb.FloatValue{}).ProtoReflect().Type(),
			(&wrapperspb.StringValue{}).ProtoReflect().Type(), (&wrapperspb.BytesValue{}).ProtoReflect().Type(),
			(&wrapperspb.BoolValue{}).ProtoReflect().Type(), (&wrapperspb.UInt32Value{}).ProtoReflect().Type(),
		})
	} else {
		types := registeredTypes()
		mt = types[g.r.IntN(len(types))]
	}
	em := mt.New()
	g.fill(em, depth-1)
	b, err := proto.MarshalOptions{Deterministic: true, AllowPartial: true}.Marshal(em.Interface())
	if err != nil {
		// Invalid UTF-8 does not marshal; the Any is left empty.
		return
	}
	url := "type.googleapis.com/" + string(mt.Descriptor().FullName())
	if g.r.IntN(10) == 0 {
		url = "example.com/types/" + string(mt.Descriptor().FullName())
	}
	m.Set(typeURL, protoreflect.ValueOfString(url))
	m.Set(value, protoreflect.ValueOfBytes(b))
}

// fillSecondsNanos sets a Duration or Timestamp, in range unless hostile.
func (g *generator) fillSecondsNanos(m protoreflect.Message, lo, hi int64, signed bool) {
	fds := m.Descriptor().Fields()
	var secs int64
	var nanos int32
	switch g.r.IntN(5) {
	case 0:
		secs = pick(g, []int64{lo, hi, 0, 1, -1})
	case 1:
		secs = g.r.Int64N(hi-lo+1) + lo
	default:
		secs = g.r.Int64N(100_000)
	}
	switch g.r.IntN(5) {
	case 0:
		nanos = pick(g, []int32{0, 1, 999_999_999, 500_000_000, 1_000, 1_000_000, 120_000_000})
	case 1:
		nanos = g.r.Int32N(1_000_000_000)
	}
	if signed && secs < 0 || signed && secs == 0 && g.r.IntN(2) == 0 {
		nanos = -nanos
	}
	if g.rare(6) {
		switch g.r.IntN(3) {
		case 0:
			secs = pick(g, []int64{lo - 1, hi + 1, math.MinInt64, math.MaxInt64})
		case 1:
			nanos = pick(g, []int32{1_000_000_000, -1_000_000_000, math.MaxInt32, math.MinInt32, -1})
		case 2:
			secs, nanos = 1, -1
		}
	}
	m.Set(fds.ByName("seconds"), protoreflect.ValueOfInt64(secs))
	m.Set(fds.ByName("nanos"), protoreflect.ValueOfInt32(nanos))
}

// fillValue sets one kind of a google.protobuf.Value, or none (hostile).
func (g *generator) fillValue(m protoreflect.Message, depth int) {
	if g.rare(15) {
		return
	}
	fds := m.Descriptor().Fields()
	kinds := []protoreflect.Name{"null_value", "number_value", "string_value", "bool_value"}
	if depth > 0 {
		kinds = append(kinds, "struct_value", "list_value")
	}
	fd := fds.ByName(pick(g, kinds))
	switch fd.Name() {
	case "number_value":
		f := g.float64()
		for !g.hostile && (math.IsNaN(f) || math.IsInf(f, 0)) {
			f = g.float64()
		}
		m.Set(fd, protoreflect.ValueOfFloat64(f))
	case "null_value":
		m.Set(fd, protoreflect.ValueOfEnum(0))
	default:
		g.setField(m, fd, depth-1)
	}
}

func (g *generator) fillFieldMask(m protoreflect.Message) {
	paths := m.Mutable(m.Descriptor().Fields().ByName("paths")).List()
	for range g.r.IntN(4) {
		p := pick(g, []string{"a", "route_config.virtual_hosts", "_x", "a1.b_c2", "x.y.z_w"})
		if g.rare(5) {
			p = pick(g, []string{"aB", "a__b", "a_1", "a_", "", "a..b", "1a", "a-b", "a._"})
		}
		paths.Append(protoreflect.ValueOfString(p))
	}
}
