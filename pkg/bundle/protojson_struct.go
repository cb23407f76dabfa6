package bundle

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Reading a field through protoreflect costs a reflect.NewAt of the field
// and, for a message field, a lookup in reflect's cache of pointer types:
// most of the time spent encoding. The messages protoc-gen-go generates
// (the open struct API, which go-control-plane uses) keep each field in a
// struct field of its own, tagged with its number, and each oneof in an
// interface field holding a wrapper struct. appendJSON reads those struct
// fields directly, with package reflect, where the layout is that one; it
// falls back to protoreflect for everything else (maps, fields with
// explicit presence, types laid out otherwise, dynamic messages), so the
// values read are protoreflect's.

// errNoLayout stops the struct path for a message whose oneof holds a
// wrapper it cannot place; the message is then read through protoreflect.
var errNoLayout = errors.New("message layout not understood")

// maxOneofs bounds the oneofs of a message read through its struct.
const maxOneofs = 16

// goLayout is where a generated message type keeps each field.
type goLayout struct {
	goType reflect.Type // *T
	ok     bool         // goType is laid out as expected
	fields []goField    // as messageInfo.fields
	oneofs []*goOneof
}

type goMode uint8

const (
	viaProtoreflect goMode = iota // read with protoreflect
	goScalar                      // a scalar without presence
	goMessage                     // a singular message, *T
	goList                        // a list, []E
	goOneofMember                 // a member of a oneof
)

type goField struct {
	mode  goMode
	index int  // the struct field; a oneof's interface field
	oneof int  // the oneof, for goOneofMember
	first bool // the first member of its oneof in declaration order
}

// goOneof is a oneof's interface field and the wrapper types it has been
// seen to hold, with the number of the field each stands for.
type goOneof struct {
	index int
	od    protoreflect.OneofDescriptor
	mu    sync.Mutex
	cases atomic.Pointer[[]oneofCase]
}

type oneofCase struct {
	wrapper reflect.Type
	number  protoreflect.FieldNumber
}

// layoutOf returns the layout of Go type t (*T) of message mi, nil when t
// is not laid out as protoc-gen-go lays out open structs. A message type
// has one layout: a dynamic message of a generated type is read through
// protoreflect.
func (mi *messageInfo) layoutOf(t reflect.Type) *goLayout {
	l := mi.layout.Load()
	if l == nil || l.goType != t && !l.ok {
		n := newLayout(mi, t)
		if !mi.layout.CompareAndSwap(l, n) {
			n = mi.layout.Load()
		}
		l = n
	}
	if l.goType != t || !l.ok {
		return nil
	}
	return l
}

// newLayout works out the layout of t, one that is not ok when t is not
// what protoc-gen-go makes of mi.
func newLayout(mi *messageInfo, t reflect.Type) *goLayout {
	failed := &goLayout{goType: t}
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || mi.extensible {
		return failed
	}
	st := t.Elem()
	byNumber := map[protoreflect.FieldNumber]int{}
	byOneof := map[string]int{}
	for i := range st.NumField() {
		sf := st.Field(i)
		switch {
		case sf.Tag.Get("protobuf") != "":
			n, ok := tagNumber(sf.Tag.Get("protobuf"))
			if !ok || !sf.IsExported() {
				return failed
			}
			byNumber[n] = i
		case sf.Tag.Get("protobuf_oneof") != "":
			if sf.Type.Kind() != reflect.Interface || !sf.IsExported() {
				return failed
			}
			byOneof[sf.Tag.Get("protobuf_oneof")] = i
		case sf.Name == "state":
			// Only the open struct API keeps fields where they can be
			// read; the opaque and hybrid ones may decode lazily.
			if api := sf.Tag.Get("protogen"); api != "" && api != "open.v1" {
				return failed
			}
		case sf.Name == "sizeCache" || sf.Name == "unknownFields":
		default:
			return failed
		}
	}
	l := &goLayout{goType: t, ok: true, fields: make([]goField, len(mi.fields))}
	slots := map[protoreflect.OneofDescriptor]int{}
	for i := range mi.fields {
		fd := mi.fields[i].fd
		g := &l.fields[i]
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			index, ok := byOneof[string(od.Name())]
			if !ok {
				return failed
			}
			slot, seen := slots[od]
			if !seen {
				slot = len(l.oneofs)
				slots[od] = slot
				l.oneofs = append(l.oneofs, &goOneof{index: index, od: od})
			}
			g.mode, g.index, g.oneof, g.first = goOneofMember, index, slot, !seen
			continue
		}
		index, ok := byNumber[fd.Number()]
		if !ok {
			return failed
		}
		g.index = index
		ft := st.Field(index).Type
		switch {
		case fd.IsMap():
		case fd.IsList():
			if ft.Kind() == reflect.Slice && goTypeFits(ft.Elem(), fd) {
				g.mode = goList
			}
		case fd.Message() != nil:
			if goTypeFits(ft, fd) {
				g.mode = goMessage
			}
		case !fd.HasPresence():
			if goTypeFits(ft, fd) {
				g.mode = goScalar
			}
		}
	}
	if len(l.oneofs) > maxOneofs {
		return failed
	}
	return l
}

// tagNumber is the field number in a protobuf struct tag,
// "bytes,1,opt,name=...".
func tagNumber(tag string) (protoreflect.FieldNumber, bool) {
	_, rest, ok := strings.Cut(tag, ",")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, ",")
	n, err := strconv.ParseInt(num, 10, 32)
	return protoreflect.FieldNumber(n), err == nil && n > 0
}

// goTypeFits reports whether t is the Go type of one value of fd.
func goTypeFits(t reflect.Type, fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return t.Kind() == reflect.Bool
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return t.Kind() == reflect.Int32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return t.Kind() == reflect.Int64
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return t.Kind() == reflect.Uint32
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return t.Kind() == reflect.Uint64
	case protoreflect.FloatKind:
		return t.Kind() == reflect.Float32
	case protoreflect.DoubleKind:
		return t.Kind() == reflect.Float64
	case protoreflect.StringKind:
		return t.Kind() == reflect.String
	case protoreflect.BytesKind:
		return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			return false
		}
		m, ok := reflect.Zero(t).Interface().(proto.Message)
		return ok && m.ProtoReflect().Descriptor() == fd.Message()
	}
	return false
}

// number is the field a wrapper type stands for in the oneof, learnt from
// the wrapper's struct tag the first time it is seen.
func (o *goOneof) number(wrapper reflect.Type) (protoreflect.FieldNumber, bool) {
	if cases := o.cases.Load(); cases != nil {
		for _, c := range *cases {
			if c.wrapper == wrapper {
				return c.number, true
			}
		}
	}
	if wrapper.Kind() != reflect.Pointer || wrapper.Elem().Kind() != reflect.Struct || wrapper.Elem().NumField() != 1 {
		return 0, false
	}
	sf := wrapper.Elem().Field(0)
	n, ok := tagNumber(sf.Tag.Get("protobuf"))
	if !ok || !sf.IsExported() {
		return 0, false
	}
	fd := o.od.Fields().ByNumber(n)
	if fd == nil || !goTypeFits(sf.Type, fd) {
		return 0, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var cases []oneofCase
	if old := o.cases.Load(); old != nil {
		cases = append(cases, *old...)
	}
	cases = append(cases, oneofCase{wrapper, n})
	o.cases.Store(&cases)
	return n, true
}

// plainFields appends the populated fields of m, a message without a JSON
// form of its own, through its struct when it has a known layout.
func (e *jsonEncoder) plainFields(b []byte, m protoreflect.Message, mi *messageInfo, first bool) ([]byte, error) {
	if !mi.extensible {
		pv := reflect.ValueOf(m.Interface())
		if l := mi.layoutOf(pv.Type()); l != nil && !pv.IsNil() {
			start := len(b)
			out, err := e.goFields(b, pv, mi, l, first)
			if err != errNoLayout {
				return out, err
			}
			b = b[:start]
		}
	}
	return e.fields(b, m, mi, first)
}

// goFields is fields for a message read through its struct; pv is the
// non-nil *T.
func (e *jsonEncoder) goFields(b []byte, pv reflect.Value, mi *messageInfo, l *goLayout, first bool) ([]byte, error) {
	sv := pv.Elem()
	var pm protoreflect.Message // for the fields read with protoreflect
	var set [maxOneofs]protoreflect.FieldNumber
	var setValue [maxOneofs]reflect.Value
	var err error
	for i := range mi.fields {
		f, g := &mi.fields[i], &l.fields[i]
		switch g.mode {
		case goScalar:
			fv := sv.Field(g.index)
			if goIsZero(fv, f.value.kind) {
				continue
			}
			b = appendName(b, f, &first)
			b, err = e.goValue(b, fv, &f.value)
		case goMessage:
			fv := sv.Field(g.index)
			if fv.IsNil() {
				continue
			}
			b = appendName(b, f, &first)
			b, err = e.goValue(b, fv, &f.value)
		case goList:
			fv := sv.Field(g.index)
			n := fv.Len()
			if n == 0 {
				continue
			}
			b = appendName(b, f, &first)
			b = append(b, '[')
			for j := range n {
				if j > 0 {
					b = append(b, ',')
				}
				if b, err = e.goValue(b, fv.Index(j), &f.value); err != nil {
					return b, err
				}
			}
			b = append(b, ']')
		case goOneofMember:
			if g.first {
				set[g.oneof] = 0
				if iv := sv.Field(g.index); !iv.IsNil() {
					if w := iv.Elem(); !w.IsNil() {
						n, ok := l.oneofs[g.oneof].number(w.Type())
						if !ok {
							return b, errNoLayout
						}
						set[g.oneof], setValue[g.oneof] = n, w.Elem().Field(0)
					}
				}
			}
			if set[g.oneof] != f.fd.Number() {
				continue
			}
			b = appendName(b, f, &first)
			b, err = e.goValue(b, setValue[g.oneof], &f.value)
		default:
			if pm == nil {
				pm = pv.Interface().(proto.Message).ProtoReflect()
			}
			v := reflectValue(pm, f)
			if !v.IsValid() {
				continue
			}
			b = appendName(b, f, &first)
			b, err = e.fieldValue(b, v, f)
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendName(b []byte, f *fieldInfo, first *bool) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	return append(b, f.name...)
}

// goIsZero is isZero for a struct field.
func goIsZero(v reflect.Value, kind protoreflect.Kind) bool {
	switch kind {
	case protoreflect.BoolKind:
		return !v.Bool()
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int() == 0
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint() == 0
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return math.Float64bits(v.Float()) == 0
	case protoreflect.StringKind, protoreflect.BytesKind:
		return v.Len() == 0
	}
	return false
}

// goValue is singular for a value read from a struct.
func (e *jsonEncoder) goValue(b []byte, v reflect.Value, vi *valueInfo) ([]byte, error) {
	if b, ok, err := appendScalar(b, v, vi); ok {
		return b, err
	}
	switch vi.kind {
	case protoreflect.EnumKind:
		return vi.enum.append(b, protoreflect.EnumNumber(v.Int())), nil
	}
	return e.goMessageValue(b, v, vi)
}

// goMessageValue appends the message pv (*T) points to.
func (e *jsonEncoder) goMessageValue(b []byte, pv reflect.Value, vi *valueInfo) ([]byte, error) {
	md := vi.fd.Message()
	mi := vi.child.Load()
	if mi == nil || mi.desc != md {
		mi = infoOf(md)
		vi.child.Store(mi)
	}
	if !pv.IsNil() {
		switch mi.shape {
		case plainShape:
			if l := mi.layoutOf(pv.Type()); l != nil {
				start := len(b)
				b = append(b, '{')
				out, err := e.goFields(b, pv, mi, l, true)
				if err == nil {
					return append(out, '}'), nil
				}
				if err != errNoLayout {
					return out, err
				}
				b = b[:start]
			}
		case durationShape:
			if d, ok := pv.Interface().(*durationpb.Duration); ok {
				return appendDurationOf(b, d.Seconds, int64(d.Nanos))
			}
		case timestampShape:
			if t, ok := pv.Interface().(*timestamppb.Timestamp); ok {
				return appendTimestampOf(b, t.Seconds, int64(t.Nanos))
			}
		case anyShape:
			if a, ok := pv.Interface().(*anypb.Any); ok {
				return e.appendAnyOf(b, a.TypeUrl, a.Value)
			}
		case wrapperShape:
			if out, ok, err := appendWrapper(b, pv.Interface()); ok {
				return out, err
			}
		}
	}
	// A nil *T is an empty message, as protoreflect has it: {}, "0s"...
	return e.messageOf(b, pv.Interface().(proto.Message).ProtoReflect(), mi)
}

// appendWrapper appends the value a wrapper holds.
func appendWrapper(b []byte, m any) ([]byte, bool, error) {
	switch w := m.(type) {
	case *wrapperspb.StringValue:
		b, err := appendString(b, w.Value)
		if err != nil {
			err = fmt.Errorf("encode google.protobuf.StringValue.value: %w", err)
		}
		return b, true, err
	case *wrapperspb.BytesValue:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, w.Value)
		return append(b, '"'), true, nil
	case *wrapperspb.BoolValue:
		return strconv.AppendBool(b, w.Value), true, nil
	case *wrapperspb.UInt32Value:
		return strconv.AppendUint(b, uint64(w.Value), 10), true, nil
	case *wrapperspb.Int32Value:
		return strconv.AppendInt(b, int64(w.Value), 10), true, nil
	case *wrapperspb.UInt64Value:
		b = append(b, '"')
		b = strconv.AppendUint(b, w.Value, 10)
		return append(b, '"'), true, nil
	case *wrapperspb.Int64Value:
		b = append(b, '"')
		b = strconv.AppendInt(b, w.Value, 10)
		return append(b, '"'), true, nil
	case *wrapperspb.DoubleValue:
		return appendFloat(b, w.Value, 64), true, nil
	case *wrapperspb.FloatValue:
		return appendFloat(b, float64(w.Value), 32), true, nil
	}
	return b, false, nil
}
